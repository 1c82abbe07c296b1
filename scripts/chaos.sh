#!/usr/bin/env bash
# The chaos run (issue 9, Faults): faults under inbound load through the
# whole path (simulated contact → daemon → Postgres → relay → route-message
# → Wasm → queued reply → daemon → contact), with invariants checked at the
# end of every scenario. See docs/reliability.md.
#
#   ./scripts/chaos.sh [--quick] [--write-doc] [all | kill postgres gateway faults storms ...]
#
# Scenarios:
#   kill      SIGKILL a daemon repeatedly (two daemons: the other takes its
#             numbers over through the lease), restarting it each time
#   postgres  stop Postgres during load and start it again
#   gateway   stop the functions gateway (30 s; --quick: 8 s) during load
#   faults    10% of function calls answer 503 (WABOT_GATEWAY_FAULT_RATE)
#   storms    disconnect storms and rate-limit errors from the simulator
#             (scripted on every daemon's line for the number)
#
# Invariants, per scenario (any violation makes the exit status non-zero):
#   - no inbound message lost: every message a contact got acknowledged is
#     stored, exactly once; every pushed message is acknowledged in the end
#     (contacts redeliver with the same WhatsApp id, as WhatsApp does);
#   - every inbound message routed (routed_at set), no reply left queued;
#   - every contact got its reply, except replies flagged uncertain
#     (failed "interrupted: …" or "unknown: …"); a contact that got more than
#     one reply is a duplicate, which must be flagged, at most one per crash;
#   - alerts opened for the right numbers (only the expected keys, and the
#     ones that must open did) and every alert resolved after recovery;
#   - never two daemons holding one number (every daemon's simulator
#     sampled every 250 ms for a connected line).
#
# It starts its own stack on its own ports and stops everything it started:
# Postgres (WABOT_CHAOS_DB_PORT, 56222), the gateway
# (WABOT_CHAOS_GATEWAY_PORT, 56221) and two daemons with the simulator
# transport (WABOT_CHAOS_DAEMON_A_PORT 56280, WABOT_CHAOS_DAEMON_B_PORT
# 56281). State and logs: .local/chaos/ (WABOT_CHAOS_STATE_DIR). --quick (for scripts/test.sh) uses
# a small load and short faults and checks the invariants only; the full run
# prints the figures as Markdown, and --write-doc puts them into
# docs/reliability.md (section "chaos").
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"

STATE_DIR=${WABOT_CHAOS_STATE_DIR:-$REPO_ROOT/.local/chaos}
DB_PORT=${WABOT_CHAOS_DB_PORT:-56222}
GATEWAY_PORT=${WABOT_CHAOS_GATEWAY_PORT:-56221}
DAEMON_A_PORT=${WABOT_CHAOS_DAEMON_A_PORT:-56280}
DAEMON_B_PORT=${WABOT_CHAOS_DAEMON_B_PORT:-56281}
LEASE_SECONDS=${WABOT_CHAOS_LEASE_SECONDS:-6}
ALL_SCENARIOS=(kill postgres gateway faults storms)

quick=false
write_doc=false
scenarios=()
for argument in "$@"; do
  case "$argument" in
    --quick) quick=true ;;
    --write-doc) write_doc=true ;;
    all) scenarios+=("${ALL_SCENARIOS[@]}") ;;
    kill | postgres | gateway | faults | storms) scenarios+=("$argument") ;;
    -h | --help) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$argument\" (scenarios: ${ALL_SCENARIOS[*]}, all; --quick, --write-doc)" ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=("${ALL_SCENARIOS[@]}")

if $quick; then
  N_NUMBERS=${WABOT_CHAOS_NUMBERS:-6}
  RATE=${WABOT_CHAOS_RATE:-5}
  LOAD_SECONDS=${WABOT_CHAOS_LOAD_SECONDS:-12}
  KILLS=2
  GATEWAY_DOWN_SECONDS=8
  POSTGRES_DOWN_SECONDS=2
  STORM_SECONDS=8
else
  N_NUMBERS=${WABOT_CHAOS_NUMBERS:-10}
  RATE=${WABOT_CHAOS_RATE:-20}
  LOAD_SECONDS=${WABOT_CHAOS_LOAD_SECONDS:-60}
  KILLS=6
  GATEWAY_DOWN_SECONDS=30
  POSTGRES_DOWN_SECONDS=5
  STORM_SECONDS=40
