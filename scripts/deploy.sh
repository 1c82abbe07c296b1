#!/usr/bin/env bash
# Deploys to a hosted Supabase project, in the runbook's order:
#   1. db         supabase db push (migrations/)
#   2. secrets    supabase secrets set, the Edge Functions' secrets
#      vault      the doorbell's Vault secrets (project_url, outbox_relay_secret)
#                 with private.set_vault_secret, safe to run again; in the
#                 default steps when a database URL is given (--db-url or
#                 SUPABASE_DB_URL: the session pooler or the direct connection)
#   3. functions  supabase functions deploy (every function in supabase/config.toml)
#   4. images     docker compose build && docker compose push (with --images)
#   5. smoke      scripts/smoke.sh against the deployment (with --smoke)
# Nothing secret is printed: the plan names the secrets, never their values.
# Before the secrets step it finds out how the project signs user tokens (its
# JWKS at $SUPABASE_URL/auth/v1/.well-known/jwks.json, or WABOT_JWT_ALG) and
# refuses to deploy an HS256 project without JWT_SECRET.
#
#   scripts/deploy.sh [--env-file FILE] [--project-ref REF] [--only STEPS]
#                     [--db-url URL] [--images] [--smoke] [--docker] [--dry-run]
#   scripts/deploy.sh --check [--env-file FILE] [--project-ref REF] [--db-url URL]
#
#   --check           the doctor: inspect the project (hosted, or the local
#                     stack) and print one line per misconfiguration with how
#                     to fix it; exit 1 if there is any. It checks the JWT
#                     setup, the Vault secrets, the doorbell job (pg_cron,
#                     pg_net, its timeout), WABOT_STATUS_URL, the daemon's
#                     database URL (sslmode, pooler port) and the functions'
#                     secrets (`supabase secrets list` when a project ref and
#                     SUPABASE_ACCESS_TOKEN are given, else the environment).
#                     --db-url (or SUPABASE_DB_URL) is the database to inspect.
#
#   --env-file FILE   KEY=VALUE file with the settings below [default: .env.local]
#   --project-ref REF the project (SUPABASE_PROJECT_REF) [default: the linked one]
#   --only STEPS      comma-separated subset of db,secrets,vault,functions,images,smoke
#   --db-url URL      push migrations to this database instead of the linked project
#   --docker          bundle functions with Docker instead of --use-api
#   --dry-run         check the settings and print the commands, run nothing
#
# Settings (environment or the env file):
#   SUPABASE_ACCESS_TOKEN   personal access token for the CLI (secrets, functions)
#   SUPABASE_PROJECT_REF    project ref, unless linked (supabase link)
#   OUTBOX_RELAY_SECRET     the functions' relay secret (also in Vault, docs/deploy.md)
#   WABOT_DAEMON_TOKEN      the daemons' bearer token, given to admin-api
#   ADMIN_UI_ORIGIN         the admin UI's origin(s) for CORS
#   SUPABASE_DB_PASSWORD    the database password, to link the project for db push
#   DB_POOLER_URL, JWT_SECRET, JWKS_URL   optional function secrets (docs/deploy.md);
#                           JWT_SECRET is required while the project signs with HS256
#   SUPABASE_URL            the project URL (its JWKS) [default: https://<ref>.supabase.co]
#   WABOT_JWT_ALG           HS256 or asymmetric: skip the JWKS probe and say how tokens are signed
#   WABOT_DATABASE_URL, WABOT_STATUS_URL  the daemon's settings, checked by --check
#   WABOT_REGISTRY, WABOT_IMAGE_TAG       where --images pushes
# The daemon's own settings (WABOT_DATABASE_URL, SUPABASE_SERVICE_ROLE_KEY,
# WABOT_SESSION_STORAGE_PATH, WABOT_CLOUD_* webhook secrets) go to the
# runtime host's environment (docker-compose.yml), not to Supabase.
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

usage() { ops_usage "$0"; }

