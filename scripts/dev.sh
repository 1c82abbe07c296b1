#!/usr/bin/env bash
# Starts the whole local stack and seeds a demo:
#   Postgres 15 + pg_cron on 54322, the functions gateway on 54321, the
#   session daemon (simulator transport) on 54380, the media bucket's S3
#   server (moto) on 54390, the admin UI on 3000.
#
#   ./scripts/dev.sh         install what is missing, start, seed, print where to look
#   ./scripts/dev.sh stop    stop everything this script started
#   ./scripts/dev.sh status  show what is running
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/db.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"

STATE_DIR="$REPO_ROOT/.local/dev"
DB_PORT=${WABOT_DEV_DB_PORT:-54322}
GATEWAY_PORT=${WABOT_DEV_GATEWAY_PORT:-54321}
DAEMON_PORT=${WABOT_DEV_DAEMON_PORT:-54380}
UI_PORT=${WABOT_DEV_UI_PORT:-3000}
MEDIA_S3_PORT=${WABOT_DEV_MEDIA_S3_PORT:-54390}
DEMO_NUMBER=+15550100001

case "${1:-start}" in
  stop)
    stop_service "$STATE_DIR" admin-ui
    stop_service "$STATE_DIR" daemon
    stop_service "$STATE_DIR" gateway
    stop_service "$STATE_DIR" media-s3
    db_stop "$STATE_DIR"
    log "local stack stopped"
    exit 0
    ;;
  status)
    for name in gateway daemon media-s3 admin-ui; do
      if [ -f "$STATE_DIR/$name.pid" ] && kill -0 "$(cat "$STATE_DIR/$name.pid")" 2>/dev/null; then
        echo "$name: running (pid $(cat "$STATE_DIR/$name.pid"))"
      else
        echo "$name: stopped"
      fi
    done
    pg_isready -q -h 127.0.0.1 -p "$DB_PORT" && echo "postgres: running on $DB_PORT" || echo "postgres: stopped"
    exit 0
    ;;
  start) ;;
  *) die "unknown command ${1}: use start, stop or status" ;;
esac

started_at=$(date +%s)
"$REPO_ROOT/scripts/install.sh"
mkdir -p "$STATE_DIR"

db_start "$STATE_DIR" "$DB_PORT"
db_migrate "$DB_PORT"
log "seeding the demo bot and number (supabase/seed.sql)"
PGPASSWORD=postgres psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres \
  -v definition="$(cat "$REPO_ROOT/crates/routing/fixtures/demo-bot.json")" -f "$REPO_ROOT/supabase/seed.sql"

if ! "$REPO_ROOT/scripts/build-wasm.sh" --check >/dev/null 2>&1; then
  "$REPO_ROOT/scripts/build-wasm.sh"
fi
log "building the session daemon"
cargo build --quiet -p session-daemon

stack_secrets "$STATE_DIR"
start_media_s3 "$STATE_DIR" "$MEDIA_S3_PORT"
start_gateway "$STATE_DIR" "$GATEWAY_PORT" "$DB_PORT"
start_daemon "$STATE_DIR" "$DAEMON_PORT" "$DB_PORT" "$GATEWAY_PORT"

ui_line="admin UI            not built yet (admin-ui/README.md)"
if [ -f "$REPO_ROOT/admin-ui/package.json" ]; then
  if ! { [ -f "$STATE_DIR/admin-ui.pid" ] && kill -0 "$(cat "$STATE_DIR/admin-ui.pid")" 2>/dev/null; } \
    && port_in_use "$UI_PORT"; then
    die "port $UI_PORT (admin UI) is taken by another program"
  fi
  start_service "$STATE_DIR" admin-ui env PORT="$UI_PORT" \
    NEXT_PUBLIC_SUPABASE_URL="http://127.0.0.1:$GATEWAY_PORT" \
    NEXT_PUBLIC_SUPABASE_ANON_KEY="$SUPABASE_ANON_KEY" \
    npm --prefix "$REPO_ROOT/admin-ui" run dev
  wait_for_http "http://127.0.0.1:$UI_PORT/" 120 || die "the admin UI did not start; see .local/dev/admin-ui.log"
  ui_line="admin UI            http://localhost:$UI_PORT (admin@wabot.local / wabot-local-admin)"
fi

# A demo API key for the messaging API (docs/integration.md): a new one each
# start, the previous demo keys revoked; stored as its SHA-256 like any key.
demo_key_prefix="wbk_$(openssl rand -hex 4)"
demo_key="${demo_key_prefix}_$(openssl rand -hex 24)"
demo_number_id=$(PGPASSWORD=postgres psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DB_PORT" -U postgres \
  -d postgres <<SQL
update public.api_keys set revoked_at = now() where name = 'demo (scripts/dev.sh)' and revoked_at is null;
insert into public.api_keys (name, prefix, key_hash, scopes)
values ('demo (scripts/dev.sh)', '$demo_key_prefix', '$(printf '%s' "$demo_key" | sha256sum | cut -c1-64)',
        array['messages:send', 'messages:read', 'contacts:read', 'webhooks:manage']);
select id from public.numbers where phone_number = '$DEMO_NUMBER';
SQL
)

cat <<MSG

The local stack is up ($(( $(date +%s) - started_at )) s).

  Postgres (pg_cron)  postgresql://postgres:postgres@127.0.0.1:$DB_PORT/postgres
  functions gateway   http://127.0.0.1:$GATEWAY_PORT/functions/v1/<name>
  session daemon      http://127.0.0.1:$DAEMON_PORT/status
  media S3 (moto)     $WABOT_MEDIA_S3_ENDPOINT, bucket $WABOT_MEDIA_S3_BUCKET (in memory: gone on stop)
  $ui_line
  logs                .local/dev/*.log

Talk to the demo bot on the demo number $DEMO_NUMBER as a simulated contact:

  ./scripts/contact.sh "hi"
  ./scripts/contact.sh --button-reply 1 "Opening hours"   # a tap on the menu routes by its id
  ./scripts/contact.sh --location 38.7223,-9.1393         # the bot answers with the shop's pin
  ./scripts/contact.sh --picture photo.jpg "my order"      # a JPEG or PNG of yours: stored in the media bucket, thanked for

Send from the demo number through the messaging API with the demo API key
(shown once; docs/integration.md has every call and the webhooks):

  curl -s http://127.0.0.1:$GATEWAY_PORT/functions/v1/messages-api/v1/messages \\
    -H "Authorization: Bearer $demo_key" -H 'content-type: application/json' \\
    -H "Idempotency-Key: demo-\$(date +%s)" \\
    -d '{"number_id": "$demo_number_id", "to": "+15550109999", "content": {"kind": "text", "text": "Hello from the API"}}'

See the rows it wrote (docs/messages.md explains content):

  psql postgresql://postgres:postgres@127.0.0.1:$DB_PORT/postgres -c "select direction, type, body, status, content from messages order by created_at"

Stop everything with ./scripts/dev.sh stop
MSG
