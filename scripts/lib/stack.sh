#!/usr/bin/env bash
# Starting and stopping the local stack's processes: the functions gateway
# and the session daemon. Each runs in the background with a pid file and a
# log under its state directory. Sourced after common.sh and db.sh.

# Prints a JWT signed HS256 with SUPABASE_JWT_SECRET for role $1, expiring at
# Unix time $2 (default: 2032-11-12, like Supabase's local demo keys).
mint_jwt() {
  local role=$1 expires_at=${2:-1983812996} header payload signature
  b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"supabase-demo","role":"%s","exp":%s}' "$role" "$expires_at" | b64url)
  signature=$(printf '%s' "$header.$payload" | openssl dgst -sha256 -hmac "$SUPABASE_JWT_SECRET" -binary | b64url)
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}

# Writes (once) and loads the stack's secrets: a random JWT secret first
# (SUPABASE_JWT_SECRET: Supabase's public local default would let any web
# page mint owner and service_role tokens offline), then the anon and
# service-role keys minted from it, a random daemon token and a random
# outbox relay secret (the `outbox-relay`, `health-check` and
# `alert-dispatch` functions accept it as `Authorization: Bearer`). Never
# committed: they live in the git-ignored state directory. A secrets file
# from before a secret existed gains it; one from before the JWT secret was
# minted (its keys signed with the public default) gets a new secret and
# new keys, keeping its other values.
stack_secrets() {
  local state_dir=$1 secrets="$1/secrets.env"
  mkdir -p "$state_dir"
  umask 077
  if [ -s "$secrets" ] && ! grep -q '^SUPABASE_JWT_SECRET=' "$secrets"; then
    sed -i -e '/^SUPABASE_ANON_KEY=/d' -e '/^SUPABASE_SERVICE_ROLE_KEY=/d' "$secrets"
  fi
  if ! grep -qs '^SUPABASE_JWT_SECRET=' "$secrets"; then
    SUPABASE_JWT_SECRET=$(openssl rand -hex 32)
    export SUPABASE_JWT_SECRET
    {
      echo "SUPABASE_JWT_SECRET=$SUPABASE_JWT_SECRET"
      echo "SUPABASE_ANON_KEY=$(mint_jwt anon)"
      echo "SUPABASE_SERVICE_ROLE_KEY=$(mint_jwt service_role)"
      [ -s "$secrets" ] && cat "$secrets"
    } > "$secrets.new"
    mv "$secrets.new" "$secrets"
  fi
  if ! grep -q '^WABOT_DAEMON_TOKEN=' "$secrets"; then
    echo "WABOT_DAEMON_TOKEN=$(openssl rand -hex 24)" >> "$secrets"
  fi
  if ! grep -q '^OUTBOX_RELAY_SECRET=' "$secrets"; then
    echo "OUTBOX_RELAY_SECRET=$(openssl rand -hex 24)" >> "$secrets"
  fi
  set -a
  # shellcheck disable=SC1090
  source "$secrets"
  set +a
  # The local backups' Ed25519 signing key pair (docs/adr/0007): made once in
  # the git-ignored state folder, like the keys above; settings already in
  # the environment win.
  if [ ! -s "$state_dir/backup-signing.pem" ]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$state_dir/backup-signing.pem")
  fi
  [ -s "$state_dir/backup-signing.pub.pem" ] \
    || openssl pkey -in "$state_dir/backup-signing.pem" -pubout -out "$state_dir/backup-signing.pub.pem"
  export WABOT_BACKUP_SIGNING_KEY_FILE=${WABOT_BACKUP_SIGNING_KEY_FILE:-$state_dir/backup-signing.pem}
  export WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE=${WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE:-$state_dir/backup-signing.pub.pem}
}

# Starts "$@" in the background as service $2 under state dir $1 unless its
# pid file names a live process.
start_service() {
  local state_dir=$1 name=$2
  shift 2
  local pid_file="$state_dir/$name.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    log "$name already running (pid $(cat "$pid_file"))"
    return 0
  fi
  setsid "$@" >"$state_dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$pid_file"
}

