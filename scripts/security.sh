#!/usr/bin/env bash
# Security and bad input, end to end (docs/reliability.md, "Security and bad
# input"): the repository secret scan (with its self-test), schemathesis
# against the admin API's OpenAPI (through the gateway, as a signed-in owner),
# the messaging API's (docs/openapi-messages.json, with an API key holding
# every scope) and the session daemon's (with its bearer token) with no 5xx and
# no response-schema, status-code or content-type violation, and the
# daemon's malformed-body test (scripts/tests/daemon_bad_input_test.ts).
# The function-side checks (role matrix, JWT attacks, SQL injection,
# malformed bodies) are functions/tests/security_test.ts, and the catalogue
# check is supabase/tests/database/21-exposed-schemas.test.sql.
#
#   scripts/security.sh [--quick] [--examples N] [--db-port P --gateway-port P] [--daemon-port P]
#
#   --quick           a few schemathesis examples per operation (CI)
#   --examples N      schemathesis examples per operation [default: 5 quick, 100 long]
#   --db-port P --gateway-port P
#                     use a running database and gateway (as ./scripts/test.sh
#                     has them; SUPABASE_SERVICE_ROLE_KEY etc. in the
#                     environment) instead of starting a stack of its own
#   --daemon-port P   the port of the daemon it starts [default: 54680]
#
# Without --gateway-port it starts Postgres on 54622 and the gateway on
# 54621 under .local/security, and stops them at the end. The schemathesis
# figures (cases generated, failures) are written to
# .local/security/schemathesis-<api>.txt and summarised at the end.
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

quick=0 examples="" db_port="" gateway_port="" daemon_port=54680
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --examples) examples=${2:?}; shift 2 ;;
    --db-port) db_port=${2:?}; shift 2 ;;
    --gateway-port) gateway_port=${2:?}; shift 2 ;;
    --daemon-port) daemon_port=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^source/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$examples" ] || examples=$([ "$quick" = 1 ] && echo 5 || echo 100)
# Run on its own, it installs what is missing like ./scripts/test.sh does
# (./scripts/test.sh has already done so when it passes --gateway-port).
[ -n "$gateway_port" ] || "$REPO_ROOT/scripts/install.sh"
schemathesis=/var/cache/wabot/ops-venv/bin/schemathesis
[ -x "$schemathesis" ] || die "schemathesis is not installed: run scripts/install.sh"

STATE_DIR="$REPO_ROOT/.local/security"
mkdir -p "$STATE_DIR"
own_stack=0
if [ -z "$gateway_port" ]; then
  own_stack=1 db_port=${db_port:-54622} gateway_port=54621
fi
[ -n "$db_port" ] || die "--gateway-port needs --db-port"

cleanup() {
  stop_service "$STATE_DIR" daemon
  if [ "$own_stack" = 1 ]; then
    stop_service "$STATE_DIR" gateway
    db_stop "$STATE_DIR"
  fi
}
trap cleanup EXIT

if [ "$own_stack" = 1 ]; then
  WABOT_PG_FSYNC=off db_start "$STATE_DIR" "$db_port"
  db_migrate "$db_port"
  stack_secrets "$STATE_DIR"
  start_gateway "$STATE_DIR" "$gateway_port" "$db_port"
fi
db_url=$(db_url "$db_port")
# The daemon under test gets its own token and Cloud API secrets.
export WABOT_DAEMON_TOKEN="security-$(openssl rand -hex 16)"
export WABOT_CLOUD_APP_SECRET="security-app-secret-$(openssl rand -hex 16)"
export WABOT_CLOUD_VERIFY_TOKEN="security-verify-$(openssl rand -hex 8)"
# Always through cargo: a no-op when the binary is current, never a stale one.
# --all-targets: the features `cargo test -p session-daemon` resolves (dev-
# dependencies included), so after the test suites this is no rebuild.
cargo build --quiet --locked -p session-daemon --all-targets
start_daemon "$STATE_DIR" "$daemon_port" "$db_port" "$gateway_port"

failed=0
step() {
  local name=$1
  shift
  log "security: $name"
  if ! "$@"; then
    warn "security: $name FAILED"
    failed=1
  fi
}

step "no secrets in the repository" "$REPO_ROOT/scripts/check-secrets.sh" --self-test