env_file="" project_ref="" only="db,secrets,functions" db_url="" images=0 smoke=0 docker_bundle=0 dry_run=0 check=0
only_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) env_file=${2:?}; shift 2 ;;
    --project-ref) project_ref=${2:?}; shift 2 ;;
    --only) only=${2:?}; only_given=1; shift 2 ;;
    --db-url) db_url=${2:?}; shift 2 ;;
    --images) images=1; shift ;;
    --smoke) smoke=1; shift ;;
    --docker) docker_bundle=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --check) check=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [ -z "$env_file" ] && [ -f "$REPO_ROOT/.env.local" ]; then env_file="$REPO_ROOT/.env.local"; fi
if [ -n "$env_file" ]; then ops_load_env_file "$env_file"; fi
project_ref=${project_ref:-${SUPABASE_PROJECT_REF:-}}
if [ "$only_given" = 0 ]; then
  if [ -n "$db_url" ] || [ -n "${SUPABASE_DB_URL:-}" ]; then only+=",vault"; fi
  if [ "$images" = 1 ]; then only+=",images"; fi
  if [ "$smoke" = 1 ]; then only+=",smoke"; fi
fi
for step in ${only//,/ }; do
  case "$step" in db | secrets | vault | functions | images | smoke) ;; *) die "--only: unknown step $step" ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

# Whether URL $1's host is this machine (127.0.0.0/8, ::1, localhost).
is_loopback_url() {
  local host
  host=$(sed -E 's#^[a-z]+://##; s#^[^@/]*@##; s#[/?].*$##; s#^\[([^]]*)\].*#\1#; s#:[0-9]+$##' <<<"$1")
  [[ "$host" =~ ^(127\.[0-9.]+|localhost|::1)$ ]]
}

# How the project signs user tokens: "HS256", "asymmetric", or "unknown:
# <why>". WABOT_JWT_ALG wins; else its JWKS: no asymmetric key (RSA, EC,
# OKP) in it means HS256.
jwt_signing() {
  local base=$1 body
  case "${WABOT_JWT_ALG:-}" in
    HS256 | hs256) echo HS256; return ;;
    asymmetric | ES256 | RS256) echo asymmetric; return ;;
    "") ;;
    *) die "WABOT_JWT_ALG must be HS256 or asymmetric, not $WABOT_JWT_ALG" ;;
  esac
  [ -n "$base" ] || { echo "unknown: no SUPABASE_URL to find the JWKS at"; return; }
  if ! body=$(curl -fsS --max-time 5 "${base%/}/auth/v1/.well-known/jwks.json" 2>&1); then
    echo "unknown: no JWKS reachable at ${base%/}/auth/v1/.well-known/jwks.json (${body:0:80})"; return
  fi
  if jq -e '(.keys | type) == "array" and any(.keys[]; .kty == "RSA" or .kty == "EC" or .kty == "OKP")' <<<"$body" >/dev/null 2>&1; then
    echo asymmetric
  elif jq -e '(.keys | type) == "array"' <<<"$body" >/dev/null 2>&1; then
    echo HS256
  else
    echo "unknown: ${base%/}/auth/v1/.well-known/jwks.json is not a JWKS"
  fi
}

