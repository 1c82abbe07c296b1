#!/usr/bin/env bash
# Prints a signed-in user's access token for the admin API, as the admin UI
# holds after sign-in: HS256 with SUPABASE_JWT_SECRET (when unset, the random
# secret the local dev stack minted into .local/dev/secrets.env, or
# WABOT_STATE_DIR's), for the member with this email.
# For the local stack and the tests; on a hosted project use the access
# token of your admin UI session instead (docs/runbook.md, "Conventions").
#
#   scripts/user-token.sh EMAIL [--db-url URL] [--ttl SECONDS]
#
#   --db-url URL   where to look the user up [default: WABOT_DB_URL, else the
#                  local stack, 127.0.0.1:54322]; only a database on this
#                  machine unless --allow-remote
#   --ttl SECONDS  how long the token lives [default: 3600]
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

email="" db_url=${WABOT_DB_URL:-postgresql://postgres:postgres@127.0.0.1:54322/postgres} ttl=3600 allow_remote=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db-url) db_url=${2:?}; shift 2 ;;
    --ttl) ttl=${2:?}; shift 2 ;;
    --allow-remote) allow_remote=1; shift ;;
    -h | --help) ops_usage "$0"; exit 0 ;;
    -*) die "unknown argument $1 (see --help)" ;;
    *) email=$1; shift ;;
  esac
done
[ -n "$email" ] || die "usage: scripts/user-token.sh EMAIL (see --help)"
[[ "$ttl" =~ ^[0-9]+$ ]] || die "--ttl takes seconds"
host=$(sed -E 's#^[a-z]+://([^@/]*@)?(\[[^]]*\]|[^:/?]*).*#\2#' <<<"$db_url")
case "$host" in 127.* | localhost | '[::1]' | '') ;;
  *) [ "$allow_remote" = 1 ] || die "$host is not this machine: use your admin UI session's token on hosted projects (or --allow-remote)" ;;
esac
ops_require_tools psql jq openssl
row=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$db_url" -v email="$email" <<<"
  select u.id, coalesce(m.role, '-') from auth.users u left join public.members m on m.user_id = u.id
  where lower(u.email) = lower(:'email');") || die "cannot look up $email in $(ops_redact_url "$db_url")"
[ -n "$row" ] || die "no user $email in auth.users"
[ "${row#* }" != - ] || warn "$email is not a member: the admin API will answer 403"
ops_mint_user_jwt "${row%% *}" "$email" "$ttl"
