#!/usr/bin/env bash
# The runbook's smoke test, one line per check and a non-zero exit on any
# failure:
#   1. the session daemon's GET /status answers 200 (database reachable);
#   2. the number sessions show `connected` in Supabase, each held by a live
#      lease (numbers an operator stopped are skipped);
#   3. the admin UI's bot list loads: GET /functions/v1/admin-api/bots, the
#      route the Bots page calls, answers 200 with a list, as a signed-in
#      member, and CORS lets the admin UI's origin read it;
#   4. with --ui-url, the admin UI serves its /bots page.
#
#   scripts/smoke.sh [--daemon-url URL]... [--functions-url URL] [--db-url URL]
#                    [--token ACCESS_TOKEN] [--ui-url URL] [--ui-origin ORIGIN]
#                    [--number ID|+E164]... [--transport LIST] [--no-numbers REASON]
#                    [--wait SECONDS] [--env-file FILE]
#
# Environment (flags win):
#   WABOT_SMOKE_DAEMON_URL    daemon base URL(s), comma-separated [default: http://127.0.0.1:54380]
#   WABOT_FUNCTIONS_URL       <project URL>/functions/v1 [default: SUPABASE_URL/functions/v1, else the local gateway]
#   WABOT_SMOKE_DB_URL        database URL: numbers are read with SQL (else through the admin API),
#                             and a token is minted for a member when none is given (HS256 projects)
#   WABOT_SMOKE_ACCESS_TOKEN  a signed-in member's access token (hosted: from the admin UI's session)
#   WABOT_SMOKE_UI_URL        the admin UI's base URL (e.g. http://localhost:3000)
#   ADMIN_UI_ORIGIN           the origin CORS must allow [default: http://localhost:3000]
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

usage() { ops_usage "$0"; }

daemon_urls=() functions_url="" db_url="" token="" ui_url="" ui_origin="" numbers=()
transports="" no_numbers="" wait_seconds=0 env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon-url) daemon_urls+=("${2:?--daemon-url needs a value}"); shift 2 ;;
    --functions-url) functions_url=${2:?}; shift 2 ;;
    --db-url) db_url=${2:?}; shift 2 ;;
    --token) token=${2:?}; shift 2 ;;
    --ui-url) ui_url=${2:?}; shift 2 ;;
    --ui-origin) ui_origin=${2:?}; shift 2 ;;
    --number) numbers+=("${2:?--number needs a value}"); shift 2 ;;
    --transport) transports=${2:?}; shift 2 ;;
    --no-numbers) no_numbers=${2:?--no-numbers needs a reason}; shift 2 ;;
    --wait) wait_seconds=${2:?}; shift 2 ;;
    --env-file) env_file=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [ -n "$env_file" ]; then ops_load_env_file "$env_file"; fi