# A signed-in owner, as the admin UI holds after sign-in.
owner_id=5ec00000-0000-4000-8000-0000000000ff
PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$db_port" -U postgres -d postgres <<SQL >/dev/null
insert into auth.users (id, email, role, aud)
values ('$owner_id', 'security-owner@wabot.test', 'authenticated', 'authenticated') on conflict do nothing;
insert into public.members (user_id, role) values ('$owner_id', 'owner') on conflict do nothing;
SQL
owner_token=$(ops_mint_user_jwt "$owner_id" security-owner@wabot.test 7200)
# An API key with every scope for the messaging API (stored as its SHA-256,
# as the admin API stores them), with a limit schemathesis never reaches.
api_key_prefix="wbk_$(openssl rand -hex 4)"
api_key="${api_key_prefix}_$(openssl rand -hex 24)"
api_key_sha256=$(printf '%s' "$api_key" | sha256sum | cut -c1-64)
PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$db_port" -U postgres -d postgres <<SQL >/dev/null
insert into public.api_keys (name, prefix, key_hash, scopes, rate_limit_per_minute)
values ('security (schemathesis)', '$api_key_prefix', '$api_key_sha256',
        array['messages:send', 'messages:read', 'contacts:read', 'webhooks:manage',
              'conversations:override_handoff'], 100000);
SQL

# Runs schemathesis against one API; $1 names it, $2 is its document, $3 its
# base URL, $4 the Authorization header, the rest extra options. Checks: no
# 5xx, responses match their schemas, statuses and content types are
# documented.
run_schemathesis() {
  local api=$1 document=$2 base_url=$3 authorization=$4 report="$STATE_DIR/schemathesis-$1.txt"
  shift 4
  local status=0
  (cd "$STATE_DIR" && nice -n 10 "$schemathesis" run "$document" --url "$base_url" \
    -H "Authorization: $authorization" "$@" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing --max-examples "$examples" --workers 1 --seed 20261126 \
    --generation-database none --no-color --output-truncate false \
    --suppress-health-check all) >"$report" 2>&1 || status=$?
  grep -E '^  [0-9]+ generated' "$report" | sed "s/^ */schemathesis $api: /"
  if [ "$status" != 0 ]; then
    sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$report" | head -80 >&2
    echo "schemathesis $api: failed; the full report is $report" >&2
  fi
  return "$status"
}
# Changing or removing members last: schemathesis learns the owner's own id
# and would otherwise demote it early, leaving the other routes 403.
step "schemathesis: the admin API" run_schemathesis admin-api "$REPO_ROOT/docs/openapi.json" \
  "http://127.0.0.1:$gateway_port/functions/v1" "Bearer $owner_token" \
  --exclude-operation-id changeMemberRole --exclude-operation-id removeMember
step "schemathesis: the admin API's member changes" run_schemathesis admin-api-members \
  "$REPO_ROOT/docs/openapi.json" "http://127.0.0.1:$gateway_port/functions/v1" "Bearer $owner_token" \
  --include-operation-id changeMemberRole --include-operation-id removeMember
step "schemathesis: the messaging API" run_schemathesis messages-api "$REPO_ROOT/docs/openapi-messages.json" \
  "http://127.0.0.1:$gateway_port/functions/v1" "Bearer $api_key"
step "schemathesis: the session daemon" run_schemathesis daemon "$REPO_ROOT/crates/session-daemon/openapi.json" \
  "http://127.0.0.1:$daemon_port" "Bearer $WABOT_DAEMON_TOKEN"

step "the daemon refuses malformed bodies" env \
  WABOT_SECURITY_DAEMON_URL="http://127.0.0.1:$daemon_port" \
  WABOT_SECURITY_DB_URL="$db_url" \
  deno test --allow-all --quiet --config "$REPO_ROOT/scripts/deno.json" "$REPO_ROOT/scripts/tests/daemon_bad_input_test.ts"

if [ "$own_stack" = 1 ]; then
  step "functions: role matrix, JWT attacks, SQL injection, malformed bodies" env \
    SUPABASE_DB_URL="$db_url" deno test --allow-all --quiet "$REPO_ROOT/functions/tests/security_test.ts"
  run_pgtap_file() {
    PGPASSWORD=postgres psql -q -h 127.0.0.1 -p "$db_port" -U postgres -d postgres \
      -c "create extension if not exists pgtap with schema extensions" >/dev/null &&
      PGPASSWORD=postgres pg_prove -h 127.0.0.1 -p "$db_port" -U postgres -d postgres \
        "$REPO_ROOT/supabase/tests/database/02-security-coverage.test.sql" \
        "$REPO_ROOT/supabase/tests/database/21-exposed-schemas.test.sql"
  }
  step "pgTAP: row-level security and anon over the whole catalogue" run_pgtap_file
fi

[ "$failed" = 0 ] || die "security: some checks failed (see above)"
log "security: every check passed"
