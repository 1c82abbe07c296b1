#!/usr/bin/env bash
# Runs every test suite against real parts, on ports of its own so it does
# not disturb a running ./scripts/dev.sh stack:
#   static checks (cargo fmt, clippy -D warnings, the Wasm module's freshness,
#   deno check), Rust unit tests, the Wasm boundary under Node
#   (wasm-bindgen-test), pgTAP on a fresh Postgres, Deno tests of the gateway
#   and functions, the end-to-end tests of the real daemon process, and the
#   admin UI (Vitest and tsc, then Chromium end-to-end with axe-core).
# Stops what it started, even on failure; exits non-zero if any suite failed.
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"

STATE_DIR="$REPO_ROOT/.local/test"
DB_PORT=${WABOT_TEST_DB_PORT:-55322}
GATEWAY_PORT=${WABOT_TEST_GATEWAY_PORT:-55321}
UI_PORT=${WABOT_TEST_UI_PORT:-55300}
UI_DAEMON_PORT=${WABOT_TEST_UI_DAEMON_PORT:-55380}
MEDIA_S3_PORT=${WABOT_TEST_MEDIA_S3_PORT:-55393}

started_at=$(date +%s)
"$REPO_ROOT/scripts/install.sh"

failures=()
timings=()
# Each suite's output goes to the terminal and to .local/test-logs/NN.log; a
# failed suite's last lines are repeated under the summary, so the reason is
# in the tail of a CI log, not only hundreds of lines above it.
SUITE_LOG_DIR="$REPO_ROOT/.local/test-logs"
rm -rf "$SUITE_LOG_DIR"
mkdir -p "$SUITE_LOG_DIR"
suite_logs=()
suite() {
  local name=$1 suite_started_at suite_log
  shift
  suite_started_at=$(date +%s)
  suite_log="$SUITE_LOG_DIR/$(printf '%02d' $(( ${#timings[@]} + 1 ))).log"
  log "suite: $name"
  # A process substitution, not a pipe: a service a suite leaves running
  # cannot hold the suite open by keeping tee's input open.
  if "$@" > >(tee "$suite_log") 2>&1; then
    timings+=("ok      $name ($(( $(date +%s) - suite_started_at )) s)")
  else
    failures+=("$name")
    suite_logs+=("$suite_log")
    timings+=("FAILED  $name ($(( $(date +%s) - suite_started_at )) s)")
  fi
}

cleanup() {
  stop_service "$STATE_DIR/admin-ui" next
  stop_service "$STATE_DIR/admin-ui" daemon
  stop_service "$STATE_DIR" gateway
  stop_service "$STATE_DIR" media-s3
  db_stop "$STATE_DIR"
}
trap cleanup EXIT

deno_files() {
  find "$REPO_ROOT/functions" "$REPO_ROOT/supabase/local" "$REPO_ROOT/scripts" -name '*.ts' \
    -not -path '*/_shared/core/*' -not -path '*/node_modules/*' | sort
}

suite "cargo fmt --check" cargo fmt --all -- --check
suite "cargo clippy -D warnings" cargo clippy --quiet --workspace --all-targets --locked -- -D warnings
suite "Wasm module is fresh" "$REPO_ROOT/scripts/build-wasm.sh" --check
suite "deno check" deno check --quiet $(deno_files)
suite "deno fmt --check and deno lint" bash -c \
  'cd "$REPO_ROOT/functions" && deno fmt --check --quiet . ../supabase/local && deno lint --quiet . ../supabase/local &&
   cd "$REPO_ROOT/scripts" && deno fmt --check --quiet && deno lint --quiet'
suite "Rust unit tests" cargo test --quiet --workspace --locked
# The schemas the Rust types write (bot definitions, the message model) and
# the TypeScript generated from them (scripts/gen-message-types.sh).
suite "generated schemas and types are current" bash -c \
  'cargo test --quiet --locked -p message-model -p routing --all-features --test generated &&
   "$REPO_ROOT/scripts/gen-message-types.sh" --check'
suite "Wasm boundary under Node (wasm-bindgen-test)" env \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked -p core-wasm --target wasm32-unknown-unknown
suite "admin UI: tsc --noEmit and Vitest" bash -c \
  'cd "$REPO_ROOT/admin-ui" && npm run --silent typecheck && npm test --silent'

# A fresh database for every run, so no test depends on an earlier one.
cleanup
rm -rf "$STATE_DIR"
mkdir -p "$STATE_DIR"
WABOT_PG_FSYNC=off db_start "$STATE_DIR" "$DB_PORT"
db_migrate "$DB_PORT"
TEST_DB_URL="$(db_url "$DB_PORT")"
# The media bucket's S3 server (moto); exports WABOT_MEDIA_S3_* for the
# functions, the gateway and every daemon started from here on.
start_media_s3 "$STATE_DIR" "$MEDIA_S3_PORT"