if [ ${#daemon_urls[@]} -eq 0 ]; then
  IFS=, read -r -a daemon_urls <<<"${WABOT_SMOKE_DAEMON_URL:-http://127.0.0.1:54380}"
fi
if [ -z "$functions_url" ]; then
  functions_url=${WABOT_FUNCTIONS_URL:-${SUPABASE_URL:+${SUPABASE_URL%/}/functions/v1}}
  functions_url=${functions_url:-http://127.0.0.1:54321/functions/v1}
fi
functions_url=${functions_url%/}
db_url=${db_url:-${WABOT_SMOKE_DB_URL:-}}
token=${token:-${WABOT_SMOKE_ACCESS_TOKEN:-}}
ui_url=${ui_url:-${WABOT_SMOKE_UI_URL:-}}
ui_origin=${ui_origin:-${ADMIN_UI_ORIGIN:-http://localhost:3000}}
ui_origin=${ui_origin%%,*}
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "--wait takes seconds, not $wait_seconds"
ops_require_tools curl jq
if [ -n "$db_url" ]; then ops_require_tools psql; fi

passed=0 failed=0 skipped=0
pass() { ops_ok "$*"; passed=$((passed + 1)); }
failure() { ops_fail "$*"; failed=$((failed + 1)); }
skip() { ops_skip "$*"; skipped=$((skipped + 1)); }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db_url" "$@"; }
body=$(mktemp) headers=$(mktemp)
trap 'rm -f "$body" "$headers"' EXIT

# GET with optional bearer token; sets http_status and elapsed_ms, the body
# in $body and the headers in $headers.
http_get() {
  local url=$1 auth=${2:-} args=(-s -o "$body" -D "$headers" -w '%{http_code} %{time_total}' --max-time 10)
  if [ -n "$auth" ]; then args+=(-H "Authorization: Bearer $auth"); fi
  if [ -n "${3:-}" ]; then args+=(-H "Origin: $3"); fi
  local out
  : >"$body"
  : >"$headers"
  out=$(curl "${args[@]}" "$url" 2>/dev/null) || out="000 0"
  http_status=${out%% *}
  elapsed_ms=$(awk -v t="${out#* }" 'BEGIN { printf "%d", t * 1000 }')
}

printf 'smoke test\n  daemon     %s\n  functions  %s\n  database   %s\n' \
  "${daemon_urls[*]}" "$functions_url" "$([ -n "$db_url" ] && ops_redact_url "$db_url" || echo "not given: numbers read through the admin API")"

# The access token: given, or minted for a member of the database.
token_note=""
if [ -z "$token" ] && [ -n "$db_url" ]; then
  member=$(sql -F ' ' -c "select m.user_id, coalesce(u.email, '') from public.members m
    left join auth.users u on u.id = m.user_id
    order by case m.role when 'viewer' then 0 when 'operator' then 1 when 'admin' then 2 else 3 end, m.created_at
    limit 1" 2>/dev/null || true)
  if [ -n "$member" ]; then
    token=$(ops_mint_user_jwt "${member%% *}" "${member#* }" 300)
    token_note="as ${member#* } (token minted with SUPABASE_JWT_SECRET)"
  fi
fi

# --- 1. GET /status ---------------------------------------------------------------
for daemon_url in "${daemon_urls[@]}"; do
  daemon_url=${daemon_url%/}
  http_get "$daemon_url/status"
  if [ "$http_status" = 200 ] && jq -e '.database.reachable == true' "$body" >/dev/null 2>&1; then
    pass "GET $daemon_url/status answered 200 in $elapsed_ms ms: instance $(jq -r .instance_id "$body"), database reachable, sessions $(jq -c '.sessions.by_state | with_entries(select(.value > 0))' "$body")"
  elif [ "$http_status" = 200 ]; then
    failure "GET $daemon_url/status answered 200 but not a healthy status: $(head -c 300 "$body")"
  elif [ "$http_status" = 000 ]; then
    failure "GET $daemon_url/status: no answer (is the daemon running? see WABOT_LISTEN)"
  else
    failure "GET $daemon_url/status answered $http_status: $(head -c 300 "$body")"
  fi
done

# --- 2. number sessions connected ----------------------------------------------------
# Lines "id phone transport status lease_ok sticky_stop", from SQL or the admin API.
numbers_snapshot() {
  if [ -n "$db_url" ]; then
    sql -F ' ' -c "select n.id, n.phone_number, n.transport, n.session_status,
        (n.lease_holder is not null and n.lease_expires_at > now()),
        n.session_status = 'stopped' and coalesce((
          select (e.detail ->> 'sticky')::boolean from public.number_connection_events e
          where e.number_id = n.id and e.event in ('stopped', 'stop_requested')
          order by e.id desc limit 1), false)
      from public.numbers n order by n.phone_number"
  else
    local cursor="" page=0 url
    while :; do
      url="$functions_url/admin-api/numbers?limit=200${cursor:+&cursor=$cursor}"
      http_get "$url" "$token"
      [ "$http_status" = 200 ] || { echo "ERROR GET /admin-api/numbers answered $http_status: $(head -c 200 "$body")"; return 0; }
      jq -r '.data[] | [.id, .phone_number, .transport, .session_status,
        ((.lease_holder != null) and ((.lease_expires_at // "1970-01-01T00:00:00Z") | sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601 > now)),
        false] | map(tostring) | join(" ")' "$body"
      cursor=$(jq -r '.next_cursor // empty' "$body")
      page=$((page + 1))
      [ -n "$cursor" ] && [ "$page" -lt 100 ] || break
    done
  fi
}

# Whether a stopped number was stopped by an operator (admin API mode).
sticky_via_api() {
  http_get "$functions_url/admin-api/numbers/$1/events?event=stopped,stop_requested&limit=1" "$token"
  [ "$http_status" = 200 ] && jq -e '.data[0].detail.sticky == true' "$body" >/dev/null 2>&1
}

selected() { # id phone transport
  local wanted
  if [ -n "$transports" ] && [[ ",$transports," != *",$3,"* ]]; then return 1; fi
  [ ${#numbers[@]} -eq 0 ] && return 0
  for wanted in "${numbers[@]}"; do [ "$wanted" = "$1" ] || [ "$wanted" = "$2" ] && return 0; done
  return 1
}

if [ -n "$no_numbers" ]; then
  skip "number sessions: not checked ($no_numbers)"
elif [ -z "$db_url" ] && [ -z "$token" ]; then
  failure "number sessions: neither --db-url nor an access token (--token, WABOT_SMOKE_ACCESS_TOKEN) to read them with"
else
  deadline=$(( $(date +%s) + wait_seconds ))
  while :; do
    snapshot=$(numbers_snapshot)
    good=() bad=() stopped=()
    if grep -q '^ERROR ' <<<"$snapshot"; then bad+=("$(grep -m1 '^ERROR ' <<<"$snapshot" | cut -c7-)"); fi
    while read -r id phone transport status leased sticky; do
      [ -n "$id" ] && [ "$id" != ERROR ] || continue
      selected "$id" "$phone" "$transport" || continue
      if [ "$status" = stopped ] && [ ${#numbers[@]} -eq 0 ]; then
        if [ "$sticky" = t ] || { [ -z "$db_url" ] && sticky_via_api "$id"; }; then
          stopped+=("$phone"); continue
        fi
      fi
      if [ "$status" = connected ] && { [ "$leased" = t ] || [ "$leased" = true ]; }; then
        good+=("$phone")
      elif [ "$status" = connected ]; then
        bad+=("$phone connected but no daemon holds its lease (stale status)")
      else
        bad+=("$phone $status")
      fi
    done <<<"$snapshot"
    for wanted in "${numbers[@]}"; do
      awk -v w="$wanted" '$1 == w || $2 == w { found = 1 } END { exit !found }' <<<"$snapshot" \
        || bad+=("$wanted not found")
    done
    if [ ${#bad[@]} -eq 0 ] || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 1
  done
  source_note=$([ -n "$db_url" ] && echo "public.numbers" || echo "GET /admin-api/numbers")
  stopped_note=""
  if [ ${#stopped[@]} -gt 0 ]; then stopped_note="; stopped by an operator, skipped: ${stopped[*]}"; fi
  if [ ${#bad[@]} -gt 0 ]; then
    failure "number sessions ($source_note): ${#good[@]} connected, not connected: $(IFS=';'; echo "${bad[*]}")$stopped_note"
  elif [ ${#good[@]} -eq 0 ]; then
    skip "number sessions ($source_note): no numbers to check$stopped_note"
  else
    pass "number sessions connected in Supabase ($source_note): ${#good[@]} of ${#good[@]} (${good[*]}), each with a live lease$stopped_note"
  fi
fi

# --- 3. the admin UI's bot list ---------------------------------------------------------
if [ -z "$token" ]; then
  failure "admin API bot list: no access token (pass --token or WABOT_SMOKE_ACCESS_TOKEN; with --db-url one is minted for a member on HS256 projects)"
else
  http_get "$functions_url/admin-api/bots" "$token" "$ui_origin"
  allowed=$(tr -d '\r' <"$headers" | awk -F': ' 'tolower($1) == "access-control-allow-origin" { print $2 }' | tail -1)
  if [ "$http_status" = 200 ] && jq -e '.data | type == "array"' "$body" >/dev/null 2>&1; then
    if [ "$allowed" = "$ui_origin" ] || [ "$allowed" = "*" ]; then
      pass "GET $functions_url/admin-api/bots answered 200 in $elapsed_ms ms${token_note:+ $token_note}: $(jq '.data | length' "$body") bot(s) ($(jq -r '[.data[].name] | .[:5] | join(", ")' "$body")); CORS allows $ui_origin"
    else
      failure "GET /admin-api/bots answered 200, but CORS allows '${allowed:-no origin}', not the admin UI's $ui_origin (ADMIN_UI_ORIGIN on the functions)"
    fi
  else
    failure "GET $functions_url/admin-api/bots answered $http_status${token_note:+ $token_note}: $(head -c 300 "$body")"
  fi
fi

# --- 4. the admin UI's /bots page --------------------------------------------------------
if [ -z "$ui_url" ]; then
  skip "admin UI /bots page: not checked (no --ui-url; the admin UI's browser test loads it)"
else
  http_get "${ui_url%/}/bots"
  if [ "$http_status" = 200 ] && grep -qi '<html' "$body"; then
    pass "GET ${ui_url%/}/bots answered 200 in $elapsed_ms ms with the page"
  else
    failure "GET ${ui_url%/}/bots answered $http_status$([ "$http_status" = 000 ] && echo " (no answer: is the admin UI running?)"): $(head -c 200 "$body" | tr '\n' ' ')"
  fi
fi

if [ "$failed" -gt 0 ]; then
  printf '\033[31msmoke test FAILED\033[0m: %d check(s) failed, %d ok, %d skipped\n' "$failed" "$passed" "$skipped"
  exit 1
fi
printf '\033[32msmoke test passed\033[0m: %d check(s) ok, %d skipped\n' "$passed" "$skipped"