fi
STORM_LIMIT_SECONDS=120
KILL_ALERT_LIMIT_SECONDS=60
# How long a contact keeps redelivering an unacknowledged message, and how
# long the backlog and the alerts get to recover after the load.
PATIENCE_SECONDS=180
RECOVERY_LIMIT_SECONDS=240

DAEMON_URLS="http://127.0.0.1:$DAEMON_A_PORT,http://127.0.0.1:$DAEMON_B_PORT"
SEND_LOG="$STATE_DIR/send-log.tsv"
LOAD_TS="$REPO_ROOT/scripts/chaos/load.ts"

sql() {
  PGPASSWORD=postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres "$@"
}

background_pids=()
cleanup() {
  local pid
  for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_service "$STATE_DIR" daemon-a
  stop_service "$STATE_DIR" daemon-b
  stop_service "$STATE_DIR" gateway
  db_stop "$STATE_DIR"
}
trap cleanup EXIT

# --- the stack -----------------------------------------------------------------

for port in "$DB_PORT" "$GATEWAY_PORT" "$DAEMON_A_PORT" "$DAEMON_B_PORT"; do
  port_in_use "$port" && die "port $port is taken; stop what uses it or set WABOT_CHAOS_*_PORT"
done
log "building the daemon"
# --all-targets: the features `cargo test -p session-daemon` resolves (dev-
# dependencies included), so after the test suites this is no rebuild.
cargo build --quiet --locked -p session-daemon --all-targets
rm -rf "$STATE_DIR"
mkdir -p "$STATE_DIR"
WABOT_PG_FSYNC=off db_start "$STATE_DIR" "$DB_PORT"
db_migrate "$DB_PORT"
stack_secrets "$STATE_DIR"
start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"

# Short thresholds, so alerts open and resolve within a scenario.
sql -c "update private.settings set value = '{\"heartbeat_stale_after_ms\": 20000,
          \"disconnected_alert_after_ms\": 20000, \"flap_window_ms\": 30000, \"flap_disconnects\": 3}'
        where key = 'health_thresholds';
        update private.settings set value = '{\"resolve_after_healthy_ms\": 5000,
          \"flapping_resolve_after_healthy_ms\": 10000, \"flap_window_ms\": 60000}'
        where key = 'alert_reconcile';" >/dev/null

# A bot whose fallback answers every message once, and the numbers.
bot_id=$(sql -c "insert into public.bots (name) values ('chaos bot') returning id" | head -1)
sql -v definition="$(cat "$REPO_ROOT/crates/routing/fixtures/demo-bot.json")" -v bot_id="$bot_id" >/dev/null <<'SQL'
insert into public.bot_versions (bot_id, version, definition, status, published_at)
values (:'bot_id', 1, :'definition'::jsonb, 'published', now());
SQL
sql -c "insert into public.numbers (phone_number, label, transport, bot_id)
        select '+1555020' || lpad(i::text, 4, '0'), 'chaos ' || i, 'simulator', '$bot_id'
        from generate_series(1, $N_NUMBERS) as i" >/dev/null
sql -c "select phone_number from public.numbers order by phone_number" >"$STATE_DIR/numbers.txt"

