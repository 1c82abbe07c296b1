#!/usr/bin/env bash
# The load benchmark (issue 9, "Load"): simulated contacts push inbound
# messages through the whole path and every reply is checked.
#
#   simulated contact -> daemon (POST /simulator/inbound) -> Postgres (the
#   message and its outbox row, one transaction) -> the daemon's outbox relay
#   -> route-message through the functions gateway -> Rust routing in Wasm ->
#   queued reply -> daemon sends it -> simulated contact (the send log)
#
# It starts a private stack of its own (Postgres, gateway, release daemon
# with the simulator transport) on ports 56122, 56121 and 56180 unless
# WABOT_LOAD_DB_PORT, WABOT_LOAD_GATEWAY_PORT and WABOT_LOAD_DAEMON_PORT say
# otherwise, and stops all of it on exit. Three phases:
#
#   1. Baseline: the machine's raw limit, pgbench running a single-row insert
#      plus pg_notify (one statement, autocommit) with the same concurrency
#      on the same Postgres, while the stack idles.
#   2. Throughput: WABOT_LOAD_MESSAGES (10,000) messages from
#      WABOT_LOAD_CONTACTS (2,000) contacts to WABOT_LOAD_NUMBERS (50)
#      numbers, WABOT_LOAD_CONCURRENCY (32) requests in flight: messages per
#      second from the first inbound stored to the last reply sent.
#   3. Steady: WABOT_LOAD_STEADY (2,000) more messages at a fixed rate,
#      WABOT_LOAD_STEADY_RATE a second (default: half of phase 2's
#      throughput), for the latency without a growing backlog.
#
# Latency is `sent_at` of the reply minus `created_at` of the inbound, both
# stamped by the same Postgres server clock with now(): `created_at` is the
# start of the daemon's storing transaction (it commits a statement or two
# later), `sent_at` the start of the autocommit update that marks the reply
# sent. See docs/benchmarks.md for what this includes.
#
# At the end it checks every message of both phases: stored exactly once,
# routed, exactly one reply sent and delivered to the simulated contact
# once (the simulator's send log). It exits non-zero if anything is lost or
# duplicated; the latency and throughput targets are reported, not asserted.
#
#   ./scripts/bench/load.sh           full run, rewrites the "load" section of docs/benchmarks.md
#   ./scripts/bench/load.sh --quick   500 messages over 10 numbers, checks only (CI)
#   ./scripts/bench/load.sh --profile --no-docs
#                                     statements.txt (the throughput phase's
#                                     statements by Postgres time, always
#                                     written) includes those run inside
#                                     functions and triggers
source "$(dirname "$0")/../lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"

QUICK=0
WRITE_DOCS=1
STATEMENTS=0
for argument in "$@"; do
  case "$argument" in
    --quick) QUICK=1 WRITE_DOCS=0 ;;
    --no-docs) WRITE_DOCS=0 ;;
    --profile) STATEMENTS=1 ;;
    *) die "unknown argument $argument (expected --quick, --no-docs or --profile)" ;;
  esac
done

DB_PORT=${WABOT_LOAD_DB_PORT:-56122}
GATEWAY_PORT=${WABOT_LOAD_GATEWAY_PORT:-56121}
DAEMON_PORT=${WABOT_LOAD_DAEMON_PORT:-56180}
if [ "$QUICK" = 1 ]; then
  work="$REPO_ROOT/.local/bench-load-quick"
  MESSAGES=${WABOT_LOAD_MESSAGES:-500}
  STEADY=${WABOT_LOAD_STEADY:-100}
  NUMBERS=${WABOT_LOAD_NUMBERS:-10}
  CONTACTS=${WABOT_LOAD_CONTACTS:-100}
  CONCURRENCY=${WABOT_LOAD_CONCURRENCY:-16}
  BASELINE_SECONDS=${WABOT_LOAD_BASELINE_SECONDS:-3}
  PROFILE=${WABOT_LOAD_PROFILE:-debug}
else
  work="$REPO_ROOT/.local/bench-load"
  MESSAGES=${WABOT_LOAD_MESSAGES:-10000}
  STEADY=${WABOT_LOAD_STEADY:-2000}
  NUMBERS=${WABOT_LOAD_NUMBERS:-50}
  CONTACTS=${WABOT_LOAD_CONTACTS:-2000}
  CONCURRENCY=${WABOT_LOAD_CONCURRENCY:-32}
  BASELINE_SECONDS=${WABOT_LOAD_BASELINE_SECONDS:-15}
  PROFILE=${WABOT_LOAD_PROFILE:-release}
