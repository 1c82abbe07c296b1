#!/usr/bin/env bash
# Exports the platform's critical tables from one consistent snapshot as data
# (COPY text-format rows, no SQL: data/<table>.copy) and CSV, writes
# manifest.json (row counts, SHA-256 of every file, the schema version, the
# time), packs them, encrypts the archive with age to
# WABOT_BACKUP_AGE_RECIPIENT and signs it with the Ed25519 key in
# WABOT_BACKUP_SIGNING_KEY_FILE (<archive>.sig beside it; the restorer pins the
# public key), into a local folder or S3-compatible storage. Plaintext only
# ever lives in a private temporary folder under TMPDIR (about twice the
# data's size: data and CSV), removed on exit.
#
#   scripts/backup.sh [--db-url URL] [--to DIR | --to s3://bucket/prefix]
#                     [--keep N] [--env-file FILE]
#
# Environment (flags win):
#   WABOT_BACKUP_DB_URL        source database, a direct (session) connection
#                              [default: the local stack, 127.0.0.1:54322]
#   WABOT_BACKUP_TO            destination [default: .local/backups]
#   WABOT_BACKUP_AGE_RECIPIENT age public key(s) (age1…), comma-separated; required
#   WABOT_BACKUP_SIGNING_KEY_FILE  Ed25519 private key (PEM) that signs the
#                              archive; required; only the backup host has it
#   WABOT_BACKUP_KEEP          keep the newest N archives in a local folder (0: all)
#   WABOT_BACKUP_S3_ENDPOINT   S3 endpoint for s3:// (e.g. Supabase Storage's
#                              https://<ref>.supabase.co/storage/v1/s3), with
#                              AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#   WABOT_BACKUP_S3_TOOL       aws or rclone [default: whichever is installed]
#
# docs/runbook.md ("Backups") says how it is scheduled and restored.
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

usage() { ops_usage "$0"; }

