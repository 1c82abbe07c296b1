#!/usr/bin/env bash
# The restore drill, end to end: find the latest backup (the newest signed
# created_at, not the newest name), verify its signature with the pinned key
# BEFORE decrypting or reading it, decrypt it, validate every manifest field
# against what scripts/backup.sh writes and every file against the manifest
# BEFORE anything is imported, create a
# temporary database wabot_restore_drill_<UTC time> in a throwaway Postgres
# cluster of its own, apply the migrations (supabase db push), import the
# backup, verify row counts, checksums and references, run the smoke test
# against a staging runtime (functions gateway and session daemon) on the
# restored data, tear everything down, and report. Exits non-zero on any
# failure; an unsigned or forged archive, a wrong key or a tampered archive is
# refused and nothing imported. The data files are only ever fed to COPY …
# FROM STDIN (psql's \copy), never to an interpreter.
#
#   scripts/restore-drill.sh [--from DIR | --from s3://bucket/prefix]
#                            [--archive FILE | --archive s3://bucket/prefix/NAME]
#                            [--identity-file FILE] [--keep] [--no-smoke]
#                            [--pg-port N] [--gateway-port N] [--daemon-port N]
#   scripts/restore-drill.sh --extract DIR [--from …] [--archive …]
#       verify and decrypt only, then write the checked files and import.psql
#       (generated here, \copy commands only) into DIR, for a manual restore
#   scripts/restore-drill.sh --list
#   scripts/restore-drill.sh --cleanup wabot_restore_drill_<time>
#
# Environment (flags win):
#   WABOT_DRILL_FROM                 where the backups are [default: WABOT_BACKUP_TO, else .local/backups]
#   WABOT_BACKUP_AGE_IDENTITY_FILE   the age identity (secret key) file, or
#   WABOT_BACKUP_AGE_IDENTITY        the secret key itself (AGE-SECRET-KEY-1…)
#   WABOT_BACKUP_SIGNING_PUBLIC_KEY  the backup host's pinned Ed25519 public key
#                                    (MCowBQYDK2VwAyEA…), or
#   WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE  the same as a PEM file; required
#   WABOT_DRILL_PG_PORT, WABOT_DRILL_GATEWAY_PORT, WABOT_DRILL_DAEMON_PORT
#                                    [default: 54352, 54351, 54353]
#   WABOT_DRILL_STATE_DIR            [default: .local/restore-drill]
#   WABOT_BACKUP_S3_ENDPOINT, AWS_*  for s3:// (as scripts/backup.sh)
#
# The drill only ever connects to the cluster it started, and drops only a
# database it created: the name is recorded in the state folder's
# created-databases.tsv and carries a random token in its comment, and both
# must match (--cleanup refuses anything else).
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/stack.sh"
source "$REPO_ROOT/scripts/lib/ops.sh"

usage() { ops_usage "$0"; }

STATE=${WABOT_DRILL_STATE_DIR:-$REPO_ROOT/.local/restore-drill}
REGISTRY="$STATE/created-databases.tsv"
NAME_RE='^wabot_restore_drill_[0-9]{8}t[0-9]{6}z$'
from="" archive_arg="" keep=0 smoke=1 mode=drill cleanup_name="" extract_dir=""
pg_port=${WABOT_DRILL_PG_PORT:-54352}
gateway_port=${WABOT_DRILL_GATEWAY_PORT:-54351}
daemon_port=${WABOT_DRILL_DAEMON_PORT:-54353}
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=${2:?--from needs a value}; shift 2 ;;
    --archive) archive_arg=${2:?--archive needs a value}; shift 2 ;;
    --identity-file) export WABOT_BACKUP_AGE_IDENTITY_FILE=${2:?--identity-file needs a value}; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-smoke) smoke=0; shift ;;
    --pg-port) pg_port=${2:?}; shift 2 ;;
    --gateway-port) gateway_port=${2:?}; shift 2 ;;
    --daemon-port) daemon_port=${2:?}; shift 2 ;;
    --list) mode=list; shift ;;
    --extract) mode=extract; extract_dir=${2:?--extract needs a folder}; shift 2 ;;
    --cleanup) mode=cleanup; cleanup_name=${2:?--cleanup needs a database name}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