fi
STEADY_RATE=${WABOT_LOAD_STEADY_RATE:-}
# How long the replies may stop progressing before the run gives up waiting.
STALL_SECONDS=${WABOT_LOAD_STALL_SECONDS:-60}
DAEMON_URL="http://127.0.0.1:$DAEMON_PORT"
TOTAL=$((MESSAGES + STEADY))

cleanup() {
  stop_service "$work" daemon
  stop_service "$work" gateway
  db_stop "$work"
}
trap cleanup EXIT

sql() {
  PGPASSWORD=postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres "$@"
}

# --- the private stack --------------------------------------------------------
if [ "${WABOT_LOAD_SKIP_BUILD:-0}" = 1 ]; then
  log "using the $PROFILE daemon as built"
elif [ "$PROFILE" = release ]; then
  log "building the release daemon"
  cargo build --release --locked --quiet -p session-daemon
else
  log "building the daemon"
  # --all-targets: the features `cargo test -p session-daemon` resolves (dev-
  # dependencies included), so after the test suites this is no rebuild.
  cargo build --locked --quiet -p session-daemon --all-targets
fi
WABOT="${WABOT_LOAD_DAEMON:-$CARGO_TARGET_DIR/$PROFILE/wabot}"

cleanup
rm -rf "$work"
mkdir -p "$work"
if [ "$STATEMENTS" = 1 ]; then export WABOT_PG_TRACK_STATEMENTS=all; fi
WABOT_PG_FSYNC=${WABOT_PG_FSYNC:-off} db_start "$work" "$DB_PORT"
db_migrate "$DB_PORT"
stack_secrets "$work"

log "seeding $NUMBERS simulated numbers serving a published bot"
sql -v numbers="$NUMBERS" <<'SQL' >/dev/null
with bot as (
  insert into public.bots (name) values ('load benchmark bot') returning id
), version as (
  insert into public.bot_versions (bot_id, version, definition, status, published_at)
  select id, 1, '{
    "format": 1,
    "name": "Load benchmark bot",
    "triggers": [{ "match": "keyword", "value": "load", "start": "ack", "priority": 10 }],
    "nodes": [
      { "id": "ack", "type": "message", "text": "Thanks {{contact.name|there}}, we got your message.", "next": "done" },
      { "id": "done", "type": "end" }
    ],
    "fallback": "Sorry, I did not get that."
  }'::jsonb, 'published', now()
  from bot
  returning bot_id
)
insert into public.numbers (phone_number, label, transport, bot_id)
select '+1700' || lpad(i::text, 7, '0'), 'load benchmark', 'simulator', (select bot_id from version)
from generate_series(1, :numbers) as i;
SQL
sql -c "select phone_number from public.numbers order by phone_number" >"$work/numbers.txt"

start_gateway "$work" "$GATEWAY_PORT" "$DB_PORT"
log "starting the $PROFILE daemon on 127.0.0.1:$DAEMON_PORT (simulator transport, relay on)"
if port_in_use "$DAEMON_PORT"; then die "port $DAEMON_PORT (session daemon) is taken by another program"; fi
start_service "$work" daemon env \
  WABOT_DATABASE_URL="$(db_url "$DB_PORT")" \
  WABOT_FUNCTIONS_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1" \
  WABOT_LISTEN="127.0.0.1:$DAEMON_PORT" \
  WABOT_TRANSPORTS=simulator \
  WABOT_INSTANCE_ID=load-bench \
  WABOT_SESSION_STORAGE_PATH="$work/sessions" \
  WABOT_SIMULATOR_SEND_LOG="$work/send-log.tsv" \
  RUST_LOG=warn \
  "$WABOT" daemon
wait_for_http "$DAEMON_URL/status" 60 || { tail -20 "$work/daemon.log" >&2; die "the daemon did not start"; }
for ((i = 0; i < 600; i++)); do
  connected=$(curl -s "$DAEMON_URL/status" | sed -n 's/.*"connected":\([0-9]*\).*/\1/p')
  [ "$connected" = "$NUMBERS" ] && break
  sleep 0.1