run_pgtap() {
  PGPASSWORD=postgres psql -q -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres \
    -c "create extension if not exists pgtap with schema extensions" >/dev/null &&
    PGPASSWORD=postgres pg_prove -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres \
      --ext .sql -r "$REPO_ROOT/supabase/tests"
}
suite "pgTAP (pg_prove)" run_pgtap
# plpgsql_check over our schemas (pgTAP, installed above into `extensions`,
# does not pass it and is not ours); the CLI creates the extension inside a
# transaction it rolls back.
suite "supabase db lint (plpgsql_check, errors)" supabase db lint --workdir "$REPO_ROOT" \
  --db-url "$TEST_DB_URL?sslmode=disable" --schema public,private --level error --fail-on error
suite "database types are current" "$REPO_ROOT/scripts/gen-db-types.sh" --check --db-url "$TEST_DB_URL"

suite "Deno tests (gateway and functions)" env \
  SUPABASE_DB_URL="$TEST_DB_URL" \
  deno test --allow-all --quiet "$REPO_ROOT/functions/tests/"
suite "local auth stand-in (supabase/local/auth_test.ts)" env \
  SUPABASE_DB_URL="$TEST_DB_URL" \
  deno test --allow-all --quiet "$REPO_ROOT/supabase/local/auth_test.ts"

stack_secrets "$STATE_DIR"
# The admin UI's end-to-end run calls the admin API from its own origin.
export ADMIN_UI_ORIGIN="http://localhost:3000,http://127.0.0.1:$UI_PORT"
start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"
suite "end-to-end: the real daemon, gateway, function and Postgres" env \
  WABOT_TEST_DATABASE_URL="$TEST_DB_URL" \
  WABOT_TEST_FUNCTIONS_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1" \
  WABOT_TEST_SERVICE_ROLE_KEY="$SUPABASE_SERVICE_ROLE_KEY" \
  cargo test --quiet --locked -p session-daemon --test end_to_end --test daemon_runtime --test cloud_templates --test media_storage --test integration_api -- --include-ignored --test-threads 2
suite "admin UI: Chromium end-to-end with axe-core" \
  "$REPO_ROOT/admin-ui/e2e/suite.sh" "$STATE_DIR" "$DB_PORT" "$GATEWAY_PORT" "$UI_PORT" "$UI_DAEMON_PORT"

# Load, quick (docs/benchmarks.md has the long run): its own stack, 600
# messages through the whole path; checks nothing is lost or duplicated and
# asserts no timing.
suite "load (quick): 600 messages through the whole path" "$REPO_ROOT/scripts/bench/load.sh" --quick

# Faults under load, quick (docs/reliability.md has the long run): its own
# stack with two daemons; SIGKILLs, a Postgres restart, the gateway down,
# failing function calls, disconnect and rate-limit storms; checks the
# invariants (nothing lost, every inbound routed, duplicates flagged, alerts
# opened and resolved, never two holders of a number), no timing.
suite "chaos: the simulated contacts' redelivery (scripts/chaos/load_test.ts)" \
  deno test --allow-all --quiet --config "$REPO_ROOT/scripts/deno.json" "$REPO_ROOT/scripts/chaos/"
suite "chaos: faults under load (quick)" env WABOT_CHAOS_DB_PORT=55422 WABOT_CHAOS_GATEWAY_PORT=55421 \
  WABOT_CHAOS_DAEMON_A_PORT=55480 WABOT_CHAOS_DAEMON_B_PORT=55481 WABOT_CHAOS_STATE_DIR="$REPO_ROOT/.local/test-chaos" \
  "$REPO_ROOT/scripts/chaos.sh" --quick

# Operations (docs/runbook.md): the smoke test, backups, restore drills,
# refusals, deployment files and the runbook's own commands.
source "$REPO_ROOT/scripts/tests/ops-suites.sh"
ops_suites_run

# Security and bad input (docs/reliability.md): the secret scan, schemathesis
# against both OpenAPI documents (a few examples per operation here; the long
# run is ./scripts/security.sh) and the daemon's malformed bodies. Last, as
# schemathesis leaves rows behind that earlier suites would count.
suite "security: secrets, schemathesis (quick), daemon bad input" \
  "$REPO_ROOT/scripts/security.sh" --quick --db-port "$DB_PORT" --gateway-port "$GATEWAY_PORT" \
  --daemon-port "${WABOT_TEST_SECURITY_DAEMON_PORT:-55382}"

echo
log "summary ($(( $(date +%s) - started_at )) s in all)"
printf '  %s\n' "${timings[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  sleep 1 # the last tee may still be writing
  for i in "${!failures[@]}"; do
    printf '\n\033[1m==> the last lines of "%s" (all of it: %s)\033[0m\n' "${failures[$i]}" "${suite_logs[$i]#"$REPO_ROOT"/}"
    tail -n 40 "${suite_logs[$i]}" | sed 's/\x1b\[[0-9;]*m//g'
    # The reason may be far above the tail (a backtrace, a daemon's log).
    printf '\033[1m==> the lines of "%s" that name a failure\033[0m\n' "${failures[$i]}"
    sed 's/\x1b\[[0-9;]*m//g' "${suite_logs[$i]}" \
      | grep -E -m 20 'panicked at|assertion|VIOLATION|violation|error(\[|:)|Error:|FAILED|not ok|✘' || true
  done
  echo
  printf '\033[31m%d suite(s) failed:\033[0m %s\n' "${#failures[@]}" "${failures[*]}"
  exit 1
fi
echo "all suites passed"
