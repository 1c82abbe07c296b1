#!/usr/bin/env bash
# Keeps docs/runbook.md true. Every fenced block must be preceded by a marker:
#   <!-- check: run -->            executed by --run, in order, in one shell
#   <!-- check: skip <reason> -->  not runnable on this project's machines, and why
# Always checked: no block without a marker, every skip with a reason, every
# repository path the page names exists, every endpoint it names (`GET /path`)
# is in docs/openapi.json (admin API) or crates/session-daemon/openapi.json
# (daemon), every admin UI page it links exists.
#
#   scripts/check-runbook.sh [--list] [--run] [--before 'HEADING=COMMAND']... [FILE]
#
#   --list    print every block with its marker
#   --run     run the `run` blocks (sh with bash, sql with psql "$DB_URL") from
#             the repository root, with HOME set to a temporary folder;
#             stops at the first failing block
#   --before  run COMMAND just before the first run block whose section
#             ("Section > Subsection") starts with HEADING (a test's setup,
#             such as an incident)
source "$(dirname "$0")/lib/common.sh"

file="$REPO_ROOT/docs/runbook.md" list=0 run=0 hooks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1; shift ;;
    --run) run=1; shift ;;
    --before) hooks+=("${2:?--before needs HEADING=COMMAND}"); shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown argument $1" ;;
    *) file=$1; shift ;;
  esac
done
[ -f "$file" ] || die "no such file: $file"
rel=${file#"$REPO_ROOT"/}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
problems=()

# --- blocks and markers --------------------------------------------------------
# index: n, line, lang, marker, reason, heading (separated by \037: fields may be empty)
awk -v dir="$work" '
  function flush_marker() { marker = ""; reason = "" }
  BEGIN { n = 0; inblock = 0; flush_marker(); heading = ""; h2 = "" }
  inblock {
    if ($0 ~ /^```[ \t]*$/) { inblock = 0; close(out); next }
    print > out; next
  }
  /^<!-- check: (run|skip)/ {
    line = $0
    sub(/^<!-- check: /, "", line); sub(/ *-->[ \t]*$/, "", line)
    marker = line; sub(/ .*/, "", marker)
    reason = (line ~ / /) ? substr(line, index(line, " ") + 1) : ""
    next
  }
  /^```/ {
    n++; lang = substr($0, 4); gsub(/[ \t]/, "", lang)
    out = sprintf("%s/block-%03d", dir, n)
    printf "" > out
    printf "%d\037%d\037%s\037%s\037%s\037%s\n", n, NR, lang, (marker == "" ? "none" : marker), reason, heading >> (dir "/index")
    inblock = 1; flush_marker(); next
  }
  /^## / { h2 = substr($0, 4); heading = h2 }
  /^### / { heading = h2 " > " substr($0, 5) }
  /[^ \t]/ { flush_marker() }
' "$file"
touch "$work/index"

n_run=0 n_skip=0
while IFS=$'\037' read -r n line lang marker reason heading; do
  first=$(grep -m1 -v '^\s*#' "$work/block-$(printf %03d "$n")" | cut -c1-90)
  case "$marker" in
    run) n_run=$((n_run + 1)) ;;
    skip)
      n_skip=$((n_skip + 1))
      [ ${#reason} -ge 15 ] || problems+=("$rel:$line: a skip needs its reason (<!-- check: skip <why it cannot run here> -->)") ;;
    *) problems+=("$rel:$line: a $lang block without a marker: add <!-- check: run --> or <!-- check: skip <reason> -->") ;;
  esac
  if [ "$list" = 1 ]; then
    printf '%-5s %s:%-4s %-5s %s\n' "$marker" "$rel" "$line" "${lang:-text}" "$first"
    if [ "$marker" = skip ]; then printf '%20s why: %s\n' "" "$reason"; fi
  fi
done <"$work/index"

# --- paths, endpoints, pages --------------------------------------------------------
n_paths=0
while read -r path; do
  path=${path%%[.,;:)]}
  case "$path" in *'<'* | *'{'* | *'*'* | *NNNN*) continue ;; esac
  n_paths=$((n_paths + 1))
  [ -e "$REPO_ROOT/$path" ] || problems+=("$rel names $path, which does not exist")