stop_service() {
  local state_dir=$1 name=$2 pid_file="$1/$2.pid" pid i
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

# The functions gateway on port $2, for the database on port $3.
start_gateway() {
  local state_dir=$1 port=$2 db_port=$3
  if ! { [ -f "$state_dir/gateway.pid" ] && kill -0 "$(cat "$state_dir/gateway.pid")" 2>/dev/null; } \
    && port_in_use "$port"; then
    die "port $port (functions gateway) is taken by another program"
  fi
  # The gateway runs the functions inside its own process, so they see
  # this environment: the secrets loaded by stack_secrets (OUTBOX_RELAY_SECRET,
  # WABOT_DAEMON_TOKEN, the keys) pass through, as does ADMIN_UI_ORIGIN.
  # WABOT_OUTBOUND_ALLOW is the outbound-URL guard's allow-list
  # (functions/_shared/outbound-url.ts): the local stack's alert channels may
  # post to receivers on loopback; nothing else that is not public.
  start_service "$state_dir" gateway env \
    GATEWAY_PORT="$port" \
    WABOT_OUTBOUND_ALLOW="${WABOT_OUTBOUND_ALLOW:-127.0.0.0/8,::1/128}" \
    SUPABASE_URL="http://127.0.0.1:$port" \
    SUPABASE_DB_URL="$(db_url "$db_port")" \
    deno run --allow-net --allow-env --allow-read "$REPO_ROOT/supabase/local/gateway.ts"
  wait_for_http "http://127.0.0.1:$port/functions/v1/" 60 \
    || { tail -20 "$state_dir/gateway.log" >&2; die "the functions gateway did not start"; }
}

# The session daemon (simulator transport) listening on port $2.
start_daemon() {
  local state_dir=$1 port=$2 db_port=$3 gateway_port=$4
  if ! { [ -f "$state_dir/daemon.pid" ] && kill -0 "$(cat "$state_dir/daemon.pid")" 2>/dev/null; } \
    && port_in_use "$port"; then
    die "port $port (session daemon) is taken by another program"
  fi
  start_service "$state_dir" daemon env \
    WABOT_DATABASE_URL="$(db_url "$db_port")" \
    WABOT_FUNCTIONS_URL="http://127.0.0.1:$gateway_port/functions/v1" \
    WABOT_LISTEN="127.0.0.1:$port" \
    WABOT_SESSION_STORAGE_PATH="$state_dir/sessions" \
    RUST_LOG="${RUST_LOG:-info}" \
    "$CARGO_TARGET_DIR/debug/wabot" daemon
  wait_for_http "http://127.0.0.1:$port/status" 60 \
    || { tail -20 "$state_dir/daemon.log" >&2; die "the session daemon did not start"; }
}

# The media bucket's S3-compatible server on port $2: moto's S3 server from
# the operations virtualenv (the one the backup tests use), holding the
# private bucket `WABOT_MEDIA_S3_BUCKET` (default wabot-media). Exports the
# WABOT_MEDIA_S3_* settings, so the session daemon and the functions gateway
# started after it store and read media there. moto keeps objects in
# memory: they are gone when it stops (the rows keep their keys).
start_media_s3() {
  local state_dir=$1 port=$2 ops_bin=${WABOT_OPS_TOOLS_BIN:-/var/cache/wabot/ops-venv/bin}
  if ! { [ -f "$state_dir/media-s3.pid" ] && kill -0 "$(cat "$state_dir/media-s3.pid")" 2>/dev/null; } \
    && port_in_use "$port"; then
    die "port $port (media S3 server) is taken by another program"
  fi
  start_service "$state_dir" media-s3 env PATH="$ops_bin:$PATH" moto_server -H 127.0.0.1 -p "$port"
  wait_for_http "http://127.0.0.1:$port/" 30 \
    || { tail -20 "$state_dir/media-s3.log" >&2; die "the media S3 server did not start"; }
  export WABOT_MEDIA_S3_ENDPOINT="http://127.0.0.1:$port"
  export WABOT_MEDIA_S3_REGION=${WABOT_MEDIA_S3_REGION:-us-east-1}
  export WABOT_MEDIA_S3_BUCKET=${WABOT_MEDIA_S3_BUCKET:-wabot-media}
  export WABOT_MEDIA_S3_ACCESS_KEY_ID=${WABOT_MEDIA_S3_ACCESS_KEY_ID:-wabot-local}
  export WABOT_MEDIA_S3_SECRET_ACCESS_KEY=${WABOT_MEDIA_S3_SECRET_ACCESS_KEY:-wabot-local-secret}
  # A private bucket (no ACL, no policy: only signed requests reach it).
  # Creating it again is harmless (BucketAlreadyOwnedByYou is ignored).
  AWS_ACCESS_KEY_ID=$WABOT_MEDIA_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$WABOT_MEDIA_S3_SECRET_ACCESS_KEY \
    AWS_DEFAULT_REGION=$WABOT_MEDIA_S3_REGION PATH="$ops_bin:$PATH" \
    aws --endpoint-url "$WABOT_MEDIA_S3_ENDPOINT" s3api create-bucket --bucket "$WABOT_MEDIA_S3_BUCKET" \
    >/dev/null 2>"$state_dir/media-s3-bucket.err" \
    || grep -q BucketAlreadyOwnedByYou "$state_dir/media-s3-bucket.err" \
    || { cat "$state_dir/media-s3-bucket.err" >&2; die "could not create the media bucket $WABOT_MEDIA_S3_BUCKET"; }
}