done
[ "$connected" = "$NUMBERS" ] || die "only ${connected:-0} of $NUMBERS simulated numbers connected"

# One message through the whole path warms the gateway's isolate, the Wasm
# module and the connection pools; it is not counted.
deno run --quiet --allow-net --allow-read "$REPO_ROOT/scripts/bench/load.ts" "$DAEMON_URL" \
  "$WABOT_DAEMON_TOKEN" "$work/numbers.txt" --contacts "$CONTACTS" --first 0 --count "$NUMBERS" \
  --tag warm --concurrency 4 >/dev/null
for ((i = 0; i < 300; i++)); do
  [ "$(sql -c "select count(*) from public.messages where direction = 'outbound' and sent_at is not null")" -ge "$NUMBERS" ] && break
  sleep 0.1
done

# --- 1. baseline: single-row insert plus notify ----------------------------------
log "baseline: pgbench, insert + pg_notify, $CONCURRENCY clients for $BASELINE_SECONDS s"
sql -c "create schema load_baseline;
        create table load_baseline.events (
            id bigint generated always as identity primary key,
            body text not null,
            created_at timestamptz not null default now())" >/dev/null
cat >"$work/baseline.sql" <<'SQL'
\set n random(1, 1000000000)
with event as (insert into load_baseline.events (body) values ('baseline ' || :n) returning id)
select pg_notify('load_baseline', id::text) from event;
SQL
PGPASSWORD=postgres pgbench -n -h 127.0.0.1 -p "$DB_PORT" -U postgres -M prepared \
  -c "$CONCURRENCY" -j 2 -T "$BASELINE_SECONDS" -f "$work/baseline.sql" postgres >"$work/baseline.txt" 2>&1 \
  || { cat "$work/baseline.txt" >&2; die "pgbench failed"; }
BASELINE=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/baseline.txt" | head -1 | awk '{ printf "%.0f", $1 }')
BASELINE_LATENCY=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/baseline.txt")
log "baseline: $BASELINE transactions/s (latency average $BASELINE_LATENCY ms)"
sql -c "drop schema load_baseline cascade" >/dev/null

# Waits until every reply of tag $1 ($2 messages accepted) is sent, or until
# nothing has moved for STALL_SECONDS.
wait_for_replies() {
  local tag=$1 expected=$2 sent previous=-1 still_since
  still_since=$(date +%s)
  while true; do
    sent=$(sql -c "select count(*) from public.messages r join public.messages i on i.id = r.in_reply_to
                   where i.wa_message_id like 'LOAD-$tag-%' and r.sent_at is not null")
    [ "$sent" -ge "$expected" ] && return 0
    if [ "$sent" != "$previous" ]; then previous=$sent still_since=$(date +%s); fi
    if (($(date +%s) - still_since >= STALL_SECONDS)); then
      warn "replies of $tag stopped at $sent of $expected"
      return 0
    fi
    sleep 0.5
  done
}

push() {
  deno run --quiet --allow-net --allow-read "$REPO_ROOT/scripts/bench/load.ts" "$DAEMON_URL" \
    "$WABOT_DAEMON_TOKEN" "$work/numbers.txt" --contacts "$CONTACTS" "$@"
}
json_field() { sed -n "s/.*\"$2\" *: *\([0-9.]*\).*/\1/p" <<<"$1"; }

# CPU seconds (user + system) used so far by a service's process group, and
# by the cluster's Postgres processes, for the profile of the throughput phase.
CLK_TCK=$(getconf CLK_TCK)
ticks_of() {
  local pid total=0 fields
  for pid in "$@"; do
    fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + $(awk '{ print $12 + $13 }' <<<"$fields")))
  done
  echo "$total"
}
group_cpu_seconds() {
  ticks_of $(ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }') | awk -v t="$CLK_TCK" '{ print $1 / t }'
}
postgres_cpu_seconds() {
  local postmaster
  postmaster=$(head -1 "$work/pgdata/postmaster.pid")
  ticks_of $(ps -e -o pid=,ppid= | awk -v p="$postmaster" '$1 == p || $2 == p { print $1 }') \
    | awk -v t="$CLK_TCK" '{ print $1 / t }'
}
cpu_snapshot() {
  echo "$(group_cpu_seconds "$(cat "$work/gateway.pid")") $(group_cpu_seconds "$(cat "$work/daemon.pid")") $(postgres_cpu_seconds)"
}

