#!/usr/bin/env bash
# Benchmarks the session daemon (its own command, not part of CI):
#
#   1. Memory (RSS) and idle CPU of one daemon holding 0, 1,000 and 10,000
#      simulated sessions: the overhead per session is the RSS above the
#      empty daemon's, divided by the sessions; idle CPU is measured over a
#      minute with nothing to do but heartbeats, lease renewals, the
#      watchdog and polling.
#   2. Messages per second through one daemon holding 1,000 simulated
#      numbers: a burst of queued outbound messages (claimed, paced,
#      started, sent and recorded), and inbound messages posted by simulated
#      contacts (stored with their outbox rows).
#   3. The send latency the daemon adds: messages queued one at a time at a
#      steady rate, from their insert (NOTIFY) to `sent_at`.
#
# It uses a Postgres cluster of its own (port WABOT_BENCH_DB_PORT, 59522 by
# default) and the release build. Results go to .local/bench-daemon/ and
# are printed as a Markdown table for docs/benchmarks.md. Takes ten minutes
# or so; run it on a quiet machine.
#
#   ./scripts/bench/daemon.sh
#   WABOT_BENCH_SIZES="1000" ./scripts/bench/daemon.sh   (skip the 10,000 run)
source "$(dirname "$0")/../lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"

work="$REPO_ROOT/.local/bench-daemon"
DB_PORT=${WABOT_BENCH_DB_PORT:-59522}
DAEMON_PORT=${WABOT_BENCH_DAEMON_PORT:-59580}
SIZES=${WABOT_BENCH_SIZES:-"1000 10000"}
IDLE_SECONDS=${WABOT_BENCH_IDLE_SECONDS:-60}
BURST=${WABOT_BENCH_BURST:-20000}
INBOUND=${WABOT_BENCH_INBOUND:-5000}
TOKEN="bench-token-0123456789abcdef"
DAEMON_URL="http://127.0.0.1:$DAEMON_PORT"
mkdir -p "$work"
results="$work/results.tsv"
: >"$results"

daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
  db_stop "$work"
}
trap cleanup EXIT

sql() {
  PGPASSWORD=postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres -c "$1"
}
record() { printf '%s\t%s\n' "$1" "$2" >>"$results"; log "$1: $2"; }

log "building the release daemon"
cargo build --release --locked --quiet -p session-daemon
WABOT="$CARGO_TARGET_DIR/release/wabot"

rm -rf "$work/pgdata"
WABOT_PG_FSYNC=off db_start "$work" "$DB_PORT"
db_migrate "$DB_PORT"

set_numbers() {
  sql "delete from public.messages; delete from public.numbers; delete from public.outbox;
       delete from public.runtime_instances;"
  if [ "$1" -gt 0 ]; then
    sql "insert into public.numbers (phone_number, label, transport)
         select '+1700' || lpad(i::text, 7, '0'), 'bench', 'simulator' from generate_series(1, $1) as i"
  fi
}

start_daemon() {
  env WABOT_DATABASE_URL="$(db_url "$DB_PORT")" \
    WABOT_LISTEN="127.0.0.1:$DAEMON_PORT" \
    WABOT_DAEMON_TOKEN="$TOKEN" \
    WABOT_RELAY=off \
    WABOT_TRANSPORTS=simulator \
    WABOT_INSTANCE_ID="bench-daemon" \
    WABOT_SESSION_STORAGE_PATH="$work/sessions" \
    RUST_LOG=warn \
    "$WABOT" daemon >"$work/daemon-$1.log" 2>&1 &
  daemon_pid=$!
  wait_for_http "$DAEMON_URL/status" 60 || die "the daemon did not start; see $work/daemon-$1.log"
}