done < <(grep -oE '(^|[^A-Za-z0-9_./-])(scripts|docs|crates|admin-ui|supabase|migrations|functions)/[A-Za-z0-9_./{}<>*-]*[A-Za-z0-9_/]' "$file" \
  | sed -E 's#^[^a-z]##' | sort -u)

n_endpoints=0
normalize='gsub("{[^}]*}"; "{}")'
while read -r method path; do
  n_endpoints=$((n_endpoints + 1))
  lower=$(tr 'A-Z' 'a-z' <<<"$method")
  spec="$REPO_ROOT/crates/session-daemon/openapi.json"
  if [[ "$path" == /admin-api/* ]]; then spec="$REPO_ROOT/docs/openapi.json"; fi
  jq -e --arg p "$path" --arg m "$lower" \
    "[.paths | to_entries[] | select((.key | $normalize) == (\$p | $normalize)) | .value | has(\$m)] | any" \
    "$spec" >/dev/null || problems+=("$rel names $method $path, which ${spec#"$REPO_ROOT"/} does not list")
done < <(grep -oE '`(GET|POST|PUT|PATCH|DELETE) /[^` ]*`' "$file" | tr -d '`' | sort -u)

n_pages=0
while read -r page; do
  n_pages=$((n_pages + 1))
  segment=${page#/}
  [ -z "$segment" ] || [ -f "$REPO_ROOT/admin-ui/src/app/(admin)/$segment/page.tsx" ] \
    || [ -f "$REPO_ROOT/admin-ui/src/app/$segment/page.tsx" ] \
    || problems+=("$rel links the admin UI page $page, which admin-ui/src/app does not have")
done < <(grep -oE 'http://localhost:3000/[a-z-]*' "$file" | sed 's#http://localhost:3000##' | sort -u)

if [ ${#problems[@]} -gt 0 ]; then
  printf '\033[31mrunbook check failed:\033[0m\n' >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
printf 'runbook: %d command blocks (%d run, %d skipped with a reason, none unmarked); %d paths, %d endpoints, %d admin UI pages exist\n' \
  "$((n_run + n_skip))" "$n_run" "$n_skip" "$n_paths" "$n_endpoints" "$n_pages"
[ "$run" = 1 ] || exit 0

# --- running the run blocks ---------------------------------------------------------
script="$work/run.sh"
{
  printf 'set -euo pipefail\ncd %q\n' "$REPO_ROOT"
  printf '__line=0\ntrap '\''printf "\\033[31mrunbook check: the block at %s:%%s failed\\033[0m\\n" "$__line" >&2'\'' ERR\n' "$rel"
  # `docker compose` is the v2 plugin; where only docker-compose 1.x exists, use it.
  cat <<'SHIM'
if ! command docker compose version >/dev/null 2>&1 && command -v docker-compose >/dev/null; then
  docker() { if [ "${1:-}" = compose ]; then shift; docker-compose "$@"; else command docker "$@"; fi; }
fi
SHIM
  declare -A hooked=()
  while IFS=$'\037' read -r n line lang marker reason heading; do
    [ "$marker" = run ] || continue
    for hook in "${hooks[@]}"; do
      prefix=${hook%%=*}
      if [[ "$heading" == "$prefix"* ]] && [ -z "${hooked[$prefix]:-}" ]; then
        hooked[$prefix]=1
        printf 'printf "\\n\\033[1m--- setup before \\"%s\\"\\033[0m\\n"\n%s\n' "$prefix" "${hook#*=}"
      fi
    done
    block="$work/block-$(printf %03d "$n")"
    printf '__line=%s\nprintf "\\n\\033[1m--- %s:%s (%s)\\033[0m\\n"\n' "$line" "$rel" "$line" "$heading"
    case "$lang" in
      sql) printf 'psql "$DB_URL" -X -v ON_ERROR_STOP=1 -f %q\n' "$block" ;;
      sh | bash | '') printf 'source %q\n' "$block" ;;
      *) printf 'echo "(a %s block: nothing to run)"\n' "$lang" ;;
    esac
  done <"$work/index"
  printf 'printf "\\n\\033[32mrunbook check: every run block of %s succeeded\\033[0m\\n"\n' "$rel"
} >"$script"
mkdir -p "$work/home"
HOME="$work/home" bash "$script"