from=${from:-${WABOT_DRILL_FROM:-${WABOT_BACKUP_TO:-$REPO_ROOT/.local/backups}}}
mkdir -p "$STATE"
touch "$REGISTRY"

# --- the registry of databases this script created ------------------------------
# name <TAB> token <TAB> port <TAB> cluster dir <TAB> created at <TAB> state

registry_row() { awk -F'\t' -v name="$1" '$1 == name' "$REGISTRY" | tail -1; }
registry_set_state() {
  local name=$1 state=$2 tmp
  tmp=$(mktemp "$STATE/.registry.XXXXXX")
  awk -F'\t' -v OFS='\t' -v name="$name" -v state="$state" '$1 == name { $6 = state } { print }' "$REGISTRY" >"$tmp"
  mv "$tmp" "$REGISTRY"
}

# Connection URL of the drill cluster's database $2 on port $1.
drill_url() { printf 'postgresql://postgres:%s@127.0.0.1:%s/%s\n' "$(cat "$3/password")" "$1" "$2"; }

# Drops database $1 and removes its cluster, after checking that this script
# created it: recorded in the registry, the cluster folder's marker and the
# database's comment all carry the same token.
drop_drill_database() {
  local name=$1 row token port dir comment url
  [[ "$name" =~ $NAME_RE ]] || die "refusing to touch database '$name': not a restore-drill database name (wabot_restore_drill_<time>)"
  row=$(registry_row "$name")
  [ -n "$row" ] || die "refusing to touch database '$name': scripts/restore-drill.sh did not create it (not in ${REGISTRY#"$REPO_ROOT"/})"
  IFS=$'\t' read -r _ token port dir _ state <<<"$row"
  if [ "$state" = dropped ]; then log "$name was dropped already"; return 0; fi
  [ -f "$dir/.wabot-restore-drill" ] && [ "$(cat "$dir/.wabot-restore-drill")" = "$token" ] \
    || die "refusing to touch database '$name': its cluster folder $dir does not carry this script's token"
  if ! as_postgres pg_ctl -D "$dir/pgdata" status >/dev/null 2>&1; then
    if port_in_use "$port"; then die "refusing: port $port is now used by a server this script did not start"; fi
    as_postgres pg_ctl -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 start >/dev/null
  fi
  url=$(drill_url "$port" postgres "$dir")
  comment=$(psql -X -At -d "$url" -v name="$name" <<<"select shobj_description(oid, 'pg_database') from pg_database where datname = :'name';")
  if [ -n "$comment" ]; then
    [ "$comment" = "created by scripts/restore-drill.sh $token" ] \
      || die "refusing to drop '$name': its comment does not carry this script's token"
    psql -X -q -d "$url" -c "drop database \"$name\" with (force);" >/dev/null
  fi
  as_postgres pg_ctl -D "$dir/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf -- "$dir"
  registry_set_state "$name" dropped
}

case "$mode" in
  list)
    printf 'name\ttoken\tport\tcluster\tcreated_at\tstate\n'
    cat "$REGISTRY"
    exit 0 ;;
  cleanup)
    drop_drill_database "$cleanup_name"
    log "dropped $cleanup_name and removed its cluster"
    exit 0 ;;
esac

# --- the drill ---------------------------------------------------------------------

if [ "$mode" = extract ]; then
  ops_require_tools age jq sha256sum tar gzip openssl
  [ ! -e "$extract_dir" ] || die "--extract $extract_dir exists already: name a new folder"
else
  ops_require_tools psql initdb pg_ctl age jq sha256sum tar gzip curl supabase openssl
fi
umask 022
export PGTZ=UTC PGDATESTYLE=ISO,YMD PGCONNECT_TIMEOUT=10
started_at=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="wabot_restore_drill_${stamp,,}"
cluster="$STATE/$name"
work=$(ops_mktemp_dir)
steps=() current="" step_started=0 created=0 db_url="" failed_reason=""
TOTAL_STEPS=10

step() {
  current=$1
  step_started=$(date +%s%N)
  printf '\n\033[1m[%d/%d] %s\033[0m\n' "$(( ${#steps[@]} + 1 ))" "$TOTAL_STEPS" "$current"
}
step_done() {
  local ms=$(( ($(date +%s%N) - step_started) / 1000000 ))
  steps+=("$(printf 'ok      %-52s %6d ms  %s' "$current" "$ms" "${1:-}")")
  ops_ok "${1:-done} ($ms ms)"
  current=""
}
step_skipped() {
  steps+=("$(printf 'skipped %-52s %6s     %s' "$1" "" "$2")")
}
fail() {
  failed_reason=$*
  ops_fail "$*"
  exit 1
}

