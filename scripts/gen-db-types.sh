#!/usr/bin/env bash
# Generates functions/_shared/database.types.ts, the TypeScript types of the
# `public` schema, from a migrated database, in the shape of
# `supabase gen types typescript` (which needs Docker; this does not). The
# Edge Functions and, later, the admin UI import the same file.
#
#   scripts/gen-db-types.sh                    regenerate from the dev database (port 54322)
#   scripts/gen-db-types.sh --db-url URL       regenerate from another migrated database
#   scripts/gen-db-types.sh --check [--db-url URL]
#                                              fail if the committed file differs from what
#                                              the database generates
#
# The catalog is read by scripts/gen-db-types.ts (Deno, npm:postgres) and the
# result is formatted with deno fmt under functions/deno.json, so the file
# passes `deno fmt --check` and the output is deterministic.
source "$(dirname "$0")/lib/common.sh"

OUTPUT="$REPO_ROOT/functions/_shared/database.types.ts"
mode=write
db_url="postgresql://postgres:postgres@127.0.0.1:${WABOT_DEV_DB_PORT:-54322}/postgres"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --check) mode=check ;;
    --db-url) [ $# -ge 2 ] || die "--db-url needs a value"; db_url=$2; shift ;;
    --db-url=*) db_url=${1#--db-url=} ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

generated="$(mktemp --suffix .ts)"
trap 'rm -f "$generated"' EXIT
deno run --quiet --config "$REPO_ROOT/functions/deno.json" --allow-net --allow-env --allow-read --allow-sys \
  "$REPO_ROOT/scripts/gen-db-types.ts" "$db_url" \
  | deno fmt --quiet --config "$REPO_ROOT/functions/deno.json" --ext ts - >"$generated" \
  || die "could not generate the database types from $db_url"

if [ "$mode" = check ]; then
  if ! diff -u "$OUTPUT" "$generated" >&2; then
    die "${OUTPUT#"$REPO_ROOT"/} is out of date with the migrations: run scripts/gen-db-types.sh and commit the result"
  fi
  echo "${OUTPUT#"$REPO_ROOT"/} is up to date with the database"
else
  cp "$generated" "$OUTPUT"
  log "wrote ${OUTPUT#"$REPO_ROOT"/}"
fi