# --- 2. throughput -----------------------------------------------------------------
log "throughput: $MESSAGES messages, $CONCURRENCY in flight, $CONTACTS contacts, $NUMBERS numbers"
# pg_stat_statements (preloaded, as on Supabase) counts the phase's statements:
# top-level ones by default, nested ones too with --profile.
sql -c "create extension if not exists pg_stat_statements with schema extensions;
        select extensions.pg_stat_statements_reset()" >/dev/null
read -r gateway_cpu_before daemon_cpu_before postgres_cpu_before <<<"$(cpu_snapshot)"
burst=$(push --first 0 --count "$MESSAGES" --tag burst --concurrency "$CONCURRENCY")
echo "$burst" >"$work/burst.json"
log "pushed: $burst"
wait_for_replies burst "$(json_field "$burst" accepted)"
read -r gateway_cpu_after daemon_cpu_after postgres_cpu_after <<<"$(cpu_snapshot)"
CPU_PROFILE=$(awk -v n="$MESSAGES" -v g="$(awk "BEGIN { print $gateway_cpu_after - $gateway_cpu_before }")" \
  -v d="$(awk "BEGIN { print $daemon_cpu_after - $daemon_cpu_before }")" \
  -v p="$(awk "BEGIN { print $postgres_cpu_after - $postgres_cpu_before }")" \
  'BEGIN { printf "gateway and functions %.1f s (%.2f ms a message), daemon %.1f s (%.2f ms), Postgres %.1f s (%.2f ms)",
           g, 1000 * g / n, d, 1000 * d / n, p, 1000 * p / n }')
log "CPU in the throughput phase: $CPU_PROFILE"
PGPASSWORD=postgres psql -X -q -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres -v messages="$MESSAGES" \
  >"$work/statements.txt" <<'SQL'
select round(total_exec_time::numeric, 0) as total_ms,
       round((total_exec_time / :messages)::numeric, 3) as ms_per_message,
       round((calls::numeric / :messages), 2) as calls_per_message,
       round(mean_exec_time::numeric, 3) as mean_ms,
       left(regexp_replace(query, '\s+', ' ', 'g'), 160) as query
from extensions.pg_stat_statements
order by total_exec_time desc
limit 40;
SQL
log "the throughput phase's statements by Postgres time: ${work#"$REPO_ROOT"/}/statements.txt"
# The ten costliest, as rows of a Markdown table, for the report.
STATEMENT_ROWS=$(sql -F $'\t' -v messages="$MESSAGES" <<'SQL' | awk -F'\t' '{ printf "| %s | %s | `%s` |\n", $1, $2, $3 }'
select round((total_exec_time / :messages)::numeric, 3),
       round((calls::numeric / :messages), 2),
       replace(left(regexp_replace(query, '\s+', ' ', 'g'), 110), '|', '\|')
from extensions.pg_stat_statements
where query !~* '^(begin|commit|set local|select count\(\*\) from public.messages r join)'
order by total_exec_time desc
limit 10;
SQL
)