stop_daemon() {
  local started i
  started=$(date +%s.%N)
  kill -TERM "$daemon_pid"
  for ((i = 0; i < 600; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
  echo "$(date +%s.%N) - $started" | bc
  daemon_pid=""
}

connected_sessions() {
  curl -s "$DAEMON_URL/status" | sed -n 's/.*"connected":\([0-9]*\).*/\1/p'
}

wait_connected() {
  local n=$1 i
  for ((i = 0; i < 3000; i++)); do
    [ "$(connected_sessions)" = "$n" ] && return 0
    sleep 0.2
  done
  die "only $(connected_sessions) of $n sessions connected"
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# --- 1. memory and idle CPU -------------------------------------------------
for size in 0 $SIZES; do
  log "memory and idle CPU with $size sessions"
  set_numbers "$size"
  started=$(date +%s.%N)
  start_daemon "$size"
  wait_connected "$size"
  record "startup_seconds_$size" "$(echo "$(date +%s.%N) - $started" | bc)"
  sleep 15
  ticks_before=$(cpu_ticks)
  sleep "$IDLE_SECONDS"
  ticks_after=$(cpu_ticks)
  record "rss_kib_$size" "$(rss_kib)"
  record "idle_cpu_percent_$size" "$(echo "scale=2; ($ticks_after - $ticks_before) * 100 / $CLK_TCK / $IDLE_SECONDS" | bc)"
  record "shutdown_seconds_$size" "$(stop_daemon)"
done

# --- 2. throughput and 3. latency, with 1,000 sessions ----------------------
log "throughput with 1,000 sessions"
set_numbers 1000
start_daemon throughput
wait_connected 1000
sleep 5
sql "select phone_number from public.numbers order by phone_number" >"$work/numbers.txt"

# Steady: one message every 20 ms, each in its own transaction; created_at
# is the insert's own clock time, so the latency is insert to sent_at.
sql "do \$\$
     declare number_ids uuid[] := array(select id from public.numbers order by phone_number);
     begin
       for i in 1..300 loop
         insert into public.messages (number_id, direction, status, contact_wa_id, body, created_at)
         values (number_ids[1 + i % 1000], 'outbound', 'queued', '1666' || lpad(i::text, 7, '0'), 'steady ' || i,
                 clock_timestamp());
         commit;
         perform pg_sleep(0.02);
       end loop;
     end \$\$;"
for ((i = 0; i < 300; i++)); do
  [ "$(sql "select count(*) from public.messages where body like 'steady %' and status = 'sent'")" = 300 ] && break
  sleep 0.2
done
record "steady_latency_ms_p50_p95_p99" "$(sql "select string_agg(round(v::numeric, 1)::text, ' / ') from (select unnest(array[
    percentile_cont(0.5) within group (order by extract(epoch from sent_at - created_at) * 1000),
    percentile_cont(0.95) within group (order by extract(epoch from sent_at - created_at) * 1000),
    percentile_cont(0.99) within group (order by extract(epoch from sent_at - created_at) * 1000)]) as v
  from public.messages where body like 'steady %') as p")"

# Burst: BURST messages queued at once, spread over the 1,000 numbers.
ticks_before=$(cpu_ticks)
sql "insert into public.messages (number_id, direction, status, contact_wa_id, body)
     select n.id, 'outbound', 'queued', '1555' || lpad(i::text, 7, '0'), 'burst ' || i
     from generate_series(1, $BURST) as i
     join (select id, row_number() over (order by phone_number) - 1 as k from public.numbers) as n
       on n.k = i % 1000"
for ((i = 0; i < 6000; i++)); do
  [ "$(sql "select count(*) from public.messages where body like 'burst %' and status = 'sent'")" = "$BURST" ] && break
  sleep 0.5
done
ticks_after=$(cpu_ticks)
record "burst_messages" "$BURST"
record "burst_seconds" "$(sql "select round(extract(epoch from max(sent_at) - min(created_at))::numeric, 2)
                               from public.messages where body like 'burst %'")"
record "burst_messages_per_second" "$(sql "select round(($BURST / extract(epoch from max(sent_at) - min(created_at)))::numeric, 0)
                                           from public.messages where body like 'burst %'")"
record "burst_daemon_cpu_seconds" "$(echo "scale=2; ($ticks_after - $ticks_before) / $CLK_TCK" | bc)"

# Inbound: simulated contacts write; each request returns after the commit.
record "inbound" "$(deno run --quiet --allow-net --allow-read "$REPO_ROOT/scripts/bench/daemon-inbound.ts" \
  "$DAEMON_URL" "$TOKEN" "$work/numbers.txt" "$INBOUND" 32)"
curl -s "$DAEMON_URL/metrics" >"$work/metrics.txt"
record "transport_send_latency" "$(grep -E '^wabot_send_latency_seconds_(sum|count)' "$work/metrics.txt" | tr '\n' ' ')"
stop_daemon >/dev/null

echo
log "results ($results)"
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Machine: $cpu_model, $(nproc) CPUs; release build; Postgres 15 on the same machine (fsync off)."
echo
echo "| measure | value |"
echo "|---|---|"
while IFS=$'\t' read -r name value; do echo "| $name | $value |"; done <"$results"
rss0=$(awk -F'\t' '$1 == "rss_kib_0" {print $2}' "$results")
for size in $SIZES; do
  rss=$(awk -F'\t' -v key="rss_kib_$size" '$1 == key {print $2}' "$results")
  echo "| overhead_per_session_kib_$size | $(echo "scale=1; ($rss - $rss0) / $size" | bc) |"
done