db_url="" to="" keep="" env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db-url) db_url=${2:?--db-url needs a value}; shift 2 ;;
    --to) to=${2:?--to needs a value}; shift 2 ;;
    --keep) keep=${2:?--keep needs a value}; shift 2 ;;
    --env-file) env_file=${2:?--env-file needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [ -n "$env_file" ]; then ops_load_env_file "$env_file"; fi
db_url=${db_url:-${WABOT_BACKUP_DB_URL:-postgresql://postgres:postgres@127.0.0.1:54322/postgres}}
to=${to:-${WABOT_BACKUP_TO:-$REPO_ROOT/.local/backups}}
keep=${keep:-${WABOT_BACKUP_KEEP:-0}}
[[ "$keep" =~ ^[0-9]+$ ]] || die "--keep must be a number, not $keep"

ops_require_tools psql age jq sha256sum tar gzip openssl
signing_key=$(ops_signing_key_file)
recipients=$(ops_age_recipient_args)
mapfile -t recipient_args <<<"$recipients"
age "${recipient_args[@]}" </dev/null >/dev/null 2>&1 \
  || die "age refuses WABOT_BACKUP_AGE_RECIPIENT: $(age "${recipient_args[@]}" </dev/null 2>&1 >/dev/null | head -1)"
if [[ "$to" == s3://* ]]; then
  [[ "$to" =~ ^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$ ]] || die "--to $to is not s3://bucket[/prefix]"
  ops_s3_tool >/dev/null
fi

# Deterministic text: the same rows give the same CSV bytes, here and in the
# restore drill's re-export.
export PGTZ=UTC PGDATESTYLE=ISO,YMD PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
started_at=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
created_at=$(date -u -d "@$started_at" +%Y-%m-%dT%H:%M:%SZ)
archive_name="wabot-backup-$stamp.tar.gz.age"

work=$(ops_mktemp_dir)
snapshot_pid=""
finish() {
  if [ -n "$snapshot_pid" ]; then kill "$snapshot_pid" 2>/dev/null || true; fi
  rm -rf -- "$work"
}
trap finish EXIT
stage="$work/stage"
mkdir -p "$stage/data" "$stage/csv"

log "backup of $(ops_redact_url "$db_url") to $to"

# One repeatable-read transaction holds the snapshot every export reads, so
# the tables agree with each other (messages with their conversations).
coproc SNAPSHOT { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db_url" 2>&1; }
snapshot_pid=$SNAPSHOT_PID
printf '%s\n' "begin isolation level repeatable read read only;" "select pg_export_snapshot();" >&"${SNAPSHOT[1]}"
snapshot=""
read -r -t 30 snapshot <&"${SNAPSHOT[0]}" || true
[[ "$snapshot" =~ ^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$ ]] \
  || die "cannot open a snapshot on $(ops_redact_url "$db_url"): ${snapshot:-no answer} (a direct connection is needed: the transaction pooler cannot share snapshots)"

# Runs SQL in the snapshot's session; prints its rows (one per line).
snapshot_query() {
  local line
  printf '%s\n' "$1" '\echo __wabot_end__' >&"${SNAPSHOT[1]}"
  while IFS= read -r -t 60 line <&"${SNAPSHOT[0]}"; do
    [ "$line" = __wabot_end__ ] && return 0
    case "$line" in ERROR:* | psql:*) die "query failed: $line" ;; esac
    printf '%s\n' "$line"
  done
  die "the snapshot session stopped answering"
}

server_version=$(snapshot_query "show server_version;")
schema_version=$(snapshot_query "select coalesce(max(version), '') from supabase_migrations.schema_migrations;")
migrations_json=$(snapshot_query "select coalesce(json_agg(version order by version), '[]') from supabase_migrations.schema_migrations;")
[ -n "$schema_version" ] || die "supabase_migrations.schema_migrations is empty: is this the platform's database?"
log "snapshot $snapshot, schema version $schema_version, PostgreSQL $server_version"

# Exports one query in the snapshot to $2 (COPY options $3), showing progress
# (rows so far and rows per second) every few seconds while it runs.
export_query() {
  local select=$1 out=$2 options=$3 label=$4 total=$5 skip=$6 pid t0 last polls rows elapsed
  psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" >>"$out" 2>"$work/export.err" <<SQL &
begin isolation level repeatable read read only;
set transaction snapshot '$snapshot';
copy ($select) to stdout $options;
commit;
SQL
  pid=$!
  t0=$(date +%s%N)
  last=$SECONDS polls=0
  while kill -0 "$pid" 2>/dev/null; do
    # Short tables finish within milliseconds: poll fast first.
    if (( polls++ < 50 )); then sleep 0.01; else sleep 0.2; fi
    if (( SECONDS - last >= ${WABOT_BACKUP_PROGRESS_SECONDS:-3} )); then
      last=$SECONDS
      rows=$(( $(wc -l <"$out") - skip ))
      elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
      printf '        %s: %s of %s rows, %s rows/s\n' "$label" "$rows" "$total" \
        "$(( rows * 1000 / (elapsed > 0 ? elapsed : 1) ))" >&2
    fi
  done
  wait "$pid" || die "exporting $label failed: $(cat "$work/export.err")"
}

tables_json="$work/tables.jsonl"
: >"$tables_json"
total_rows=0
printf '  %-26s %10s %9s %12s %10s %10s\n' table rows seconds rows/s data csv
while IFS='|' read -r name relation columns filter order; do
  if [ "$columns" = "*" ]; then
    columns=$(snapshot_query "select string_agg(quote_ident(attname), ',' order by attnum)
      from pg_attribute where attrelid = '$relation'::regclass and attnum > 0
        and not attisdropped and attgenerated = '';")
  fi
  [ -n "$columns" ] || die "$relation has no columns (or does not exist)"
  where=""
  if [ -n "$filter" ]; then where=" where $filter"; fi
  select="select ${columns//,/, } from $relation$where order by $order"
  rows=$(snapshot_query "select count(*) from $relation$where;")
  t0=$(date +%s%N)

  # Data only (COPY's text format, one row a line): the restore feeds it to
  # COPY … FROM STDIN, never to an interpreter.
  sql_file="$stage/data/$name.copy" csv_file="$stage/csv/$name.csv"
  : >"$sql_file"
  export_query "$select" "$sql_file" "" "$name (data)" "$rows" 0
  export_query "$select" "$csv_file" "with (format csv, header true)" "$name (csv)" "$rows" 1

  exported=$(wc -l <"$sql_file")
  [ "$exported" -eq "$rows" ] || die "$name: counted $rows rows but exported $exported"
  elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
  sql_bytes=$(stat -c %s "$sql_file") csv_bytes=$(stat -c %s "$csv_file")
  printf '  %-26s %10s %9s %12s %10s %10s\n' "$name" "$rows" \
    "$(printf '%d.%03d' $((elapsed / 1000)) $((elapsed % 1000)))" \
    "$(( rows * 1000 / (elapsed > 0 ? elapsed : 1) ))" "$sql_bytes" "$csv_bytes"
  total_rows=$(( total_rows + rows ))

  jq -cn --arg name "$name" --arg relation "$relation" --arg columns "$columns" \
    --arg filter "$filter" --arg order "$order" --argjson rows "$rows" \
    --arg sql_sha "$(sha256sum "$sql_file" | cut -d' ' -f1)" --argjson sql_bytes "$sql_bytes" \
    --arg csv_sha "$(sha256sum "$csv_file" | cut -d' ' -f1)" --argjson csv_bytes "$csv_bytes" \
    '{name: $name, relation: $relation, columns: ($columns | split(",")),
      filter: (if $filter == "" then null else $filter end), order_by: $order, rows: $rows,
      data: {path: "data/\($name).copy", sha256: $sql_sha, bytes: $sql_bytes},
      csv: {path: "csv/\($name).csv", sha256: $csv_sha, bytes: $csv_bytes}}' >>"$tables_json"
done < <(ops_table_specs)

printf '%s\n' "commit;" '\q' >&"${SNAPSHOT[1]}"
wait "$snapshot_pid" 2>/dev/null || true
snapshot_pid=""

jq -s --arg format "$OPS_MANIFEST_FORMAT" --arg created_at "$created_at" \
  --arg schema_version "$schema_version" --argjson migrations "$migrations_json" \
  --arg server_version "$server_version" --arg source "$(ops_redact_url "$db_url")" \
  --arg snapshot "$snapshot" --arg revision "$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  '{format: $format, created_at: $created_at, created_by: "scripts/backup.sh",
    revision: $revision, schema_version: $schema_version, migrations: $migrations,
    source: {database: $source, server_version: $server_version, snapshot: $snapshot},
    tables: .,
    files: (map({(.data.path): .data.sha256, (.csv.path): .csv.sha256}) | add)}' \
  "$tables_json" >"$stage/manifest.json"

# Pack, encrypt and sign. age checks every chunk against the key, but anyone
# with the recipient key can encrypt: the signature says the backup host made
# it, and the restorer checks it before decrypting.
archive="$work/$archive_name"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - manifest.json data csv \
  | gzip -6 | age "${recipient_args[@]}" -o "$archive"
ops_sign_archive "$archive" "$archive_name" "$created_at" "$signing_key"
archive_bytes=$(stat -c %s "$archive")
archive_sha=$(sha256sum "$archive" | cut -d' ' -f1)

if [[ "$to" == s3://* ]]; then
  target="${to%/}/$archive_name"
  log "uploading to $target"
  ops_s3_put "$archive" "$target"
  ops_s3_put "$archive.sig" "$target.sig"
  listed=$(ops_s3_list "${to%/}" | awk -v name="$archive_name" '$2 == name { print $1 }')
  [ "$listed" = "$archive_bytes" ] || die "the upload of $target did not arrive whole (listed size: ${listed:-none}, expected $archive_bytes)"
else
  mkdir -p "$to"
  target="$to/$archive_name"
  [ ! -e "$target" ] || die "$target exists already"
  (umask 077 && cp "$archive" "$to/.$archive_name.partial" && cp "$archive.sig" "$to/.$archive_name.sig.partial")
  mv "$to/.$archive_name.sig.partial" "$target.sig"
  mv "$to/.$archive_name.partial" "$target"
  if [ "$keep" -gt 0 ]; then
    find "$to" -maxdepth 1 -name "$OPS_ARCHIVE_GLOB" -printf '%f\n' | sort -r | tail -n +$((keep + 1)) \
      | while read -r old; do rm -f -- "${to:?}/$old" "${to:?}/$old.sig"; log "pruned $old (keeping the newest $keep)"; done
  fi
fi

printf '\nbackup written: %s (signature %s.sig)\n' "$target" "$target"
printf '  %s tables, %s rows, schema %s, %s bytes encrypted, sha256 %s, %s s\n' \
  "$(jq '.tables | length' "$stage/manifest.json")" "$total_rows" "$schema_version" \
  "$archive_bytes" "$archive_sha" "$(( $(date +%s) - started_at ))"
