#!/usr/bin/env bash
# The admin UI's browser suite, run by scripts/test.sh against its test stack
# (Postgres and the functions gateway already running):
#
#   admin-ui/e2e/suite.sh <state dir> <db port> <gateway port> <ui port> <daemon port>
#
# It seeds the demo bot, number and local owner (supabase/seed.sql), starts
# the session daemon (simulator transport), builds the admin UI once for
# production against this stack, checks the build holds no service-role key
# or database URL, serves it with `next start`, and runs e2e/run.mjs in
# Debian's Chromium. Stops what it started, even on failure.
source "$(dirname "$0")/../../scripts/lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"

STATE_DIR=$1 DB_PORT=$2 GATEWAY_PORT=$3 UI_PORT=$4 DAEMON_PORT=$5
UI_DIR="$REPO_ROOT/admin-ui"
UI_STATE="$STATE_DIR/admin-ui"
mkdir -p "$UI_STATE"

cleanup() {
  stop_service "$UI_STATE" next
  stop_service "$UI_STATE" daemon
}
trap cleanup EXIT

command -v chromium >/dev/null || die "Debian's chromium is not installed (scripts/install.sh installs it)"
stack_secrets "$STATE_DIR"

log "seeding the demo bot, number and local owner (supabase/seed.sql)"
PGPASSWORD=postgres psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres \
  -v definition="$(cat "$REPO_ROOT/crates/routing/fixtures/demo-bot.json")" -f "$REPO_ROOT/supabase/seed.sql" >/dev/null

[ -x "$CARGO_TARGET_DIR/debug/wabot" ] || die "no daemon binary at $CARGO_TARGET_DIR/debug/wabot (cargo test builds it)"
start_daemon "$UI_STATE" "$DAEMON_PORT" "$DB_PORT" "$GATEWAY_PORT"

log "building the admin UI for production against the test stack"
export NEXT_TELEMETRY_DISABLED=1 NEXT_DIST_DIR=.next-e2e
(
  cd "$UI_DIR"
  NEXT_PUBLIC_SUPABASE_URL="http://127.0.0.1:$GATEWAY_PORT" \
    NEXT_PUBLIC_SUPABASE_ANON_KEY="$SUPABASE_ANON_KEY" \
    npm run --silent build >"$UI_STATE/build.log" 2>&1
) || { tail -30 "$UI_STATE/build.log" >&2; die "next build failed (see $UI_STATE/build.log)"; }

log "checking the build for secrets"
node "$UI_DIR/scripts/check-bundle-secrets.mjs" "$UI_DIR/.next-e2e"

if port_in_use "$UI_PORT"; then die "port $UI_PORT (admin UI) is taken by another program"; fi
start_service "$UI_STATE" next env PORT="$UI_PORT" \
  "$UI_DIR/node_modules/.bin/next" start "$UI_DIR" --port "$UI_PORT" --hostname 127.0.0.1
wait_for_http "http://127.0.0.1:$UI_PORT/signin" 60 \
  || { tail -20 "$UI_STATE/next.log" >&2; die "the admin UI did not start"; }

E2E_UI_URL="http://127.0.0.1:$UI_PORT" \
  E2E_DAEMON_URL="http://127.0.0.1:$DAEMON_PORT" \
  E2E_DATABASE_URL="$(db_url "$DB_PORT")" \
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  node "$UI_DIR/e2e/run.mjs"