# --- the doctor (--check) ---------------------------------------------------------
if [ "$check" = 1 ]; then
  ops_require_tools psql jq curl
  check_db=${db_url:-${SUPABASE_DB_URL:-}}
  [ -n "$check_db" ] || die "--check needs the database to inspect: --db-url URL (hosted: the session pooler, port 5432, or the direct connection)"
  if is_loopback_url "$check_db" && [[ "$check_db" != *sslmode=* ]]; then
    check_db+=$([[ "$check_db" == *\?* ]] && echo '&' || echo '?')sslmode=disable
  fi
  base_url=${SUPABASE_URL:-}
  if [ -z "$base_url" ] && [ -n "$project_ref" ] && ! is_loopback_url "$check_db"; then base_url="https://$project_ref.supabase.co"; fi
  found=() passed=0
  problem() { found+=("$1"); ops_fail "$1"; }
  good() { passed=$((passed + 1)); ops_ok "$1"; }
  sql() { psql -X -At -v ON_ERROR_STOP=1 -d "$check_db" -c "$1" 2>&1; }
  log "checking $(ops_redact_url "$check_db")${base_url:+ and $base_url}"
  sql 'select 1' >/dev/null || die "cannot connect to $(ops_redact_url "$check_db"): $(sql 'select 1' | head -1)"

  # The functions' secrets: from the project when it is linked, else here.
  # (A linked project, supabase link, counts as named.)
  secret_names="" secrets_source="the environment"
  check_ref=${project_ref:-$(cat "$REPO_ROOT/supabase/.temp/project-ref" 2>/dev/null || true)}
  if [ -n "$check_ref" ] && [ -n "${SUPABASE_ACCESS_TOKEN:-}" ] && ! is_loopback_url "$check_db"; then
    secrets_source="supabase secrets list"
    secret_names=$(cd "$REPO_ROOT" && supabase secrets list --project-ref "$check_ref" -o json 2>/dev/null | jq -r '.[].name') \
      || problem "cannot list the functions' secrets of $check_ref (supabase secrets list): check SUPABASE_ACCESS_TOKEN"
  else
    for name in OUTBOX_RELAY_SECRET WABOT_DAEMON_TOKEN ADMIN_UI_ORIGIN JWT_SECRET SUPABASE_JWT_SECRET JWKS_URL; do
      if [ -n "${!name:-}" ]; then secret_names+="$name"$'\n'; fi
    done
  fi
  has_secret() { grep -qx "$1" <<<"$secret_names"; }

  # 1. JWT setup.
  signing=$(jwt_signing "$base_url")
  jwks_note=${signing#unknown: }
  # (SUPABASE_JWT_SECRET is the local gateway's; hosted functions can only be
  # given JWT_SECRET: names starting with SUPABASE_ are reserved.)
  case "$signing" in
    HS256)
      if has_secret JWT_SECRET; then good "JWT: the project signs with HS256 and the functions have JWT_SECRET"
      else problem "JWT: the project signs user tokens with HS256 but the functions have no JWT_SECRET: supabase secrets set JWT_SECRET=<the legacy JWT secret> (dashboard, JWT Keys), or move the project to asymmetric signing keys"; fi ;;
    asymmetric) good "JWT: the project signs with asymmetric keys (JWKS at ${base_url%/}/auth/v1/.well-known/jwks.json)" ;;
    *)
      # Every hosted project serves a JWKS (empty while it signs with HS256);
      # the functions fall back to it when SUPABASE_JWKS is absent.
      if [ -z "$base_url" ] && is_loopback_url "$check_db"; then
        good "JWT: the local stack's gateway verifies HS256 with SUPABASE_JWT_SECRET"
      else
        problem "JWT: $jwks_note: the functions cannot fetch the signing keys; set SUPABASE_URL to the project URL (https://<ref>.supabase.co)$(has_secret JWT_SECRET || echo ', and JWT_SECRET if the project signs with HS256')"
      fi ;;
  esac

  # 2. Vault secrets of the doorbell.
  if [ "$(sql "select count(*) from pg_namespace where nspname = 'vault'" || true)" != 1 ]; then
    problem "Vault: the vault schema does not exist (supabase_vault): the doorbell cannot read project_url and outbox_relay_secret"
  else
    for vname in project_url outbox_relay_secret; do
      vlen=$(sql "select coalesce(max(length(btrim(decrypted_secret))), -1) from vault.decrypted_secrets where name = '$vname'" || true)
      if [ "$vlen" = -1 ]; then problem "Vault: no secret named $vname: select private.set_vault_secret('$vname', '<value>'); (docs/deploy.md, step 2)"
      elif [ "$vlen" = 0 ]; then problem "Vault: the secret $vname is empty: select private.set_vault_secret('$vname', '<value>');"
      else good "Vault: $vname is set"; fi
    done
    if [ -n "${OUTBOX_RELAY_SECRET:-}" ] && [ "$(sql "select count(*) from vault.decrypted_secrets where name = 'outbox_relay_secret'")" = 1 ]; then
      same=$(psql -X -At -d "$check_db" -v v="$OUTBOX_RELAY_SECRET" <<<"select count(*) from vault.decrypted_secrets where name = 'outbox_relay_secret' and decrypted_secret = :'v';" 2>&1 || true)
      if [ "$same" != 1 ]; then problem "Vault: outbox_relay_secret differs from OUTBOX_RELAY_SECRET: the doorbell's calls get 401; set both to the same value (private.set_vault_secret, supabase secrets set)"; fi
    fi
  fi

  # 3. The doorbell: pg_net, the pg_cron job, its timeout.
  has_pg_net=$(sql "select count(*) from pg_extension where extname = 'pg_net'" || true)
  job=$(sql "select schedule || '|' || active || '|' || command from cron.job where jobname = 'outbox-relay-doorbell'" || true)
  if [ -z "$job" ]; then
    if [ "$has_pg_net" = 1 ]; then problem "doorbell: no pg_cron job outbox-relay-doorbell: run supabase db push (migration 20261125001000_outbox_doorbell.sql schedules it)"
    elif is_loopback_url "$check_db"; then ops_skip "doorbell: no pg_net on the local stack; the daemons relay the outbox (WABOT_RELAY=on)"
    else problem "doorbell: pg_net is not installed, so nothing wakes outbox-relay: enable pg_net (dashboard, Database, Extensions), then supabase db push"; fi
  else
    IFS='|' read -r job_schedule job_active job_command <<<"$job"
    [ "$has_pg_net" = 1 ] || problem "doorbell: the job outbox-relay-doorbell exists but pg_net is not installed: enable pg_net (dashboard, Database, Extensions)"
    [ "$job_active" = t ] || problem "doorbell: the pg_cron job outbox-relay-doorbell is not active: select cron.alter_job(jobid, active := true) from cron.job where jobname = 'outbox-relay-doorbell';"
    [ "$job_schedule" = '* * * * *' ] || problem "doorbell: the job outbox-relay-doorbell runs on '$job_schedule', not every minute ('* * * * *'): select cron.schedule('outbox-relay-doorbell', '* * * * *', 'select private.kick_outbox_relay(''tick'')');"
    [[ "$job_command" == *"private.kick_outbox_relay("* ]] || problem "doorbell: the job outbox-relay-doorbell does not call private.kick_outbox_relay: re-schedule it as in 20261125001000_outbox_doorbell.sql"
    if [ "$has_pg_net" = 1 ] && [ "$job_active" = t ] && [ "$job_schedule" = '* * * * *' ]; then good "doorbell: pg_net and the minutely job outbox-relay-doorbell"; fi
  fi
  budget=$(sed -n 's/^const TIME_BUDGET_MS = \([0-9_]*\);.*/\1/p' "$REPO_ROOT/functions/outbox-relay/index.ts" | tr -d _)
  timeout_ms=$(sql "select private.outbox_doorbell_timeout_ms()" 2>/dev/null || true)
  if ! [[ "$timeout_ms" =~ ^[0-9]+$ ]]; then problem "doorbell: private.outbox_doorbell_timeout_ms() is missing: run supabase db push (20261203020000_doorbell_timeout_and_vault_setup.sql)"
  elif [ -n "$budget" ] && [ "$timeout_ms" -lt "$budget" ]; then problem "doorbell: its pg_net timeout ($timeout_ms ms) is shorter than outbox-relay's time budget ($budget ms): raise private.outbox_doorbell_timeout_ms()"
  else good "doorbell: pg_net timeout $timeout_ms ms covers the relay's ${budget:-?} ms budget"; fi

  # 4. and 5. The daemon's settings.
  daemon_db=${WABOT_DATABASE_URL:-}
  if [ -z "$daemon_db" ]; then
    ops_skip "daemon: WABOT_DATABASE_URL is not set here: its sslmode and status URL are not checked"
  elif is_loopback_url "$daemon_db"; then
    good "daemon: its database is on this machine (no TLS needed)"
  else
    sslmode=$(grep -oE '[?&]sslmode=[a-z-]+' <<<"$daemon_db" | head -1 | cut -d= -f2 || true)
    case "$sslmode" in
      require | verify-ca | verify-full) good "daemon: sslmode=$sslmode" ;;
      *) problem "daemon: WABOT_DATABASE_URL has sslmode=${sslmode:-<none>} to a database across the network: add ?sslmode=require (or verify-full with sslrootcert= Supabase's CA)" ;;
    esac
    if grep -qE ':6543([/?]|$)' <<<"$daemon_db"; then
      problem "daemon: WABOT_DATABASE_URL uses port 6543, the transaction pooler, which cannot LISTEN: use the session pooler (port 5432 on the pooler host) or the direct connection (db.<ref>.supabase.co:5432)"
    fi
    if [ -z "${WABOT_STATUS_URL:-}" ]; then
      problem "daemon: WABOT_STATUS_URL is not set: the health sweep cannot probe this runtime; set it to the daemon's public https://…/status"
    elif is_loopback_url "$WABOT_STATUS_URL"; then
      problem "daemon: WABOT_STATUS_URL $WABOT_STATUS_URL is a loopback address but the database is not: the hosted health sweep cannot reach it (every sweep raises runtime_unreachable); set the daemon's public https://…/status"
    else
      good "daemon: WABOT_STATUS_URL $WABOT_STATUS_URL"
    fi
  fi
  if ! is_loopback_url "$check_db"; then
    loopback_runtimes=$(sql "select string_agg(id::text, ', ') from public.runtime_instances
      where status_url ~ '^https?://(127\.|localhost|\[::1\])' and last_heartbeat_at > now() - interval '1 day'" 2>/dev/null || true)
    if [ -n "$loopback_runtimes" ]; then
      problem "daemon: runtime(s) $loopback_runtimes registered a loopback status URL with this hosted database: set their WABOT_STATUS_URL to a public address"
    fi
  fi

  # 6. The functions' secrets.
  for name in OUTBOX_RELAY_SECRET WABOT_DAEMON_TOKEN ADMIN_UI_ORIGIN; do
    if has_secret "$name"; then good "functions: $name is set ($secrets_source)"
    else problem "functions: $name is not set ($secrets_source): supabase secrets set $name=… (docs/deploy.md, step 3)"; fi
  done
  if [ "$secrets_source" = "the environment" ] && [ -n "${OUTBOX_RELAY_SECRET:-}" ] && [ ${#OUTBOX_RELAY_SECRET} -lt 32 ]; then
    problem "functions: OUTBOX_RELAY_SECRET is shorter than 32 characters: openssl rand -hex 32"
  fi

  echo
  if [ ${#found[@]} -gt 0 ]; then
    printf '\033[31mdeploy check: %d problem(s)\033[0m, %d check(s) passed\n' "${#found[@]}" "$passed"
    exit 1
  fi
  printf '\033[32mdeploy check passed\033[0m: %d check(s)\n' "$passed"
  exit 0
fi

# The functions' secrets: the names set with `supabase secrets set`.
# (SUPABASE_* names are reserved: the platform injects those itself.)
required_secrets=(OUTBOX_RELAY_SECRET WABOT_DAEMON_TOKEN ADMIN_UI_ORIGIN)
optional_secrets=(DB_POOLER_URL JWT_SECRET JWKS_URL)

problems=()
ref_args=()
if [ -n "$project_ref" ]; then
  [[ "$project_ref" =~ ^[a-z]{20}$ ]] || problems+=("SUPABASE_PROJECT_REF '$project_ref' is not a project ref (20 lowercase letters)")
  ref_args=(--project-ref "$project_ref")
elif { wants secrets || wants functions || { wants db && [ -z "$db_url" ]; }; } \
  && [ ! -f "$REPO_ROOT/supabase/.temp/project-ref" ]; then
  problems+=("no project: set SUPABASE_PROJECT_REF (or --project-ref), or run supabase link --project-ref <ref>")
fi
if { wants secrets || wants functions; } && [ -z "${SUPABASE_ACCESS_TOKEN:-}" ]; then
  problems+=("SUPABASE_ACCESS_TOKEN is not set (supabase login, or a personal access token)")
fi
if wants secrets; then
  for name in "${required_secrets[@]}"; do
    [ -n "${!name:-}" ] || problems+=("$name is not set")
  done
  if [ -n "${OUTBOX_RELAY_SECRET:-}" ] && [ ${#OUTBOX_RELAY_SECRET} -lt 32 ]; then problems+=("OUTBOX_RELAY_SECRET must be at least 32 characters"); fi
  if [ -n "${WABOT_DAEMON_TOKEN:-}" ] && [ ${#WABOT_DAEMON_TOKEN} -lt 16 ]; then problems+=("WABOT_DAEMON_TOKEN must be at least 16 characters"); fi
  if [ -n "${REDIS_URL:-}" ]; then warn "REDIS_URL is set but nothing uses Redis (docs/adr/0005-no-redis.md): not deployed"; fi
  # An HS256 project's user tokens can only be verified with its JWT secret.
  jwt_base=${SUPABASE_URL:-}
  if [ -z "$jwt_base" ] && [ -n "$project_ref" ] && [ "$dry_run" = 0 ]; then jwt_base="https://$project_ref.supabase.co"; fi
  signing=$(jwt_signing "$jwt_base")
  jwks_note=${signing#unknown: }
  case "$signing" in
    HS256) [ -n "${JWT_SECRET:-}" ] || problems+=("JWT_SECRET is not set but the project signs user tokens with HS256: set it to the project's legacy JWT secret (dashboard, JWT Keys), or move to asymmetric signing keys") ;;
    asymmetric) ;;
    *) if [ -z "${JWT_SECRET:-}" ]; then warn "cannot tell how the project signs user tokens ($jwks_note): if it is HS256, set JWT_SECRET (or WABOT_JWT_ALG=asymmetric to silence this)"; fi ;;
  esac
fi
if wants vault; then
  [ -n "$db_url" ] || [ -n "${SUPABASE_DB_URL:-}" ] || problems+=("the vault step needs the database: --db-url or SUPABASE_DB_URL (the session pooler, port 5432, or the direct connection)")
  [ -n "${OUTBOX_RELAY_SECRET:-}" ] || problems+=("OUTBOX_RELAY_SECRET is not set (the vault step stores it as outbox_relay_secret)")
  [ -n "${SUPABASE_URL:-}" ] || [ -n "$project_ref" ] || problems+=("the vault step needs SUPABASE_URL or SUPABASE_PROJECT_REF (the project_url secret)")
fi
if wants images; then
  [ -n "${WABOT_REGISTRY:-}" ] || problems+=("WABOT_REGISTRY is not set: where docker compose push sends the images")
  [ -n "${NEXT_PUBLIC_SUPABASE_URL:-}" ] && [ -n "${NEXT_PUBLIC_SUPABASE_ANON_KEY:-}" ] \
    || problems+=("NEXT_PUBLIC_SUPABASE_URL and NEXT_PUBLIC_SUPABASE_ANON_KEY are needed to build the admin UI")
fi
if [ ${#problems[@]} -gt 0 ]; then
  printf '\033[31mcannot deploy:\033[0m\n' >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi

functions=$(sed -n 's/^\[functions\.\([a-z0-9_-]*\)\]$/\1/p' "$REPO_ROOT/supabase/config.toml" | tr '\n' ' ')
[ -n "$functions" ] || die "supabase/config.toml names no functions"

secrets_file=""
cleanup() { if [ -n "$secrets_file" ]; then rm -f "$secrets_file"; fi; }
trap cleanup EXIT

# Runs (or, with --dry-run, prints) a command; $1 is how to show it.
run() {
  local shown=$1
  shift
  printf '  $ %s\n' "$shown"
  if [ "$dry_run" = 0 ]; then (cd "$REPO_ROOT" && "$@"); fi
}

target="the linked project"
if [ -n "$project_ref" ]; then target="project $project_ref"; fi
if [ -n "$db_url" ] && [ "$only" = db ]; then target=$(ops_redact_url "$db_url"); fi
log "deploying$([ "$dry_run" = 1 ] && echo " (dry run: nothing is run)") to $target; steps: $only"

# `supabase db push --linked` needs the project linked (SUPABASE_DB_PASSWORD
# answers the link's password prompt).
if [ -n "$project_ref" ] && wants db && [ -z "$db_url" ] \
  && [ "$(cat "$REPO_ROOT/supabase/.temp/project-ref" 2>/dev/null)" != "$project_ref" ]; then
  log "0. linking the Supabase CLI to $project_ref"
  run "supabase link --project-ref $project_ref" supabase link --project-ref "$project_ref"
fi

if wants db; then
  log "1. migrations (supabase db push)"
  if [ -n "$db_url" ]; then
    # A database on this machine (the local stack) speaks no TLS.
    if [[ "$db_url" =~ ^postgres(ql)?://[^/]*@(127\.[0-9.]+|localhost)[:/] ]] && [[ "$db_url" != *sslmode=* ]]; then
      db_url+=$([[ "$db_url" == *\?* ]] && echo '&' || echo '?')sslmode=disable
    fi
    run "supabase db push --db-url $(ops_redact_url "$db_url")" supabase db push --yes --db-url "$db_url"
  else
    run "supabase db push --linked" supabase db push --yes --linked
  fi
fi

if wants secrets; then
  log "2. the functions' secrets (supabase secrets set)"
  secrets_file=$(mktemp)
  chmod 600 "$secrets_file"
  names=()
  for name in "${required_secrets[@]}" "${optional_secrets[@]}"; do
    if [ -n "${!name:-}" ]; then printf '%s=%s\n' "$name" "${!name}" >>"$secrets_file"; names+=("$name"); fi
  done
  run "supabase secrets set --env-file <${names[*]}> ${ref_args[*]}" supabase secrets set --env-file "$secrets_file" "${ref_args[@]}"
fi

if wants vault; then
  log "2b. the doorbell's Vault secrets (private.set_vault_secret: creates or updates)"
  vault_db=${db_url:-$SUPABASE_DB_URL}
  if [[ "$vault_db" =~ ^postgres(ql)?://[^/]*@(127\.[0-9.]+|localhost)[:/] ]] && [[ "$vault_db" != *sslmode=* ]]; then
    vault_db+=$([[ "$vault_db" == *\?* ]] && echo '&' || echo '?')sslmode=disable
  fi
  project_url=${SUPABASE_URL:-https://$project_ref.supabase.co}
  vault_sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$vault_db" -v url="$project_url" -v secret="$OUTBOX_RELAY_SECRET" >/dev/null <<'SQL'
select private.set_vault_secret('project_url', :'url');
select private.set_vault_secret('outbox_relay_secret', :'secret');
SQL
  }
  run "psql $(ops_redact_url "$vault_db"): private.set_vault_secret project_url=$project_url, outbox_relay_secret=<OUTBOX_RELAY_SECRET>" vault_sql
fi

if wants functions; then
  log "3. the Edge Functions (supabase functions deploy): $functions"
  bundle=(--use-api)
  if [ "$docker_bundle" = 1 ]; then bundle=(); fi
  run "supabase functions deploy ${bundle[*]} ${ref_args[*]}" supabase functions deploy "${bundle[@]}" "${ref_args[@]}"
fi

if wants images; then
  log "4. the runtime images (docker compose build && docker compose push)"
  run "docker compose build" docker compose build
  run "docker compose push" docker compose push
fi

if wants smoke; then
  log "5. the smoke test"
  run "scripts/smoke.sh" "$REPO_ROOT/scripts/smoke.sh"
fi

if [ "$dry_run" = 1 ]; then
  log "dry run complete: the settings are complete; run without --dry-run to deploy"
else
  log "deployed"
fi