phase_sql() {
  local tag=$1
  sql -v tag="LOAD-$tag-%" <<'SQL'
with inbound as (
  select id, created_at, routed_at from public.messages
  where direction = 'inbound' and wa_message_id like :'tag'
), first_reply as (
  select i.created_at, i.routed_at, r.sent_at, o.delivered_at
  from inbound i
  join public.messages r on r.in_reply_to = i.id and r.reply_index = 0 and r.sent_at is not null
  left join public.outbox o on o.topic = 'route-message' and o.payload ->> 'message_id' = i.id::text
), latency as (
  select extract(epoch from sent_at - created_at) * 1000 as total_ms,
         extract(epoch from routed_at - created_at) * 1000 as to_routed_ms,
         extract(epoch from sent_at - routed_at) * 1000 as routed_to_sent_ms,
         extract(epoch from delivered_at - routed_at) * 1000 as routed_to_relay_recorded_ms
  from first_reply
)
select json_build_object(
  'replies', (select count(*) from first_reply),
  'seconds', (select round(extract(epoch from max(sent_at) - min(created_at))::numeric, 3) from first_reply),
  'per_second', (select round((count(*) / nullif(extract(epoch from max(sent_at) - min(created_at)), 0))::numeric, 1)
                 from first_reply),
  'p50_ms', round(percentile_cont(0.5) within group (order by total_ms)::numeric, 1),
  'p95_ms', round(percentile_cont(0.95) within group (order by total_ms)::numeric, 1),
  'p99_ms', round(percentile_cont(0.99) within group (order by total_ms)::numeric, 1),
  'max_ms', round(max(total_ms)::numeric, 1),
  'to_routed_p50_ms', round(percentile_cont(0.5) within group (order by to_routed_ms)::numeric, 1),
  'to_routed_p99_ms', round(percentile_cont(0.99) within group (order by to_routed_ms)::numeric, 1),
  'routed_to_sent_p50_ms', round(percentile_cont(0.5) within group (order by routed_to_sent_ms)::numeric, 1),
  'routed_to_sent_p99_ms', round(percentile_cont(0.99) within group (order by routed_to_sent_ms)::numeric, 1),
  'routed_to_relay_recorded_p50_ms',
    round(percentile_cont(0.5) within group (order by routed_to_relay_recorded_ms)::numeric, 1))
from latency;
SQL
}
burst_figures=$(phase_sql burst)
echo "$burst_figures" >"$work/burst-figures.json"
log "throughput phase: $burst_figures"

# --- 3. steady -------------------------------------------------------------------
if [ -z "$STEADY_RATE" ]; then
  STEADY_RATE=$(awk -v t="$(json_field "$burst_figures" per_second)" 'BEGIN { r = int(t / 2); print (r < 1 ? 1 : r) }')
fi
log "steady: $STEADY messages at $STEADY_RATE a second"
steady=$(push --first "$MESSAGES" --count "$STEADY" --tag steady --rate "$STEADY_RATE")
echo "$steady" >"$work/steady.json"
log "pushed: $steady"
wait_for_replies steady "$(json_field "$steady" accepted)"
steady_figures=$(phase_sql steady)
echo "$steady_figures" >"$work/steady-figures.json"
log "steady phase: $steady_figures"

# --- the checks ------------------------------------------------------------------
log "checking every message"
checks=$(sql <<SQL
create temporary table delivered (phone_number text, contact_wa_id text, wa_message_id text, body text);
\\copy delivered from '$work/send-log.tsv'
create temporary table expected as
select i, (case when i < $MESSAGES then 'LOAD-burst-' else 'LOAD-steady-' end) || i as wa_message_id
from generate_series(0, $TOTAL - 1) as i;
create temporary table inbound as
select m.id, m.wa_message_id, m.routed_at from public.messages m
where m.direction = 'inbound' and m.wa_message_id like 'LOAD-%' and m.wa_message_id not like 'LOAD-warm-%';
create temporary table replies as
select r.in_reply_to, r.id, r.sent_at, r.wa_message_id, r.contact_wa_id,
       (select count(*) from delivered d where d.wa_message_id = r.wa_message_id) as n_delivered
from public.messages r join inbound i on i.id = r.in_reply_to;
select json_build_object(
  'expected', (select count(*) from expected),
  'inbound_rows', (select count(*) from inbound),
  'inbound_lost', (select count(*) from expected e where not exists (select 1 from inbound i where i.wa_message_id = e.wa_message_id)),
  'inbound_duplicated', (select count(*) - count(distinct wa_message_id) from inbound),
  'unrouted', (select count(*) from inbound where routed_at is null),
  'replies', (select count(*) from replies),
  'replies_sent', (select count(*) from replies where sent_at is not null),
  'replies_lost', (select count(*) from inbound i where not exists (select 1 from replies r where r.in_reply_to = i.id and r.sent_at is not null)),
  'replies_duplicated', (select coalesce(sum(n - 1), 0) from (select count(*) as n from replies group by in_reply_to) as per_inbound where n > 1),
  'replies_not_delivered', (select count(*) from replies where sent_at is not null and n_delivered = 0),
  'replies_delivered_twice', (select count(*) from replies where n_delivered > 1),
  'outbox_pending', (select count(*) from public.outbox where delivered_at is null),
  'outbox_dead', (select count(*) from public.outbox where dead_at is not null),
  'outbox_retried', (select count(*) from public.outbox where attempts > 1));
SQL
)
echo "$checks" >"$work/checks.json"
log "checks: $checks"
check() { json_field "$checks" "$1"; }
lost=$(($(check inbound_lost) + $(check replies_lost) + $(check replies_not_delivered)))
duplicated=$(($(check inbound_duplicated) + $(check replies_duplicated) + $(check replies_delivered_twice)))
failed=0
for name in inbound_lost inbound_duplicated unrouted replies_lost replies_duplicated replies_not_delivered \
  replies_delivered_twice outbox_dead; do
  if [ "$(check "$name")" != 0 ]; then
    printf '\033[31mFAILED:\033[0m %s = %s\n' "$name" "$(check "$name")" >&2
    failed=1
  fi