# A daemon ($1 = a or b) with the simulator transport, appending to its log.
start_chaos_daemon() {
  local name=$1 port=$2
  setsid env WABOT_DATABASE_URL="$(db_url "$DB_PORT")" \
    WABOT_FUNCTIONS_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1" \
    WABOT_LISTEN="127.0.0.1:$port" \
    WABOT_INSTANCE_ID="chaos-$name" \
    WABOT_TRANSPORTS=simulator \
    WABOT_SESSION_STORAGE_PATH="$STATE_DIR/sessions-$name" \
    WABOT_LEASE_SECONDS="$LEASE_SECONDS" \
    WABOT_POLL_INTERVAL_MS=500 \
    WABOT_SIMULATOR_SEND_LOG="$SEND_LOG" \
    RUST_LOG=info \
    "$CARGO_TARGET_DIR/debug/wabot" daemon >>"$STATE_DIR/daemon-$name.log" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/daemon-$name.pid"
  disown  # no "Killed" job notices when the kill scenario kills it
  wait_for_http "http://127.0.0.1:$port/status" 60 \
    || { tail -20 "$STATE_DIR/daemon-$name.log" >&2; die "daemon $name did not start"; }
}
kill_chaos_daemon() {
  local pid
  pid=$(cat "$STATE_DIR/daemon-$1.pid")
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
port_of() { if [ "$1" = a ]; then echo "$DAEMON_A_PORT"; else echo "$DAEMON_B_PORT"; fi; }

# Waits until every number is connected under a live lease held by a
# daemon other than $1 (if given).
wait_all_connected() {
  local i not_holder=${1:-nobody}
  for ((i = 0; i < 600; i++)); do
    [ "$(sql -c "select count(*) from public.numbers where session_status = 'connected'
                   and lease_expires_at > now() and lease_holder <> 'chaos-$not_holder'" 2>/dev/null)" = "$N_NUMBERS" ] \
      && return 0
    sleep 0.2
  done
  return 1
}

start_chaos_daemon a "$DAEMON_A_PORT"
start_chaos_daemon b "$DAEMON_B_PORT"
wait_all_connected || die "the numbers did not all connect"
log "stack up: $N_NUMBERS numbers on two daemons ($(sql -c "select string_agg(lease_holder || ' ' || n, ', ')
  from (select lease_holder, count(*) as n from public.numbers group by 1 order by 1) as h"))"

# The health sweep every three seconds (pg_cron's job runs once a minute;
# locally the daemons' relay delivers it to health-check, as in dev.sh).
(
  while true; do
    sql -c "select private.enqueue_health_sweep()" >/dev/null 2>&1 || true
    sleep 3
  done
) &
background_pids+=($!)

# --- the faults ------------------------------------------------------------------

now() { date +%s.%N; }
seconds_since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

crashes=0
must_open=""   # alert keys that must open during the scenario
allowed=""     # alert keys that may open

# Waits until an alert with dedupe key $1 has opened since $started, for at most $2 seconds.
wait_alert_opened() {
  local key=$1 limit=$2 i
  for ((i = 0; i < limit * 2; i++)); do
    [ "$(sql -c "select count(*) > 0 from public.alerts where dedupe_key = '$key'
                 and created_at >= to_timestamp($started)" 2>/dev/null)" = t ] && return 0
    sleep 0.5
  done
  return 1
}

fault_kill() {
  local k victim=a survivor
  sleep 3
  for ((k = 0; k < KILLS; k++)); do
    survivor=$([ "$victim" = a ] && echo b || echo a)
    log "kill: SIGKILL daemon $victim ($((k + 1))/$KILLS)"
    kill_chaos_daemon "$victim"
    crashes=$((crashes + 1))
    # The survivor takes the numbers over when the leases expire.
    wait_all_connected "$victim" || warn "the numbers did not all reconnect after killing daemon $victim"
    # The victim stays down until a health sweep has seen it down and opened
    # its alert (a condition, not a timing: a loaded machine sweeps late),
    # for at most KILL_ALERT_LIMIT_SECONDS; a missing alert is a violation.
    wait_alert_opened "runtime:chaos-$victim:status" "$KILL_ALERT_LIMIT_SECONDS" \
      || warn "no alert opened for daemon $victim within ${KILL_ALERT_LIMIT_SECONDS}s of its kill"
    start_chaos_daemon "$victim" "$(port_of "$victim")"
    sleep 2
    victim=$survivor
  done
  must_open="runtime:chaos-a:status runtime:chaos-b:status"
  allowed="$must_open"
}

fault_postgres() {
  sleep 4
  log "postgres: stopping Postgres for ${POSTGRES_DOWN_SECONDS}s"
  db_stop "$STATE_DIR"
  sleep "$POSTGRES_DOWN_SECONDS"
  WABOT_PG_FSYNC=off db_start "$STATE_DIR" "$DB_PORT"
  # A daemon answering 503 while it reconnects may be probed as degraded.
  allowed="runtime:chaos-a:status runtime:chaos-b:status"
}

fault_gateway() {
  sleep 4
  log "gateway: stopping the functions gateway for ${GATEWAY_DOWN_SECONDS}s"
  stop_service "$STATE_DIR" gateway
  sleep "$GATEWAY_DOWN_SECONDS"
  start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"
}

fault_faults() {
  log "faults: restarting the gateway with WABOT_GATEWAY_FAULT_RATE=0.1"
  stop_service "$STATE_DIR" gateway
  WABOT_GATEWAY_FAULT_RATE=0.1 start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"
  sleep "$LOAD_SECONDS"
  grep -c ' 503 ' "$STATE_DIR/gateway.log" >"$STATE_DIR/faults-503.txt" || true
  log "faults: $(cat "$STATE_DIR/faults-503.txt") function calls answered 503; restarting the gateway without faults"
  cp "$STATE_DIR/gateway.log" "$STATE_DIR/gateway-faults.log"
  stop_service "$STATE_DIR" gateway
  start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"
}

# POSTs to whichever daemon holds the number's line.
simulator_post() {
  local phone=$1 path=$2 body=$3 url
  for url in ${DAEMON_URLS//,/ }; do
    if curl -sf -o /dev/null -X POST "$url/simulator/numbers/$phone/$path" \
      -H "Authorization: Bearer $WABOT_DAEMON_TOKEN" -H 'content-type: application/json' -d "$body"; then
      return 0
    fi
  done
  return 1
}
# POSTs to every daemon that knows the number's line. A script must reach
# the line of the daemon that holds the number: a daemon that held it once
# keeps an idle line for it, which accepts a script too, so posting to the
# first daemon that answers could script a line that never sends.
simulator_post_all() {
  local phone=$1 path=$2 body=$3 url posted=1
  for url in ${DAEMON_URLS//,/ }; do
    if curl -sf -o /dev/null -X POST "$url/simulator/numbers/$phone/$path" \
      -H "Authorization: Bearer $WABOT_DAEMON_TOKEN" -H 'content-type: application/json' -d "$body"; then
      posted=0
    fi
  done
  return "$posted"
}
line_connected() {
  local url
  for url in ${DAEMON_URLS//,/ }; do
    curl -sf "$url/simulator/numbers/$1" 2>/dev/null | grep -q '"connected":true' && return 0
  done
  return 1
}

fault_storms() {
  local flappers=() limited=() phone deadline min_deadline disconnects=0 rounds=0
  mapfile -t flappers < <(sed -n '1,2p' "$STATE_DIR/numbers.txt")
  mapfile -t limited < <(sed -n '3,4p' "$STATE_DIR/numbers.txt")
  must_open=""
  for phone in "${flappers[@]}" "${limited[@]}"; do
    must_open+="number:$(sql -c "select id from public.numbers where phone_number = '$phone'"):session "
  done
  allowed="$must_open runtime:chaos-a:status runtime:chaos-b:status"
  sleep 2
  log "storms: rate-limit errors on ${limited[*]}, disconnect storms on ${flappers[*]}"
  for phone in "${limited[@]}"; do
    simulator_post_all "$phone" script '{"rate_limit_sends": 1, "rate_limit_retry_after_ms": 8000}' \
      || warn "could not script $phone"
  done
  # Storm for STORM_SECONDS at least, and on until every alert the scenario
  # expects has opened (a condition, not a timing: a loaded machine is slow
  # to reconnect), for at most STORM_LIMIT_SECONDS.
  min_deadline=$(($(date +%s) + STORM_SECONDS))
  deadline=$(($(date +%s) + STORM_LIMIT_SECONDS))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(date +%s)" -ge "$min_deadline" ] && [ $((rounds % 4)) = 0 ] \
      && [ "$(expected_alerts_opened "$started")" = "$(wc -w <<<"$must_open")" ]; then
      break
    fi
    rounds=$((rounds + 1))
    for phone in "${flappers[@]}"; do
      if line_connected "$phone" && simulator_post "$phone" events \
        '{"kind": "disconnected", "reason": "chaos storm", "code": "515"}'; then
        disconnects=$((disconnects + 1))
      fi
    done
    sleep 0.5
  done
  echo "$disconnects" >"$STATE_DIR/storm-disconnects.txt"
  log "storms: $disconnects disconnects"
  for phone in "${limited[@]}"; do simulator_post_all "$phone" script '{"rate_limit_sends": 0}' || true; done
}

# How many of the keys in $must_open have an alert opened since $1 (epoch s).
expected_alerts_opened() {
  local keys
  # shellcheck disable=SC2086 # one key per word
  keys=$(printf "'%s'," $must_open)
  sql -c "select count(distinct dedupe_key) from public.alerts
          where created_at >= to_timestamp($1) and dedupe_key in (${keys%,})" 2>/dev/null || echo 0
}

# --- one scenario ------------------------------------------------------------------

sql -c "create schema chaos;
        create table chaos.acked (scenario text, message_id text, number text, contact text,
                                  attempts int, ack_ms int, duplicate boolean);
        create table chaos.deliveries (number text, contact_wa_id text, wa_message_id text, body text);" >/dev/null

results="$STATE_DIR/results.tsv"
: >"$results"
violations=()
violation() { violations+=("$1: $2"); printf '\033[31mVIOLATION\033[0m %s: %s\n' "$1" "$2" >&2; }

run_scenario() {
  local name=$1 label=$2 dir="$STATE_DIR/$1" started fault_ended load_pid watch_pid i
  mkdir -p "$dir"
  crashes=0 must_open="" allowed=""
  log "scenario $name: $RATE messages/s for ${LOAD_SECONDS}s over $N_NUMBERS numbers"
  started=$(now)
  deno run --quiet --allow-net --allow-read --allow-write "$LOAD_TS" watch "$DAEMON_URLS" \
    "$STATE_DIR/numbers.txt" "$dir" &
  watch_pid=$!
  background_pids+=("$watch_pid")
  deno run --quiet --allow-net --allow-read --allow-write "$LOAD_TS" load "$DAEMON_URLS" "$WABOT_DAEMON_TOKEN" \
    "$STATE_DIR/numbers.txt" "$dir" "$label" "$RATE" "$LOAD_SECONDS" "$PATIENCE_SECONDS" >"$dir/load.json" &
  load_pid=$!
  "fault_$name"
  fault_ended=$(now)
  wait "$load_pid" || violation "$name" "the load generator failed"
  log "scenario $name: load done: $(cat "$dir/load.json")"

  # Recovery: every acknowledged message routed and every reply out.
  local pending recovery_seconds="" contacts="1778$label%"
  for ((i = 0; i < RECOVERY_LIMIT_SECONDS * 2; i++)); do
    pending=$(sql -c "select (select count(*) from public.messages where direction = 'inbound'
                                and wa_message_id like 'CHAOS-$label-%' and routed_at is null)
                           + (select count(*) from public.messages where direction = 'outbound'
                                and contact_wa_id like '$contacts' and status in ('queued', 'sending'))" \
      2>/dev/null || echo unknown)
    if [ "$pending" = 0 ]; then recovery_seconds=$(seconds_since "$fault_ended"); break; fi
    sleep 0.5
  done
  [ -n "$recovery_seconds" ] || violation "$name" "the backlog did not drain within ${RECOVERY_LIMIT_SECONDS}s ($pending left)"

  # Alerts: every alert resolved (sweeps keep running).
  local alerts_seconds=""
  for ((i = 0; i < RECOVERY_LIMIT_SECONDS; i++)); do
    if [ "$(sql -c "select count(*) from public.alerts where status <> 'resolved'")" = 0 ]; then
      alerts_seconds=$(seconds_since "$fault_ended")
      break
    fi
    sleep 1
  done
  kill "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true

  # --- the invariants ---
  sql -c "\\copy chaos.acked (message_id, number, contact, attempts, ack_ms, duplicate) from '$dir/acked.tsv'" >/dev/null
  sql -c "update chaos.acked set scenario = '$name' where scenario is null" >/dev/null
  sql -c "truncate chaos.deliveries" -c "\\copy chaos.deliveries from '$SEND_LOG'" >/dev/null
  local row
  row=$(sql -F $'\t' -c "
    with acked as (select * from chaos.acked where scenario = '$name'),
    stored as (
      select wa_message_id, count(*) as n, bool_and(routed_at is not null) as routed
      from public.messages where direction = 'inbound' and wa_message_id like 'CHAOS-$label-%' group by 1),
    replies as (
      select contact_wa_id,
             count(*) filter (where status in ('queued', 'sending')) as pending,
             count(*) filter (where status = 'failed' and (error like 'interrupted:%' or error like 'unknown:%')) as uncertain,
             count(*) filter (where status = 'failed' and not (error like 'interrupted:%' or error like 'unknown:%')) as failed
      from public.messages where direction = 'outbound' and contact_wa_id like '$contacts' group by 1),
    delivered as (
      select contact_wa_id, count(*) as n from chaos.deliveries where contact_wa_id like '$contacts' group by 1),
    per_contact as (
      select a.message_id, coalesce(d.n, 0) as delivered, coalesce(r.uncertain, 0) as uncertain,
             coalesce(r.failed, 0) as failed, coalesce(r.pending, 0) as pending
      from acked as a
      left join delivered as d on d.contact_wa_id = substr(a.contact, 2)
      left join replies as r on r.contact_wa_id = substr(a.contact, 2))
    select
      (select count(*) from acked),
      (select count(*) from acked as a where not exists (select 1 from stored as s where s.wa_message_id = a.message_id)),
      (select count(*) from stored where n > 1),
      (select count(*) from stored where not routed),
      (select coalesce(sum(greatest(delivered - 1, 0)), 0) from per_contact),
      (select count(*) from per_contact where delivered > 1 and uncertain = 0),
      (select coalesce(sum(uncertain), 0) from per_contact),
      (select count(*) from per_contact where delivered = 0 and uncertain = 0),
      (select coalesce(sum(failed), 0) from per_contact),
      (select coalesce(sum(pending), 0) from per_contact),
      (select count(*) from stored)")
  local acked lost stored_twice unrouted duplicates unflagged uncertain missing failed pending_replies stored
  IFS=$'\t' read -r acked lost stored_twice unrouted duplicates unflagged uncertain missing failed pending_replies stored <<<"$row"
  local pushed gave_up
  pushed=$(sed -n 's/.*"pushed":\([0-9]*\).*/\1/p' "$dir/load.json")
  gave_up=$(sed -n 's/.*"gave_up":\([0-9]*\).*/\1/p' "$dir/load.json")

  [ "${gave_up:-1}" = 0 ] || violation "$name" "$gave_up pushed messages were never acknowledged"
  [ "$lost" = 0 ] || violation "$name" "$lost acknowledged messages are not stored (lost)"
  [ "$stored_twice" = 0 ] || violation "$name" "$stored_twice messages stored more than once"
  [ "$unrouted" = 0 ] || violation "$name" "$unrouted inbound messages not routed"
  [ "$pending_replies" = 0 ] || violation "$name" "$pending_replies replies still queued or sending"
  [ "$missing" = 0 ] || violation "$name" "$missing contacts never got a reply and none was flagged uncertain"
  [ "$failed" = 0 ] || violation "$name" "$failed replies failed for good"
  [ "$unflagged" = 0 ] || violation "$name" "$unflagged contacts got duplicate replies with no send flagged uncertain"
  [ "$duplicates" -le "$crashes" ] || violation "$name" "$duplicates duplicate replies for $crashes crashes"

  # Alerts of this scenario: only expected keys, the required ones opened, all resolved.
  local opened resolved key opened_keys
  opened_keys=$(sql -c "select distinct dedupe_key from public.alerts where created_at >= to_timestamp($started) order by 1")
  opened=$(sql -c "select count(*) from public.alerts where created_at >= to_timestamp($started)")
  resolved=$(sql -c "select count(*) from public.alerts where created_at >= to_timestamp($started) and status = 'resolved'")
  for key in $opened_keys; do
    [[ " $allowed " == *" $key "* ]] || violation "$name" "alert opened for an unexpected subject: $key"
  done
  for key in $must_open; do
    if [[ $'\n'"$opened_keys"$'\n' != *$'\n'"$key"$'\n'* ]]; then
      violation "$name" "no alert opened for $key"
      if [[ $key == number:* ]]; then
        key=${key#number:}
        warn "its timeline: $(sql -c "select string_agg(event || coalesce(' (' || reason || ')', ''), ', ' order by id)
          from public.number_connection_events where number_id = '${key%:session}'
          and occurred_at >= to_timestamp($started) and event <> 'heartbeat'")"
      fi
    fi
  done
  [ -n "$alerts_seconds" ] || violation "$name" "alerts still open ${RECOVERY_LIMIT_SECONDS}s after the fault: \
$(sql -c "select string_agg(dedupe_key || ' (' || kind || ')', ', ') from public.alerts where status <> 'resolved'")"

  local overlaps samples
  overlaps=0
  if [ -f "$dir/overlaps.tsv" ]; then overlaps=$(wc -l <"$dir/overlaps.tsv"); fi
  samples=$(cat "$dir/samples.txt" 2>/dev/null || echo 0)
  [ "$overlaps" = 0 ] || violation "$name" "$overlaps samples saw two daemons holding one number: $(head -3 "$dir/overlaps.tsv")"
  [ "$samples" -gt 0 ] || violation "$name" "the lease watcher took no sample"

  local detail=""
  case "$name" in
    kill) detail="$crashes SIGKILLs" ;;
    postgres) detail="Postgres down ${POSTGRES_DOWN_SECONDS}s" ;;
    gateway) detail="gateway down ${GATEWAY_DOWN_SECONDS}s" ;;
    faults) detail="$(cat "$STATE_DIR/faults-503.txt" 2>/dev/null || echo '?') calls answered 503" ;;
    storms) detail="$(cat "$STATE_DIR/storm-disconnects.txt" 2>/dev/null || echo '?') disconnects on 2 numbers; a rate-limit error (naming 8 s, paused 1 min by the pacing policy) on each of 2 others" ;;
  esac
  local redelivered
  redelivered=$(sed -n 's/.*"redelivered":\([0-9]*\).*/\1/p' "$dir/load.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$detail" "$pushed" "$acked" \
    "$redelivered" "$lost" "$duplicates" "$uncertain" "$opened" "$resolved" "$overlaps/$samples" \
    "${recovery_seconds:-—}" "${alerts_seconds:-—}" "$stored" >>"$results"
  log "scenario $name: pushed $pushed, acknowledged $acked ($redelivered redelivered), lost $lost, duplicates $duplicates \
(uncertain $uncertain, crashes $crashes), alerts $opened opened / $resolved resolved ($opened_keys), \
overlaps $overlaps in $samples samples, backlog drained ${recovery_seconds:-never}s and alerts resolved \
${alerts_seconds:-never}s after the fault"
}

label=1
for scenario in "${scenarios[@]}"; do
  run_scenario "$scenario" "$label"
  label=$((label + 1))
done

# --- the report ------------------------------------------------------------------

report="$STATE_DIR/report.md"
{
  echo "Run on $(date -u +%Y-%m-%d) ($(date -u +%H:%M) UTC): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"
  echo "$(nproc) CPUs, shared with other work; debug build of the daemon; Postgres 15 on the same machine (fsync off)."
  echo
  echo "Command: \`./scripts/chaos.sh$($quick && echo ' --quick') ${scenarios[*]}\`. Load per scenario: $RATE messages/s"
  echo "for ${LOAD_SECONDS}s from simulated contacts (one contact per message) to $N_NUMBERS numbers on two daemons"
  echo "(lease ${LEASE_SECONDS}s), health sweep every 3 s, alert thresholds shortened in \`private.settings\`."
  echo
  echo "| scenario | fault | pushed | acknowledged | redelivered by contacts | lost | duplicate replies | flagged uncertain | alerts opened | alerts resolved | lease overlaps / samples | backlog drained (s after fault) | alerts resolved (s after fault) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  while IFS=$'\t' read -r name detail pushed acked redelivered lost duplicates uncertain opened resolved overlaps recovery alerts_s _stored; do
    echo "| $name | $detail | $pushed | $acked | $redelivered | **$lost** | $duplicates | $uncertain | $opened | $resolved | $overlaps | $recovery | $alerts_s |"
  done <"$results"
  echo
  if [ ${#violations[@]} -eq 0 ]; then
    echo "Every invariant held."
  else
    echo "Violations:"
    printf -- '- %s\n' "${violations[@]}"
  fi
} >"$report"
echo
cat "$report"
if $write_doc; then
  deno run --quiet --allow-read --allow-write "$REPO_ROOT/scripts/bench/section.ts" \
    "$REPO_ROOT/docs/reliability.md" chaos "$report"
fi
if [ ${#violations[@]} -gt 0 ]; then
  printf '\033[31m%d invariant violation(s)\033[0m\n' "${#violations[@]}" >&2
  exit 1
fi
log "every invariant held"
