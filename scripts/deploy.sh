#!/usr/bin/env bash
# Deploys to a hosted Supabase project, in the runbook's order:
#   1. db         supabase db push (migrations/)
#   2. secrets    supabase secrets set, the Edge Functions' secrets
#   3. functions  supabase functions deploy (every function in supabase/config.toml)
#   4. images     docker compose build && docker compose push (with --images)
#   5. smoke      scripts/smoke.sh against the deployment (with --smoke)
# Nothing secret is printed: the plan names the secrets, never their values.
#
#   scripts/deploy.sh [--env-file FILE] [--project-ref REF] [--only STEPS]
#                     [--db-url URL] [--images] [--smoke] [--docker] [--dry-run]
#
#   --env-file FILE   KEY=VALUE file with the settings below [default: .env.local]
#   --project-ref REF the project (SUPABASE_PROJECT_REF) [default: the linked one]
#   --only STEPS      comma-separated subset of db,secrets,functions,images,smoke
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
#   DB_POOLER_URL, JWT_SECRET, JWKS_URL   optional function secrets (docs/deploy.md)
#   WABOT_REGISTRY, WABOT_IMAGE_TAG       where --images pushes
# The daemon's own settings (WABOT_DATABASE_URL, SUPABASE_SERVICE_ROLE_KEY,
# WABOT_SESSION_STORAGE_PATH, WABOT_CLOUD_* webhook secrets) go to the
# runtime host's environment (docker-compose.yml), not to Supabase.
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

usage() { ops_usage "$0"; }

env_file="" project_ref="" only="db,secrets,functions" db_url="" images=0 smoke=0 docker_bundle=0 dry_run=0
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
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [ -z "$env_file" ] && [ -f "$REPO_ROOT/.env.local" ]; then env_file="$REPO_ROOT/.env.local"; fi
if [ -n "$env_file" ]; then ops_load_env_file "$env_file"; fi
project_ref=${project_ref:-${SUPABASE_PROJECT_REF:-}}
if [ "$only_given" = 0 ]; then
  if [ "$images" = 1 ]; then only+=",images"; fi
  if [ "$smoke" = 1 ]; then only+=",smoke"; fi
fi
for step in ${only//,/ }; do
  case "$step" in db | secrets | functions | images | smoke) ;; *) die "--only: unknown step $step" ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

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