done
[ "$(check expected)" = "$TOTAL" ] || { echo "FAILED: expected $TOTAL messages, counted $(check expected)" >&2; failed=1; }

figure() { json_field "$1" "$2"; }
THROUGHPUT=$(figure "$burst_figures" per_second)
RATIO=$(awk -v t="$THROUGHPUT" -v b="$BASELINE" 'BEGIN { printf "%.1f", 100 * t / b }')
P99=$(figure "$steady_figures" p99_ms)
latency_met=$(awk -v p="$P99" 'BEGIN { print (p != "" && p <= 50 ? "met" : "**missed**") }')
ratio_met=$(awk -v r="$RATIO" 'BEGIN { print (r >= 30 ? "met" : "**missed**") }')

echo
log "results"
printf '  messages %s (throughput phase %s, steady %s), lost %s, duplicated %s\n' "$TOTAL" "$MESSAGES" "$STEADY" "$lost" "$duplicated"
printf '  throughput %s messages/s (baseline %s insert+notify/s, ratio %s %%: %s)\n' "$THROUGHPUT" "$BASELINE" "$RATIO" "$ratio_met"
printf '  steady latency at %s/s: p50 %s ms, p95 %s ms, p99 %s ms (%s)\n' "$STEADY_RATE" \
  "$(figure "$steady_figures" p50_ms)" "$(figure "$steady_figures" p95_ms)" "$P99" "$latency_met"
printf '  throughput-phase latency (with backlog): p50 %s ms, p95 %s ms, p99 %s ms\n' \
  "$(figure "$burst_figures" p50_ms)" "$(figure "$burst_figures" p95_ms)" "$(figure "$burst_figures" p99_ms)"

if [ "$failed" = 1 ]; then
  die "messages were lost or duplicated; see $work"
fi
if [ "$WRITE_DOCS" = 0 ]; then
  log "every message stored once, routed and answered once"
  exit 0
fi

# --- the section of docs/benchmarks.md --------------------------------------------
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
postgres_version="$(sql -c "show server_version" | cut -d' ' -f1)"
deno_version="$(deno --version | head -1)"
load_average="$(cut -d' ' -f1-3 /proc/loadavg)"
steady_bad=$(awk -v a="$(figure "$steady_figures" per_second)" -v r="$STEADY_RATE" 'BEGIN { print (a < 0.9 * r ? 1 : 0) }')
cat >"$work/section.md" <<MD
## Load: the whole path (\`./scripts/bench/load.sh\`, $(date -u +%Y-%m-%d))