# Stops the staging runtime and drops the database and its cluster.
teardown() {
  stop_service "$cluster" daemon 2>/dev/null || true
  stop_service "$cluster" gateway 2>/dev/null || true
  if [ "$created" = 1 ]; then
    drop_drill_database "$name"
    created=0
  fi
}

report() {
  local rc=$1 line status
  set +e
  if [ -n "$current" ]; then
    steps+=("$(printf 'FAILED  %-52s %6s     %s' "$current" "" "${failed_reason:-see above}")")
  fi
  if [ "$created" = 1 ] && { [ "$keep" = 0 ] || [ "$rc" != 0 ]; }; then
    step "tear down"
    if teardown; then step_done "stopped the runtime, dropped $name, removed its cluster"; fi
  fi
  status=passed
  [ "$rc" = 0 ] || status=FAILED
  printf '\n\033[1mrestore drill %s\033[0m (%s s)\n' "$status" "$(( $(date +%s) - started_at ))"
  printf '  backup    %s\n' "${archive_label:-none}"
  if [ -n "$db_url" ]; then
    printf '  database  %s\n' "$name"
  else
    printf '  database  none created\n'
  fi
  for line in "${steps[@]}"; do printf '  %s\n' "$line"; done
  mkdir -p "$STATE/reports"
  printf '%s\n' "${steps[@]}" | jq -R -s --arg status "$status" --arg name "$name" \
    --arg backup "${archive_label:-}" --arg finished_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --argjson seconds "$(( $(date +%s) - started_at ))" \
    '{status: $status, database: $name, backup: $backup, finished_at: $finished_at, seconds: $seconds,
      steps: (split("\n") | map(select(length > 0)))}' >"$STATE/reports/$name.json"
  printf '  report    %s\n' "${STATE#"$REPO_ROOT"/}/reports/$name.json"
  if [ "$keep" = 1 ] && [ "$created" = 1 ]; then
    printf '\nkept: %s\n  psql %s (password in %s/password)\n  remove it with: scripts/restore-drill.sh --cleanup %s\n' \
      "$name" "$(ops_redact_url "$db_url")" "${cluster#"$REPO_ROOT"/}" "$name"
  fi
  rm -rf -- "$work"
}
on_exit() {
  local rc=$?
  trap - EXIT
  report "$rc"
  exit "$rc"
}
trap on_exit EXIT
trap 'failed_reason="interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------
step "find the latest backup (newest signed time)"
archive="$work/archive.tar.gz.age"
pinned_key=$(ops_signing_public_key_pem "$work")
# Fetches the signature of backup $1 (a path or s3:// URL) to $2.
fetch_signature() {
  rm -f "$2"
  if [[ "$1" == s3://* ]]; then ops_s3_get "$1.sig" "$2" >/dev/null 2>&1 || true
  elif [ -f "$1.sig" ]; then cp "$1.sig" "$2"; fi
}
if [ -n "$archive_arg" ]; then
  source_name=$archive_arg
else
  # Every candidate's signature is checked, and the newest *signed* created_at
  # wins: a file with a later name but no valid signature is skipped.
  if [[ "$from" == s3://* ]]; then
    candidates=$(ops_s3_list "$from" | cut -d' ' -f2 | sed "s#^#${from%/}/#")
  else
    [ -d "$from" ] || fail "no backup folder $from (set --from or WABOT_DRILL_FROM)"
    candidates=$(find "$from" -maxdepth 1 -name "$OPS_ARCHIVE_GLOB" -printf '%p\n' | grep -E "/${OPS_ARCHIVE_RE#^}" || true)
  fi
  [ -n "$candidates" ] || fail "no backup ($OPS_ARCHIVE_GLOB) in $from"
  best="" best_time="" skipped=0
  while read -r candidate; do
    fetch_signature "$candidate" "$work/candidate.sig"
    if signed_at=$(ops_verify_signature "$work/candidate.sig" "$pinned_key"); then
      if [[ "$signed_at" > "$best_time" ]]; then best=$candidate best_time=$signed_at; fi
    else
      skipped=$((skipped + 1))
      ops_info "skipped $(basename "$candidate"): $signed_at"
    fi
  done <<<"$candidates"
  [ -n "$best" ] || fail "refused: no backup in $from carries a valid signature ($skipped skipped). Nothing was imported."
  source_name=$best
fi
if [[ "$source_name" == s3://* ]]; then
  ops_s3_get "$source_name" "$archive" || fail "cannot download $source_name"
else
  [ -f "$source_name" ] || fail "no such backup: $source_name"
  cp "$source_name" "$archive"
fi
fetch_signature "$source_name" "$archive.sig"
archive_label="${source_name#"$REPO_ROOT"/}"
step_done "$archive_label ($(stat -c %s "$archive") bytes)"

# ---------------------------------------------------------------------------------
step "verify the signature (before decrypting)"
source_base=$(basename "$source_name")
expected_name=""
if [[ "$source_base" =~ $OPS_ARCHIVE_RE ]]; then expected_name=$source_base; fi
signed_at=$(ops_verify_signature "$archive.sig" "$pinned_key" "$archive" "$expected_name") \
  || fail "refused: $signed_at. Nothing was decrypted or imported."
step_done "signed by the pinned key at $signed_at"

# ---------------------------------------------------------------------------------
step "decrypt with age"
identity=$(ops_age_identity_file "$work")
if ! age -d -i "$identity" -o "$work/payload.tar.gz" "$archive" 2>"$work/age.err"; then
  rm -f "$work/payload.tar.gz"
  age_error=$(grep -v 'age: report' "$work/age.err" | tr '\n' ' ' | sed 's/ *$//')
  if grep -q 'no identity matched' "$work/age.err"; then
    fail "refused: wrong key, the identity does not match any recipient of this backup ($age_error). Nothing was imported."
  fi
  fail "refused: the archive is corrupt or was tampered with, age could not authenticate it ($age_error). Nothing was imported."
fi
step_done "authenticated and decrypted ($(stat -c %s "$work/payload.tar.gz") bytes)"

# ---------------------------------------------------------------------------------
step "verify every file against the manifest (before importing)"
# Only regular files and folders with the expected names: no links, no paths
# out of the folder, nothing the manifest does not list.
tar -tzvf "$work/payload.tar.gz" >"$work/listing" 2>"$work/tar.err" \
  || fail "refused: the archive is not a readable tar.gz ($(head -1 "$work/tar.err")). Nothing was imported."
while read -r perms _ _ _ _ path _; do
  path=${path#./}
  case "$perms" in -* | d*) ;; *) fail "refused: the archive holds a link or special file ($path). Nothing was imported." ;; esac
  [[ "$path" =~ ^(manifest\.json|data/?|csv/?|data/[a-z_]+\.copy|csv/[a-z_]+\.csv)$ ]] \
    || fail "refused: unexpected entry '$path' in the archive. Nothing was imported."
done <"$work/listing"
mkdir "$work/backup"
tar -xzf "$work/payload.tar.gz" -C "$work/backup" --no-same-owner --no-same-permissions
rm -f "$work/payload.tar.gz"
manifest="$work/backup/manifest.json"
[ -f "$manifest" ] || fail "refused: the archive has no manifest.json. Nothing was imported."
# Every field against what scripts/backup.sh can write: the format, the
# times, the table list (names, relations, filters and orders from its own
# fixed specs, column names as identifiers), integer counts, the files'
# names and checksums. The first field that differs is named.
jq -e . "$manifest" >/dev/null 2>&1 || fail "refused: manifest.json is not JSON. Nothing was imported."
bad_field=$(jq -r --arg format "$OPS_MANIFEST_FORMAT" --arg signed_at "$signed_at" \
  --argjson specs "$(ops_table_specs_json)" '
  def hex64: type == "string" and test("^[0-9a-f]{64}$");
  def nat: type == "number" and . >= 0 and . == floor and . < 1e15;
  def ident: type == "string" and test("^[a-z_][a-z0-9_]{0,62}$");
  def file($dir; $ext; $name): type == "object" and (keys == ["bytes", "path", "sha256"])
    and .path == "\($dir)/\($name).\($ext)" and (.sha256 | hex64) and (.bytes | nat);
  def check($cond; $field): if $cond then empty else $field end;
  [ check(type == "object"; "(the manifest itself)"),
    check(.format == $format; "format"),
    check(.created_at == $signed_at; "created_at (not the signed time \($signed_at))"),
    check(.schema_version | type == "string" and test("^[0-9]{14}$"); "schema_version"),
    check(.tables | type == "array" and length > 0 and length <= ($specs | length); "tables"),
    check(.files | type == "object"; "files"),
    ( (.tables // []) | if type == "array" then . else [] end | to_entries[] | .key as $i | .value as $t
      | "tables[\($i)]" as $at
      | if ($t | type) != "object" then $at
        else ([$specs[] | select(.name == $t.name)][0]) as $s
        | if $s == null then "\($at).name"
          else
            check($t.relation == $s.relation; "\($at).relation"),
            check(($t.columns | type == "array" and length > 0 and all(.[]; ident) and (unique | length) == length)
                  and ($s.columns == "*" or ($t.columns | join(",")) == $s.columns); "\($at).columns"),
            check($t.filter == (if $s.filter == "" then null else $s.filter end); "\($at).filter"),
            check($t.order_by == $s.order; "\($at).order_by"),
            check($t.rows | nat; "\($at).rows"),
            check($t.data | file("data"; "copy"; $s.name); "\($at).data"),
            check($t.csv | file("csv"; "csv"; $s.name); "\($at).csv")
          end
        end),
    check([(.tables // [])[]? | .name?] | (unique | length) == length; "tables (a table twice)"),
    check((.files | type) == "object" and (.tables | type) == "array"
          and .files == ([.tables[]? | objects | {(.data.path? // "" | tostring): .data.sha256?, (.csv.path? // "" | tostring): .csv.sha256?}] | add);
          "files (not the tables'' data and csv checksums)")
  ] | first // ""' "$manifest" 2>/dev/null) || bad_field="(the manifest could not be read)"
if [ -n "$bad_field" ]; then
  fail "refused: manifest field $bad_field is not what scripts/backup.sh writes. Nothing was imported."
fi
backup_schema=$(jq -r .schema_version "$manifest")
repo_schema=$(ops_repo_schema_version)
if [[ "$backup_schema" > "$repo_schema" ]]; then
  fail "refused: the backup is from schema $backup_schema, newer than this checkout's migrations ($repo_schema); check out the revision that made it ($(jq -r '.revision | tostring | .[0:40]' "$manifest"))"
fi

# Every file on disk is listed, every listed file is on disk with its checksum.
(cd "$work/backup" && find data csv -type f | sort) >"$work/on-disk"
jq -r '.files | keys[]' "$manifest" | sort >"$work/listed"
if ! diff -q "$work/on-disk" "$work/listed" >/dev/null; then
  fail "refused: the archive's files differ from the manifest's list ($(diff "$work/listed" "$work/on-disk" | grep '^[<>]' | tr '\n' ' ')). Nothing was imported."
fi
while read -r path sha; do
  actual=$(sha256sum "$work/backup/$path" | cut -d' ' -f1)
  [ "$actual" = "$sha" ] || fail "refused: checksum mismatch for $path (manifest $sha, archive $actual): the backup was modified. Nothing was imported."
done < <(jq -r '.files | to_entries[] | "\(.key) \(.value)"' "$manifest")

# Each table's data file: the manifest's number of rows (one a line in COPY's
# text format), and no end-of-data marker that would cut it short. The import
# script is written here, from the exporter's specs and the validated column
# names, never from the backup's text: \copy streams each data file to
# COPY … FROM STDIN, so a data file is only ever data.
n_tables=0 n_rows=0
import_script="$work/import.psql"
{
  echo '\set ON_ERROR_STOP on'
  echo 'set session_replication_role = replica;'
} >"$import_script"
while IFS=$'\t' read -r tname columns rows; do
  spec=$(ops_table_spec "$tname")
  relation=$(cut -d'|' -f2 <<<"$spec")
  file="$work/backup/data/$tname.copy"
  [ "$(wc -l <"$file")" = "$rows" ] \
    || fail "refused: data/$tname.copy holds $(wc -l <"$file") rows, the manifest says $rows. Nothing was imported."
  if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" != '\n' ]; then
    fail "refused: data/$tname.copy does not end with a whole row. Nothing was imported."
  fi
  if grep -qx '\\\.' "$file"; then fail "refused: data/$tname.copy holds an end-of-data line. Nothing was imported."; fi
  quoted=$(tr ',' '\n' <<<"$columns" | sed 's/.*/"&"/' | paste -sd, - | sed 's/,/, /g')
  printf "\\\\copy %s (%s) from '%s'\n" "$relation" "$quoted" "$file" >>"$import_script"
  n_tables=$((n_tables + 1)) n_rows=$((n_rows + rows))
done < <(jq -r '.tables[] | [.name, (.columns | join(",")), .rows] | @tsv' "$manifest")
[ "$n_tables" -gt 0 ] || fail "refused: the manifest lists no tables. Nothing was imported."
step_done "$n_tables tables, $n_rows rows, $(jq '.files | length' "$manifest") files match; schema $backup_schema (checkout: $repo_schema), made $signed_at"

if [ "$mode" = extract ]; then
  step "write the checked files for a manual restore"
  mkdir -p "$extract_dir"
  cp -r "$work/backup/manifest.json" "$work/backup/data" "$work/backup/csv" "$extract_dir/"
  sed "s#'$work/backup/#'$(cd "$extract_dir" && pwd)/#" "$import_script" >"$extract_dir/import.psql"
  step_done "$extract_dir (import with: psql \"\$DB_URL\" --single-transaction -f $extract_dir/import.psql)"
  exit 0
fi

# ---------------------------------------------------------------------------------
step "create the temporary database"
for port in "$pg_port" "$gateway_port" "$daemon_port"; do
  if port_in_use "$port"; then fail "port $port is taken: the drill starts its own servers (--pg-port, --gateway-port, --daemon-port)"; fi
done
[ ! -e "$cluster" ] || fail "$cluster exists already"
token=$(openssl rand -hex 16)
mkdir -p "$cluster/run" "$cluster/sessions"
printf '%s\n' "$token" >"$cluster/.wabot-restore-drill"
(umask 077 && openssl rand -hex 16 >"$cluster/password")
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$cluster" "$cluster/run"
  chmod 644 "$cluster/password"
  runuser -u postgres -- test -r "$cluster/password" \
    || fail "the postgres user cannot reach $cluster: make its parent folders traversable (chmod o+x), or set WABOT_DRILL_STATE_DIR"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$token" "$pg_port" "$cluster" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" created >>"$REGISTRY"
created=1
as_postgres initdb -D "$cluster/pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --pwfile="$cluster/password" -E UTF8 --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1 \
  || fail "initdb failed: $(tail -3 "$cluster/initdb.log")"
if [ "$(id -u)" = 0 ]; then chmod 600 "$cluster/password"; fi
cat >>"$cluster/pgdata/postgresql.conf" <<CONF

# --- wabot restore drill (scripts/restore-drill.sh): throwaway cluster ---
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$cluster/run'
shared_preload_libraries = 'pg_cron'
# pg_cron lives in one database per cluster: here, the drill's.
cron.database_name = '$name'
max_worker_processes = 16
fsync = off
timezone = 'UTC'
CONF
as_postgres pg_ctl -D "$cluster/pgdata" -l "$cluster/postgres.log" -w -t 60 start >/dev/null \
  || fail "the drill's Postgres did not start: $(tail -3 "$cluster/postgres.log")"
admin_url=$(drill_url "$pg_port" postgres "$cluster")
db_url=$(drill_url "$pg_port" "$name" "$cluster")
psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" >/dev/null <<SQL || fail "cannot create $name"
create database "$name";
comment on database "$name" is 'created by scripts/restore-drill.sh $token';
SQL
# What the Supabase image provides (roles, auth, extensions), as on the local stack.
psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" -f "$REPO_ROOT/supabase/local/bootstrap.sql" >"$cluster/bootstrap.log" 2>&1 \
  || fail "the Supabase bootstrap failed: $(tail -3 "$cluster/bootstrap.log")"
psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" -c "alter database \"$name\" set search_path to \"\$user\", public, extensions;" >/dev/null
step_done "$name on 127.0.0.1:$pg_port (throwaway cluster ${cluster#"$REPO_ROOT"/})"

# ---------------------------------------------------------------------------------
step "apply the migrations (supabase db push)"
(cd "$REPO_ROOT" && supabase db push --yes --include-all --db-url "$db_url?sslmode=disable") >"$cluster/db-push.log" 2>&1 \
  || fail "supabase db push failed: $(tail -5 "$cluster/db-push.log")"
db_schema=$(psql -X -At -d "$db_url" -c "select max(version) from supabase_migrations.schema_migrations")
[ "$db_schema" = "$repo_schema" ] || fail "after the push the schema is $db_schema, expected $repo_schema"
step_done "$(psql -X -At -d "$db_url" -c "select count(*) from supabase_migrations.schema_migrations") migrations, schema $db_schema"

# ---------------------------------------------------------------------------------
step "import the backup"
# One transaction: all or nothing. Triggers and foreign-key checks are off
# while loading (session_replication_role = replica), so the import neither
# writes audit entries and outbox rows nor re-runs publishing rules; the
# references are checked in the next step instead. Identity sequences move
# past the imported ids.
import_args=(-f "$import_script")
import_args+=(-c "do \$\$ declare r record; begin
  for r in select format('%I.%I', n.nspname, c.relname) as tbl, a.attname as col,
                  pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) as seq
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where n.nspname = 'public' and c.relkind = 'r'
             and pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null
  loop
    execute format('select setval(%L, coalesce((select max(%I) from %s), 0) + 1, false)', r.seq, r.col, r.tbl);
  end loop;
end \$\$;")
psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$db_url" "${import_args[@]}" >"$cluster/import.log" 2>&1 \
  || fail "the import failed and was rolled back: $(grep -m3 -E 'ERROR|FATAL' "$cluster/import.log" | tr '\n' ' ')"
step_done "$n_rows rows into $n_tables tables in one transaction"

# ---------------------------------------------------------------------------------
step "verify counts, checksums and references"
mismatches=()
while IFS=$'\t' read -r tname relation columns rows filter order csv_sha; do
  actual=$(psql -X -At -d "$db_url" -c "select count(*) from $relation")
  if [ "$actual" != "$rows" ]; then mismatches+=("$tname: $actual rows, manifest $rows"); continue; fi
  # The same query as the backup's CSV export: byte-identical output means
  # every value came back.
  where=""
  if [ "$filter" != "-" ]; then where=" where $filter"; fi
  actual_sha=$(psql -X -q -d "$db_url" -c "copy (select ${columns//,/, } from $relation$where order by $order) to stdout with (format csv, header true)" | sha256sum | cut -d' ' -f1)
  [ "$actual_sha" = "$csv_sha" ] || mismatches+=("$tname: CSV checksum $actual_sha, manifest $csv_sha")
done < <(jq -r --argjson specs "$(ops_table_specs_json)" '.tables[] | .name as $n | ($specs[] | select(.name == $n)) as $s
  | [.name, $s.relation, (.columns | join(",")), .rows, (if $s.filter == "" then "-" else $s.filter end), $s.order, .csv.sha256] | @tsv' "$manifest")
[ ${#mismatches[@]} -eq 0 ] || fail "the restored data differs from the backup: ${mismatches[*]}"
# Every foreign key of the public schema holds (the import did not check them).
fk_report=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db_url" 2>&1 <<'SQL'
do $$
declare
    r record;
    n bigint;
    bad text[] := '{}';
begin
    for r in
        select con.conname, con.conrelid::regclass as child, con.confrelid::regclass as parent,
               (select string_agg(format('c.%I is not null', a.attname), ' and ')
                  from unnest(con.conkey) as k(attnum)
                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as not_null,
               (select string_agg(format('p.%I = c.%I', pa.attname, ca.attname), ' and ')
                  from unnest(con.conkey, con.confkey) as k(c_attnum, p_attnum)
                  join pg_attribute ca on ca.attrelid = con.conrelid and ca.attnum = k.c_attnum
                  join pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = k.p_attnum) as joined
        from pg_constraint con
        join pg_namespace ns on ns.oid = con.connamespace
        where con.contype = 'f' and ns.nspname = 'public'
    loop
        execute format('select count(*) from %s c where %s and not exists (select 1 from %s p where %s)',
                       r.child, r.not_null, r.parent, r.joined) into n;
        if n > 0 then
            bad := bad || format('%s.%s: %s row(s) without their %s', r.child, r.conname, n, r.parent);
        end if;
    end loop;
    if cardinality(bad) > 0 then
        raise exception 'broken references: %', array_to_string(bad, '; ');
    end if;
end;
$$;
select count(*) from pg_constraint con join pg_namespace ns on ns.oid = con.connamespace
where con.contype = 'f' and ns.nspname = 'public';
SQL
) || fail "$(sed -n 's/.*ERROR: *//p' <<<"$fk_report" | head -1)"
step_done "$n_tables tables: counts and CSV checksums equal the manifest; $fk_report foreign keys hold"

# ---------------------------------------------------------------------------------
if [ "$smoke" = 0 ]; then
  step_skipped "smoke test against the staging runtime" "--no-smoke"
else
  step "smoke test against the staging runtime"
  # The numbers connected when the backup was taken should connect again.
  # Only simulator numbers: the drill never connects a real WhatsApp session
  # (that would replace production's) and has no credentials to.
  expected_numbers=$(psql -X -At -d "$db_url" -c "select coalesce(string_agg(phone_number, ',' order by phone_number), '')
    from public.numbers where transport = 'simulator' and session_status = 'connected'")
  # Staging, not production: no notification leaves the drill, no production
  # daemon is probed, no restored command is replayed, leases start free.
  psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" >/dev/null <<'SQL' || fail "cannot prepare the restored data for staging"
update public.alert_channels set enabled = false where enabled;
update public.runtime_instances set status_url = null where status_url is not null;
update public.session_commands set status = 'failed', error = 'not replayed by the restore drill', completed_at = now()
where status in ('pending', 'claimed');
update public.numbers set lease_holder = null, lease_expires_at = null where lease_holder is not null;
SQL
  daemon_bin=${WABOT_BIN:-$CARGO_TARGET_DIR/debug/wabot}
  if [ ! -x "$daemon_bin" ]; then
    log "building the session daemon"
    cargo build --quiet -p session-daemon || fail "cannot build the session daemon"
  fi
  stack_secrets "$cluster"
  start_service "$cluster" gateway env \
    GATEWAY_PORT="$gateway_port" \
    SUPABASE_URL="http://127.0.0.1:$gateway_port" \
    SUPABASE_DB_URL="$db_url" \
    deno run --allow-net --allow-env --allow-read "$REPO_ROOT/supabase/local/gateway.ts"
  wait_for_http "http://127.0.0.1:$gateway_port/functions/v1/" 60 \
    || fail "the staging gateway did not start: $(tail -5 "$cluster/gateway.log")"
  start_service "$cluster" daemon env \
    WABOT_DATABASE_URL="$db_url" \
    WABOT_FUNCTIONS_URL="http://127.0.0.1:$gateway_port/functions/v1" \
    WABOT_LISTEN="127.0.0.1:$daemon_port" \
    WABOT_SESSION_STORAGE_PATH="$cluster/sessions" \
    WABOT_INSTANCE_ID="restore-drill-${stamp,,}" \
    WABOT_TRANSPORTS=simulator \
    RUST_LOG="${RUST_LOG:-info}" \
    "$daemon_bin" daemon
  wait_for_http "http://127.0.0.1:$daemon_port/status" 60 \
    || fail "the staging daemon did not start: $(tail -5 "$cluster/daemon.log")"
  smoke_args=(--daemon-url "http://127.0.0.1:$daemon_port"
    --functions-url "http://127.0.0.1:$gateway_port/functions/v1" --db-url "$db_url" --wait 60)
  if [ -n "$expected_numbers" ]; then
    for number in ${expected_numbers//,/ }; do smoke_args+=(--number "$number"); done
  else
    smoke_args+=(--no-numbers "no simulator number was connected when the backup was taken")
  fi
  "$REPO_ROOT/scripts/smoke.sh" "${smoke_args[@]}" || fail "the smoke test failed against the restored data"
  step_done "the smoke test passed on the restored data (${expected_numbers:-no numbers expected})"
fi

# ---------------------------------------------------------------------------------
step "tear down"
if [ "$keep" = 1 ]; then
  stop_service "$cluster" daemon
  stop_service "$cluster" gateway
  step_done "stopped the runtime; kept $name (--keep)"
else
  teardown
  step_done "stopped the runtime, dropped $name, removed its cluster"
fi
