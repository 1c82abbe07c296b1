#!/usr/bin/env bash
# The project-owned PostgreSQL 15 cluster that stands in for Supabase's
# database: pg_cron preloaded, pgTAP available, the Supabase bootstrap
# applied, migrations pushed with the real Supabase CLI. Sourced by dev.sh
# and test.sh; expects common.sh to be sourced first.
#
#   db_start <state dir> <port>   init (first time), bootstrap, start
#   db_stop <state dir>           fast shutdown
#   db_migrate <port>             supabase db push of migrations/

db_url() { echo "postgresql://postgres:postgres@127.0.0.1:$1/postgres"; }

db_start() {
  local state_dir=$1 port=$2
  local data_dir="$state_dir/pgdata" socket_dir="$state_dir/run"
  mkdir -p "$state_dir" "$socket_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$state_dir" "$socket_dir"; fi

  if [ ! -s "$data_dir/PG_VERSION" ]; then
    log "initialising the Postgres cluster in ${data_dir#"$REPO_ROOT"/}"
    local password_file
    password_file="$(mktemp)"
    echo postgres > "$password_file"
    chmod 644 "$password_file"
    as_postgres initdb -D "$data_dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$password_file" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$password_file"
    cat >> "$data_dir/postgresql.conf" <<CONF

# --- wabot local stack (scripts/lib/db.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
# pg_stat_statements is preloaded on Supabase's image too; track = all
# (WABOT_PG_TRACK_STATEMENTS, for the load benchmark's --profile) counts the
# statements inside functions and triggers.
shared_preload_libraries = 'pg_cron,pg_stat_statements'
pg_stat_statements.track = ${WABOT_PG_TRACK_STATEMENTS:-top}
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
max_connections = 200
fsync = ${WABOT_PG_FSYNC:-on}
timezone = 'UTC'
CONF
  fi

  if as_postgres pg_ctl -D "$data_dir" status >/dev/null 2>&1; then
    log "Postgres already running on port $port"
  else
    if port_in_use "$port"; then
      die "port $port is taken by another program; stop it or set another port (see README.md, Ports)"
    fi
    log "starting Postgres on 127.0.0.1:$port"
    as_postgres pg_ctl -D "$data_dir" -l "$state_dir/postgres.log" -w -t 60 start >/dev/null \
      || die "Postgres did not start; see ${state_dir#"$REPO_ROOT"/}/postgres.log"
  fi

  if [ ! -f "$data_dir/wabot-bootstrapped" ]; then
    log "applying the Supabase bootstrap (supabase/local/bootstrap.sql)"
    PGPASSWORD=postgres psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -f "$REPO_ROOT/supabase/local/bootstrap.sql" >/dev/null
    as_postgres touch "$data_dir/wabot-bootstrapped"
  fi
}

db_stop() {
  local data_dir="$1/pgdata"
  if [ -s "$data_dir/PG_VERSION" ] && as_postgres pg_ctl -D "$data_dir" status >/dev/null 2>&1; then
    log "stopping Postgres"
    as_postgres pg_ctl -D "$data_dir" -m fast -w stop >/dev/null
  fi
}

db_migrate() {
  local port=$1
  log "pushing migrations with the Supabase CLI (supabase db push)"
  (cd "$REPO_ROOT" && supabase db push --yes --include-all \
    --db-url "$(db_url "$port")?sslmode=disable") >"$REPO_ROOT/.local/db-push.log" 2>&1 \
    || { cat "$REPO_ROOT/.local/db-push.log" >&2; die "supabase db push failed"; }
}