Measured with \`./scripts/bench/load.sh\` (its own command; \`--quick\` runs 500 messages in CI and checks
correctness only). Machine: $cpu_model, $(nproc) CPUs, shared with other work (load average before the
report: $load_average); Postgres $postgres_version (fsync ${WABOT_PG_FSYNC:-off}, the same for the baseline), $deno_version,
the release daemon with the simulator transport and its own outbox relay, the local functions gateway
running \`route-message\` (Wasm routing), everything on this one machine.

Path of each message: simulated contact → daemon (\`POST /simulator/inbound\`, stored with its outbox row
in one transaction) → the daemon's outbox relay → \`route-message\` through the gateway → Rust routing in
Wasm → queued reply → daemon sends it → simulated contact (the simulator's send log). $NUMBERS numbers
serve one published bot (a keyword trigger, one message node); $CONTACTS contacts write to them, so every
message gets exactly one reply.

### Targets

| target | measured | |
|---|---|---|
| 0 messages lost | $lost lost, $duplicated duplicated, of $TOTAL | met |
| p99 ≤ 50 ms from inbound stored to reply sent (steady phase) | p99 $P99 ms at $STEADY_RATE messages/s | $latency_met |
| throughput ≥ 30 % of the raw baseline | $THROUGHPUT ÷ $BASELINE = $RATIO % | $ratio_met |

### Figures

| measure | result |
|---|---|
| messages pushed | **$TOTAL** ($MESSAGES in the throughput phase, $STEADY in the steady phase) |
| lost (not stored, not routed, no reply sent, or not delivered to the contact) | **$lost** |
| duplicated (inbound stored twice, second replies, replies delivered twice) | **$duplicated** |
| outbox deliveries retried | $(check outbox_retried) |
| throughput phase: $CONCURRENCY requests in flight, first inbound stored to last reply sent | **$THROUGHPUT messages/s** ($(figure "$burst_figures" seconds) s for $MESSAGES) |
| CPU used in that phase (user + system) | $CPU_PROFILE |
| the daemon's inbound answers in that phase (stored with the outbox row) | $(figure "$burst" per_second) messages/s, request p50 $(figure "$burst" request_p50_ms) ms, p99 $(figure "$burst" request_p99_ms) ms |
| latency in that phase (queueing behind the backlog included) | p50 $(figure "$burst_figures" p50_ms) ms, p95 $(figure "$burst_figures" p95_ms) ms, p99 $(figure "$burst_figures" p99_ms) ms |
| steady phase: $STEADY messages at $STEADY_RATE a second (half the throughput) | achieved $(figure "$steady_figures" per_second) replies/s |
| **latency, steady phase, inbound stored → reply sent** | **p50 $(figure "$steady_figures" p50_ms) ms, p95 $(figure "$steady_figures" p95_ms) ms, p99 $P99 ms** (max $(figure "$steady_figures" max_ms) ms) |
| of which stored → routing transaction began (outbox NOTIFY, relay claim, HTTP, gateway) | p50 $(figure "$steady_figures" to_routed_p50_ms) ms, p99 $(figure "$steady_figures" to_routed_p99_ms) ms |
| of which routing began → reply sent (route-message, commit, NOTIFY, claim, pacing, send) | p50 $(figure "$steady_figures" routed_to_sent_p50_ms) ms, p99 $(figure "$steady_figures" routed_to_sent_p99_ms) ms |
| baseline: pgbench, $CONCURRENCY clients, one statement inserting a row and calling pg_notify, autocommit | **$BASELINE per second** (latency average $BASELINE_LATENCY ms) |
| ratio throughput ÷ baseline | **$RATIO %** |
MD
if [ "$steady_bad" = 1 ]; then
  echo "| note | the steady phase did not keep its rate: the figures include a backlog |" >>"$work/section.md"
fi
cat >>"$work/section.md" <<'MD'

**Clocks.** Both ends are stamped by the one Postgres server clock with `now()`, the start of the
stamping transaction: the inbound's `created_at` is the start of the daemon's storing transaction
(insert, outbox trigger, commit: the request times above bound it), and the reply's `sent_at` the
start of the autocommit update that records the send. So each figure includes the inbound's own
commit and leaves out the sent-mark's commit (well under a millisecond with fsync off).
Throughput is the replies of the throughput phase divided by the time from its first `created_at`
to its last `sent_at`.

**The baseline** is the raw limit of this Postgres on this machine for the cheapest durable event: one
row inserted and one notification, in one statement, with the same concurrency. A message on the whole
path costs five transactions (store, relay claim, route, relay record, send claim and records) and an
HTTP call through the gateway, so the ratio says how much of the machine's raw capacity the pipeline
turns into answered messages.

MD
cat >>"$work/section.md" <<MD
**Where Postgres spends its time** in the throughput phase (\`pg_stat_statements\`, top-level statements,
execution time only; the statements of triggers and functions count in the statement that fired them;
\`--profile\` lists nested ones too, in \`statements.txt\`):

| ms a message | calls a message | statement |
|---|---|---|
$STATEMENT_ROWS

Raw results: \`.local/bench-load/\` after a run (\`checks.json\`, \`*-figures.json\`, \`baseline.txt\`, \`statements.txt\`, the logs).
MD
deno run --quiet --allow-read --allow-write "$REPO_ROOT/scripts/bench/section.ts" \
  "$REPO_ROOT/docs/benchmarks.md" load "$work/section.md"
log "wrote the load section of docs/benchmarks.md"
