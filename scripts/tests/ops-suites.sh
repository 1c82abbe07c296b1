#!/usr/bin/env bash
# The operations suites of ./scripts/test.sh (docs/runbook.md): the smoke
# test, backups to a folder and to S3-compatible storage, the restore drill
# from each, the refusal of wrong keys and tampered archives, the deployment
# files, and the runbook's own commands. Sourced by scripts/test.sh after its
# suites, with `suite`, DB_PORT, GATEWAY_PORT, STATE_DIR and TEST_DB_URL set,
# the stack's secrets loaded and the functions gateway running; it starts a
# session daemon and a local S3 server of its own and stops them.
source "$REPO_ROOT/scripts/lib/ops.sh"

OPS_DAEMON_PORT=${WABOT_TEST_OPS_DAEMON_PORT:-55381}
OPS_S3_PORT=${WABOT_TEST_S3_PORT:-55390}
OPS_JWKS_PORT=${WABOT_TEST_JWKS_PORT:-55391}
OPS_DIR="$STATE_DIR/ops"
OPS_BUCKET=wabot-test-backups
OPS_HELD_NUMBERS=+15550100001,+15550100002,+15550100003

ops_env() {
  export WABOT_BACKUP_AGE_RECIPIENT WABOT_BACKUP_S3_ENDPOINT="http://127.0.0.1:$OPS_S3_PORT"
  export AWS_ACCESS_KEY_ID=wabot-test AWS_SECRET_ACCESS_KEY=wabot-test-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export WABOT_DRILL_STATE_DIR="$OPS_DIR/drill" WABOT_DRILL_PG_PORT=${WABOT_TEST_DRILL_PG_PORT:-55352} \
    WABOT_DRILL_GATEWAY_PORT=${WABOT_TEST_DRILL_GATEWAY_PORT:-55351} WABOT_DRILL_DAEMON_PORT=${WABOT_TEST_DRILL_DAEMON_PORT:-55353}
  WABOT_BACKUP_AGE_RECIPIENT=$(age-keygen -y "$OPS_DIR/keys/backup.txt")
  # The backup host's signing key, and the restorer's pinned public key.
  export WABOT_BACKUP_SIGNING_KEY_FILE="$OPS_DIR/keys/signing.pem"
  export WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE="$OPS_DIR/keys/signing.pub.pem"
}

ops_stop() {
  stop_service "$STATE_DIR" daemon
  stop_service "$STATE_DIR" s3
  stop_service "$STATE_DIR" jwks
}

# The seeded database, its daemon (holding only the seeded numbers, so other
# suites' numbers stay as they left them), some real traffic through the
# simulator, and the local S3 server.
ops_setup() {
  # (stack_secrets leaves umask 077 behind; the drill's Postgres runs as the
  # postgres user and must reach its folder.)
  umask 022
  rm -rf "$OPS_DIR"
  mkdir -p "$OPS_DIR/keys"
  age-keygen -o "$OPS_DIR/keys/backup.txt" 2>/dev/null
  age-keygen -o "$OPS_DIR/keys/other.txt" 2>/dev/null
  openssl genpkey -algorithm ed25519 -out "$OPS_DIR/keys/signing.pem"
  openssl pkey -in "$OPS_DIR/keys/signing.pem" -pubout -out "$OPS_DIR/keys/signing.pub.pem"
  openssl genpkey -algorithm ed25519 -out "$OPS_DIR/keys/other-signing.pem"
  ops_env
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_DB_URL" \
    -v definition="$(cat "$REPO_ROOT/crates/routing/fixtures/demo-bot.json")" -f "$REPO_ROOT/supabase/seed.sql" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_DB_URL" -f "$REPO_ROOT/scripts/tests/ops-seed.sql" >/dev/null
  # --all-targets: the features `cargo test -p session-daemon` resolves (dev-
  # dependencies included), so after the test suites this is no rebuild.
  cargo build --quiet --locked -p session-daemon --all-targets
  WABOT_HOLD_NUMBERS=$OPS_HELD_NUMBERS start_daemon "$STATE_DIR" "$OPS_DAEMON_PORT" "$DB_PORT" "$GATEWAY_PORT"
  local i
  for i in 1 2 3; do
    "$CARGO_TARGET_DIR/debug/wabot" contact send --daemon-url "http://127.0.0.1:$OPS_DAEMON_PORT" \
      --to +15550100001 --from "+1555019910$i" $'hi\tthere, "contact" \\ caf\u00e9\nsecond line' >/dev/null
  done
  start_service "$STATE_DIR" s3 moto_server -H 127.0.0.1 -p "$OPS_S3_PORT"
  wait_for_http "http://127.0.0.1:$OPS_S3_PORT/" 30 || { tail -5 "$STATE_DIR/s3.log"; return 1; }
  ops_aws s3 mb "s3://$OPS_BUCKET" >/dev/null
}

ops_smoke() {
  "$REPO_ROOT/scripts/smoke.sh" --daemon-url "http://127.0.0.1:$OPS_DAEMON_PORT" \
    --functions-url "http://127.0.0.1:$GATEWAY_PORT/functions/v1" --db-url "$TEST_DB_URL" \
    --number +15550100001 --number +15550100002 --wait 30
}

# A failing check makes the smoke test fail, with the check named.
ops_smoke_failures() {
  local out
  if out=$("$REPO_ROOT/scripts/smoke.sh" --daemon-url "http://127.0.0.1:1" \
    --functions-url "http://127.0.0.1:$GATEWAY_PORT/functions/v1" --db-url "$TEST_DB_URL" \
    --number +15550100003 2>&1); then
    echo "the smoke test passed with no daemon and a stopped number"; return 1
  fi
  grep -q 'FAIL.*/status: no answer' <<<"$out" || { echo "$out"; echo "no /status failure line"; return 1; }
  grep -q 'FAIL.*+15550100003 stopped' <<<"$out" || { echo "$out"; echo "no stopped-number failure line"; return 1; }
  grep -q 'smoke test FAILED' <<<"$out" || { echo "$out"; return 1; }
  echo "the smoke test fails, naming each failed check"
}

ops_latest_local() { find "$OPS_DIR/backups" -maxdepth 1 -name "$OPS_ARCHIVE_GLOB" | grep -v 29991231 | sort | tail -1; }

ops_backup() {
  "$REPO_ROOT/scripts/backup.sh" --db-url "$TEST_DB_URL" --to "$OPS_DIR/backups" || return 1
  "$REPO_ROOT/scripts/backup.sh" --db-url "$TEST_DB_URL" --to "s3://$OPS_BUCKET/weekly" || return 1
  local archive manifest
  archive=$(ops_latest_local)
  manifest=$(age -d -i "$OPS_DIR/keys/backup.txt" "$archive" | tar -xzOf - manifest.json)
  # What a useful restore needs is there; secrets are not.
  jq -e '[.tables[] | select(.name == "messages")][0].rows >= 20000' <<<"$manifest" >/dev/null \
    || { echo "the seeded messages are missing from the manifest"; return 1; }
  jq -e '[.tables[].name] | (index("bots") and index("bot_versions") and index("conversations") and index("numbers")
    and index("alerts") and index("audit_log_entries") and index("members") and index("alert_channels")
    and index("media_objects")) != null' \
    <<<"$manifest" >/dev/null || { echo "a critical table is missing"; return 1; }
  jq -e '.schema_version | test("^[0-9]{14}$")' <<<"$manifest" >/dev/null || return 1
  # Signed, and the data files hold data only.
  ops_verify_signature "$archive.sig" "$WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE" "$archive" "$(basename "$archive")" >/dev/null \
    || { echo "the backup's signature does not verify"; return 1; }
  if age -d -i "$OPS_DIR/keys/backup.txt" "$archive" | tar -xzOf - data/bots.copy | grep -qiE '^(COPY|\\)'; then
    echo "a data file holds SQL or a meta-command"; return 1
  fi
  age -d -i "$OPS_DIR/keys/backup.txt" "$archive" | tar -xzOf - >"$OPS_DIR/plaintext" || return 1
  if grep -q 'ops-seed-signing-secret-never-exported' "$OPS_DIR/plaintext"; then
    echo "a signing secret leaked into the backup"; return 1
  fi
  grep -q 'Olu Operator' "$OPS_DIR/plaintext" || { echo "the members' users are missing"; return 1; }
  rm -f "$OPS_DIR/plaintext"
  [ -n "$(ops_s3_list "s3://$OPS_BUCKET/weekly")" ] || { echo "nothing in the bucket"; return 1; }
  echo "backups in $OPS_DIR/backups and s3://$OPS_BUCKET/weekly; no secret inside"
}

ops_drill_passed() {
  local name
  name=$(tail -1 "$WABOT_DRILL_STATE_DIR/created-databases.tsv" | cut -f1)
  jq -e '.status == "passed"' "$WABOT_DRILL_STATE_DIR/reports/$name.json" >/dev/null \
    || { echo "the report does not say passed"; return 1; }
  [ "$(tail -1 "$WABOT_DRILL_STATE_DIR/created-databases.tsv" | cut -f6)" = dropped ] \
    || { echo "$name was not dropped"; return 1; }
  [ ! -e "$WABOT_DRILL_STATE_DIR/$name" ] || { echo "the drill's cluster is still there"; return 1; }
}

# A forged archive with a newer name than any real one (encrypted to the
# public recipient, not signed) sits beside the real backups: the drill picks
# the newest *signed* one instead.
ops_drill_local() {
  local forged="$OPS_DIR/backups/wabot-backup-29991231T235959Z.tar.gz.age" out rc=0 name
  ops_repack "$forged" "true" ""
  out=$(WABOT_BACKUP_AGE_IDENTITY_FILE="$OPS_DIR/keys/backup.txt" \
    "$REPO_ROOT/scripts/restore-drill.sh" --from "$OPS_DIR/backups" 2>&1) || rc=$?
  rm -f "$forged" "$forged.sig"
  echo "$out"
  [ "$rc" = 0 ] || return 1
  ops_drill_passed || return 1
  name=$(tail -1 "$WABOT_DRILL_STATE_DIR/created-databases.tsv" | cut -f1)
  if jq -e '.backup | test("29991231")' "$WABOT_DRILL_STATE_DIR/reports/$name.json" >/dev/null; then
    echo "the drill restored the forged archive with the newest name"; return 1
  fi
  echo "the forged newer-named archive was skipped; the newest signed backup was restored"
}

ops_drill_s3() {
  WABOT_BACKUP_AGE_IDENTITY="$(grep '^AGE-SECRET-KEY-' "$OPS_DIR/keys/backup.txt")" \
    "$REPO_ROOT/scripts/restore-drill.sh" --from "s3://$OPS_BUCKET/weekly" && ops_drill_passed
}

# Runs the drill on archive $1 with identity $2, expects a refusal whose
# message matches $3, and checks that nothing was created or imported.
ops_expect_refusal() {
  local archive=$1 identity=$2 expected=$3 before after out
  before=$(wc -l <"$WABOT_DRILL_STATE_DIR/created-databases.tsv")
  if out=$(WABOT_BACKUP_AGE_IDENTITY_FILE=$identity "$REPO_ROOT/scripts/restore-drill.sh" --archive "$archive" 2>&1); then
    echo "$out"; echo "NOT refused: $archive"; return 1
  fi
  grep -qE "$expected" <<<"$out" || { echo "$out"; echo "the refusal does not say: $expected"; return 1; }
  grep -q 'Nothing was imported\|refused' <<<"$out" || { echo "$out"; return 1; }
  after=$(wc -l <"$WABOT_DRILL_STATE_DIR/created-databases.tsv")
  [ "$before" = "$after" ] || { echo "a database was created for a refused backup"; return 1; }
  if [ -n "$(find "$WABOT_DRILL_STATE_DIR" -maxdepth 1 -name 'wabot_restore_drill_*' -type d)" ]; then
    echo "a drill cluster was left behind"; return 1
  fi
  printf '  refused %-28s %s\n' "$(basename "$archive")" "$(grep -m1 -oE 'refused: [^(]*' <<<"$out")"
}

# Repacks the backup into $1 after $2 (a command run inside the unpacked
# folder), encrypted to the right recipient: an archive that decrypts, whose
# contents were changed. $3: the key that signs it ("" for none, as a forger
# without the backup host's key would send it).
ops_repack() {
  local out=$1 change=$2 key=${3-$OPS_DIR/keys/signing.pem} dir
  dir=$(mktemp -d)
  age -d -i "$OPS_DIR/keys/backup.txt" "$(ops_latest_local)" | tar -xzf - -C "$dir"
  (cd "$dir" && eval "$change")
  (cd "$dir" && tar -czf - manifest.json $(ls -d sql data 2>/dev/null) csv) | age -r "$WABOT_BACKUP_AGE_RECIPIENT" -o "$out"
  rm -f "$out.sig"
  if [ -n "$key" ]; then
    ops_sign_archive "$out" wabot-backup-20000101T000000Z.tar.gz.age \
      "$(jq -r .created_at "$dir/manifest.json")" "$key"
  fi
  rm -rf "$dir"
}

# jq over manifest.json in place (inside ops_repack's folder).
OPS_JQ_MANIFEST='jq_manifest() { jq "$@" manifest.json > m && mv m manifest.json; }'

# The bots table's data file in either format (the old one fed sql/bots.sql
# to psql -f; the new one is data/bots.copy), with its checksum updated.
OPS_BOTS_FILE='bots_file() { ls data/bots.copy sql/bots.sql 2>/dev/null | head -1; }
fix_bots_sha() { local f s; f=$(bots_file); s=$(sha256sum "$f" | cut -d" " -f1);
  jq --arg f "$f" --arg s "$s" ".files[\$f] = \$s | (.tables[] | select(.name == \"bots\") | (.data // .sql).sha256) = \$s | (.tables[] | select(.name == \"bots\") | (.data // .sql).bytes) = $(stat -c %s "$f")" manifest.json > m && mv m manifest.json; }'

ops_refusals() {
  local good bad="$OPS_DIR/bad" size
  good=$(ops_latest_local)
  mkdir -p "$bad"
  ops_expect_refusal "$good" "$OPS_DIR/keys/other.txt" 'refused: wrong key' || return 1
  cp "$good" "$bad/flipped-byte.tar.gz.age"
  size=$(stat -c %s "$good")
  cp "$good.sig" "$bad/flipped-byte.tar.gz.age.sig"
  printf '\x5a' | dd of="$bad/flipped-byte.tar.gz.age" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
  ops_expect_refusal "$bad/flipped-byte.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the archive is corrupt or was tampered with' || return 1
  head -c $((size - 100)) "$good" >"$bad/truncated.tar.gz.age"
  cp "$good.sig" "$bad/truncated.tar.gz.age.sig"
  ops_expect_refusal "$bad/truncated.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the archive is corrupt or was tampered with' || return 1
  ops_repack "$bad/edited-row.tar.gz.age" "sed -i '1s/.\$/X/' data/bots.copy"
  ops_expect_refusal "$bad/edited-row.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: checksum mismatch for data/bots.copy' || return 1
  ops_repack "$bad/extra-file.tar.gz.age" "echo 'drop table public.bots;' > data/evil.copy"
  ops_expect_refusal "$bad/extra-file.tar.gz.age" "$OPS_DIR/keys/backup.txt" "refused: the archive's files differ" || return 1
  ops_repack "$bad/injected-sql.tar.gz.age" "$OPS_BOTS_FILE; printf 'drop table public.bots;\n' >> \$(bots_file) && fix_bots_sha"
  ops_expect_refusal "$bad/injected-sql.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: data/bots.copy holds [0-9]+ rows, the manifest says' || return 1
  ops_repack "$bad/newer-schema.tar.gz.age" "jq '.schema_version = \"29991231000000\"' manifest.json > m && mv m manifest.json"
  ops_expect_refusal "$bad/newer-schema.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the backup is from schema 29991231000000' || return 1
}

# Forged archives: encrypted to the public recipient (anyone can), but not
# signed, or signed by a key that is not the pinned one. Refused before
# anything is decrypted.
ops_forged() {
  local bad="$OPS_DIR/bad"
  mkdir -p "$bad"
  ops_repack "$bad/forged-unsigned.tar.gz.age" "true" ""
  ops_expect_refusal "$bad/forged-unsigned.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the archive has no signature' || return 1
  ops_repack "$bad/forged-other-key.tar.gz.age" "true" "$OPS_DIR/keys/other-signing.pem"
  ops_expect_refusal "$bad/forged-other-key.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the signature does not verify with the pinned key' || return 1
  # A genuine signature moved onto another archive.
  ops_repack "$bad/moved-signature.tar.gz.age" "true" ""
  cp "$(ops_latest_local).sig" "$bad/moved-signature.tar.gz.age.sig"
  ops_expect_refusal "$bad/moved-signature.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: the archive is corrupt or was tampered with' || return 1
}

# A data file whose first line is a psql meta-command (signed with the real
# key, as from a compromised backup host): the restore never hands the file
# to an interpreter, so nothing runs; the row is refused or loaded as data.
ops_no_interpreter() {
  local bad="$OPS_DIR/bad" pwned="$OPS_DIR/pwned" out
  mkdir -p "$bad"
  rm -f "$pwned"
  ops_repack "$bad/meta-command.tar.gz.age" "$OPS_BOTS_FILE; sed -i '1s#.*#\\\\! touch $pwned#' \$(bots_file) && fix_bots_sha"
  out=$(WABOT_BACKUP_AGE_IDENTITY_FILE="$OPS_DIR/keys/backup.txt" \
    "$REPO_ROOT/scripts/restore-drill.sh" --no-smoke --archive "$bad/meta-command.tar.gz.age" 2>&1) || true
  if [ -e "$pwned" ]; then echo "$out"; echo "the backup's \\! meta-command ran a shell on restore"; return 1; fi
  grep -qE 'refused|import failed|restore drill passed' <<<"$out" || { echo "$out"; return 1; }
  echo "the meta-command did not run: $(grep -m1 -oE 'refused: [^(]*|the import failed[^:]*|restore drill passed' <<<"$out")"
}

# The runbook's manual restore: --extract verifies like the drill, then
# writes the checked files and an import script of \copy lines only.
ops_extract() {
  local dir="$OPS_DIR/extract" out
  rm -rf "$dir" "$dir-forged"
  mkdir -p "$OPS_DIR/bad"
  WABOT_BACKUP_AGE_IDENTITY_FILE="$OPS_DIR/keys/backup.txt" \
    "$REPO_ROOT/scripts/restore-drill.sh" --extract "$dir" --archive "$(ops_latest_local)" >"$OPS_DIR/extract.log" 2>&1 \
    || { cat "$OPS_DIR/extract.log"; return 1; }
  [ -f "$dir/manifest.json" ] && [ -f "$dir/data/bots.copy" ] || { echo "the checked files are missing"; return 1; }
  if grep -vE "^(\\\\set ON_ERROR_STOP on|set session_replication_role = replica;|\\\\copy public\.[a-z_]+ \(\"[a-z_0-9]+\"(, \"[a-z_0-9]+\")*\) from '$dir/data/[a-z_]+\.copy'|\\\\copy auth\.users \(.*\) from '$dir/data/auth_users\.copy')\$" "$dir/import.psql"; then
    echo "import.psql holds a line that is not \\copy"; return 1
  fi
  # A forged archive is refused there too, and nothing is written.
  ops_repack "$OPS_DIR/bad/extract-forged.tar.gz.age" "true" ""
  if out=$(WABOT_BACKUP_AGE_IDENTITY_FILE="$OPS_DIR/keys/backup.txt" \
    "$REPO_ROOT/scripts/restore-drill.sh" --extract "$dir-forged" --archive "$OPS_DIR/bad/extract-forged.tar.gz.age" 2>&1); then
    echo "$out"; echo "--extract accepted a forged archive"; return 1
  fi
  grep -q 'refused: the archive has no signature' <<<"$out" || { echo "$out"; echo "--extract did not refuse for the signature"; return 1; }
  [ ! -e "$dir-forged" ] || { echo "--extract wrote a forged archive's files"; return 1; }
  echo "--extract wrote $(grep -c '^.copy' "$dir/import.psql") \\copy lines and refused the forged archive"
}

# Hostile manifest fields (signed with the real key): each refused, naming
# the field, before anything is imported.
ops_hostile_manifest() {
  local bad="$OPS_DIR/bad"
  mkdir -p "$bad"
  ops_repack "$bad/hostile-filter.tar.gz.age" \
    "$OPS_JQ_MANIFEST; jq_manifest '(.tables[] | select(.name == \"number_connection_events\") | .filter) = \"true) to stdout; select pg_sleep(1); copy (select 1\"'"
  ops_expect_refusal "$bad/hostile-filter.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: manifest field tables\[[0-9]+\]\.filter' || return 1
  ops_repack "$bad/hostile-order.tar.gz.age" \
    "$OPS_JQ_MANIFEST; jq_manifest '(.tables[] | select(.name == \"bots\") | .order_by) = \"id; drop table public.bots\"'"
  ops_expect_refusal "$bad/hostile-order.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: manifest field tables\[[0-9]+\]\.order_by' || return 1
  ops_repack "$bad/hostile-table.tar.gz.age" \
    "$OPS_JQ_MANIFEST; jq_manifest '(.tables[] | select(.name == \"bots\") | .name) = \"bots; drop table x\"'"
  ops_expect_refusal "$bad/hostile-table.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: manifest field tables\[[0-9]+\]\.name' || return 1
  ops_repack "$bad/hostile-rows.tar.gz.age" \
    "$OPS_JQ_MANIFEST; jq_manifest '(.tables[] | select(.name == \"bots\") | .rows) = \"1; select 1\"'"
  ops_expect_refusal "$bad/hostile-rows.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: manifest field tables\[[0-9]+\]\.rows' || return 1
  ops_repack "$bad/hostile-path.tar.gz.age" \
    "$OPS_JQ_MANIFEST; jq_manifest '(.tables[] | select(.name == \"bots\") | (.data // .sql).path) = \"../../etc/passwd\"'"
  ops_expect_refusal "$bad/hostile-path.tar.gz.age" "$OPS_DIR/keys/backup.txt" 'refused: manifest field tables\[[0-9]+\]\.data' || return 1
}

# The drill touches only databases it created.
ops_cleanup_refusals() {
  local out name=wabot_restore_drill_20000101t000000z
  for target in postgres "$name"; do
    if out=$("$REPO_ROOT/scripts/restore-drill.sh" --cleanup "$target" 2>&1); then
      echo "--cleanup $target was not refused"; return 1
    fi
    grep -q "refusing to touch database '$target'" <<<"$out" || { echo "$out"; return 1; }
    echo "  $out"
  done
  # A database of that name that someone else made survives.
  psql -X -q -d "$TEST_DB_URL" -c "create database $name" >/dev/null
  "$REPO_ROOT/scripts/restore-drill.sh" --cleanup "$name" >/dev/null 2>&1 && { echo "not refused"; return 1; }
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select count(*) from pg_database where datname = '$name'")" = 1 ] || return 1
  psql -X -q -d "$TEST_DB_URL" -c "drop database $name" >/dev/null
}

ops_deploy_files() {
  command -v hadolint >/dev/null || { echo "hadolint is not installed (scripts/install.sh)"; return 1; }
  hadolint --failure-threshold info "$REPO_ROOT/crates/session-daemon/Dockerfile" "$REPO_ROOT/admin-ui/Dockerfile" || return 1
  echo "hadolint: both Dockerfiles clean"
  (cd "$REPO_ROOT" && docker-compose config --quiet) || return 1
  local config
  config=$(cd "$REPO_ROOT" && WABOT_REGISTRY=registry.test/wabot docker-compose config) || return 1
  for service in session-daemon admin-ui; do
    grep -q "image: registry.test/wabot/$service:latest" <<<"$config" \
      || { echo "docker-compose.yml has no image for $service"; return 1; }
  done
  echo "docker-compose config: valid"
  grep -q '^USER 65532' "$REPO_ROOT/crates/session-daemon/Dockerfile" && grep -q '^USER 65532' "$REPO_ROOT/admin-ui/Dockerfile" \
    || { echo "an image runs as root"; return 1; }
  # The deploy script's plan, and its db step for real.
  SUPABASE_ACCESS_TOKEN=sbp_test SUPABASE_PROJECT_REF=abcdefghijklmnopqrst ADMIN_UI_ORIGIN=https://admin.example.test \
    REDIS_URL=redis://unused "$REPO_ROOT/scripts/deploy.sh" --dry-run --env-file /dev/null >"$OPS_DIR/deploy-plan.txt" 2>&1 \
    || { cat "$OPS_DIR/deploy-plan.txt"; return 1; }
  grep -q 'supabase functions deploy --use-api --project-ref abcdefghijklmnopqrst' "$OPS_DIR/deploy-plan.txt" \
    && grep -q 'supabase secrets set --env-file <OUTBOX_RELAY_SECRET WABOT_DAEMON_TOKEN ADMIN_UI_ORIGIN>' "$OPS_DIR/deploy-plan.txt" \
    && grep -q 'REDIS_URL is set but nothing uses Redis' "$OPS_DIR/deploy-plan.txt" \
    || { cat "$OPS_DIR/deploy-plan.txt"; return 1; }
  if grep -q "$OUTBOX_RELAY_SECRET" "$OPS_DIR/deploy-plan.txt"; then echo "the plan printed a secret"; return 1; fi
  if env -u OUTBOX_RELAY_SECRET SUPABASE_ACCESS_TOKEN=x "$REPO_ROOT/scripts/deploy.sh" --dry-run --env-file /dev/null >/dev/null 2>&1; then
    echo "deploy.sh accepted missing settings"; return 1
  fi
  "$REPO_ROOT/scripts/deploy.sh" --only db --db-url "$TEST_DB_URL" || return 1
  # The schedule files.
  awk '/^[0-9*]/ { if (NF < 7) bad = 1; n++ } END { exit (bad || n != 2) }' "$REPO_ROOT/scripts/backup.cron" \
    || { echo "scripts/backup.cron: expected two 'm h dom mon dow user command' lines"; return 1; }
  grep -q 'scripts/backup.sh --env-file' "$REPO_ROOT/scripts/backup.cron" || return 1
  if command -v systemd-analyze >/dev/null; then
    local units
    units=$(mktemp -d)
    for unit in "$REPO_ROOT"/scripts/systemd/*; do sed "s#/opt/wabot#$REPO_ROOT#g" "$unit" >"$units/$(basename "$unit")"; done
    systemd-analyze verify "$units/wabot-backup.service" "$units/wabot-backup.timer" || return 1
    systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$units/wabot-backup.timer")" >/dev/null || return 1
    rm -rf "$units"
    echo "systemd units verified"
  fi
  [ -f "$REPO_ROOT/docs/adr/template.md" ] && [ -f "$REPO_ROOT/docs/adr/0005-no-redis.md" ]
}

# Runs the doctor against the test database with a clean configuration: a
# project whose JWKS (served here by a static file server: the stand-in for
# https://<ref>.supabase.co/auth/v1/.well-known/jwks.json) has an ES256 key,
# the functions' secrets in the environment, a daemon on a hosted-looking
# database with sslmode=require and a public status URL. "$@" are NAME=VALUE
# changes: the planted mistake.
ops_doctor() {
  env WABOT_JWT_ALG= JWT_SECRET= SUPABASE_DB_URL= SUPABASE_ACCESS_TOKEN= SUPABASE_PROJECT_REF= \
    SUPABASE_URL="http://127.0.0.1:$OPS_JWKS_PORT/es256" \
    OUTBOX_RELAY_SECRET="$OUTBOX_RELAY_SECRET" WABOT_DAEMON_TOKEN="$WABOT_DAEMON_TOKEN" ADMIN_UI_ORIGIN=https://admin.example.test \
    WABOT_DATABASE_URL="postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres?sslmode=require" \
    WABOT_STATUS_URL=https://runtime.example.test/status \
    "$@" "$REPO_ROOT/scripts/deploy.sh" --check --env-file /dev/null --db-url "$TEST_DB_URL" 2>&1
}

# Plants one mistake ($1: what the doctor must print; the rest: ops_doctor's
# changes) and checks that the doctor fails naming it.
ops_expect_doctor() {
  local expected=$1 out
  shift
  if out=$(ops_doctor "$@"); then echo "$out"; echo "the doctor passed with: $*"; return 1; fi
  grep -qE "FAIL.*$expected" <<<"$out" || { echo "$out"; echo "the doctor did not name: $expected"; return 1; }
  printf '  named: %s\n' "$(grep -m1 -E "FAIL.*$expected" <<<"$out" | sed 's/\x1b\[[0-9;]*m//g; s/^ *FAIL *//' | cut -c1-150)"
}

ops_deploy_check() {
  local jwks="$OPS_DIR/jwks" out
  mkdir -p "$jwks/es256/auth/v1/.well-known" "$jwks/hs256/auth/v1/.well-known"
  printf '%s\n' '{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"test","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}' \
    >"$jwks/es256/auth/v1/.well-known/jwks.json"
  printf '%s\n' '{"keys":[]}' >"$jwks/hs256/auth/v1/.well-known/jwks.json"
  start_service "$STATE_DIR" jwks python3 -m http.server "$OPS_JWKS_PORT" --bind 127.0.0.1 --directory "$jwks"
  wait_for_http "http://127.0.0.1:$OPS_JWKS_PORT/es256/auth/v1/.well-known/jwks.json" 30 || return 1
  # The Vault setup (deploy.sh's vault step, private.set_vault_secret), twice:
  # it must be safe to repeat.
  local i
  for i in 1 2; do
    SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co \
      "$REPO_ROOT/scripts/deploy.sh" --only vault --env-file /dev/null --db-url "$TEST_DB_URL" >"$OPS_DIR/vault-$i.log" 2>&1 \
      || { cat "$OPS_DIR/vault-$i.log"; echo "deploy.sh --only vault failed on run $i"; return 1; }
  done
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select count(*) from vault.secrets where name in ('project_url', 'outbox_relay_secret')")" = 2 ] \
    || { echo "the vault step did not leave exactly one secret of each name"; return 1; }

  out=$(ops_doctor) || { echo "$out"; echo "the doctor failed a clean configuration"; return 1; }
  echo "$out" | tail -1
  out=$(ops_doctor SUPABASE_URL="http://127.0.0.1:$OPS_JWKS_PORT/hs256" JWT_SECRET=legacy-secret-of-at-least-32-characters) \
    || { echo "$out"; echo "the doctor failed an HS256 project with JWT_SECRET"; return 1; }

  # The JWT setup.
  ops_expect_doctor 'JWT: the project signs user tokens with HS256 but the functions have no JWT_SECRET' \
    SUPABASE_URL="http://127.0.0.1:$OPS_JWKS_PORT/hs256" || return 1
  ops_expect_doctor 'JWT: no JWKS reachable at http://127.0.0.1:1/auth/v1/.well-known/jwks.json' SUPABASE_URL=http://127.0.0.1:1 || return 1
  # The functions' secrets.
  ops_expect_doctor 'functions: OUTBOX_RELAY_SECRET is not set' OUTBOX_RELAY_SECRET= || return 1
  ops_expect_doctor 'functions: ADMIN_UI_ORIGIN is not set' ADMIN_UI_ORIGIN= || return 1
  # The daemon: sslmode, the transaction pooler, a loopback status URL.
  ops_expect_doctor 'daemon: WABOT_DATABASE_URL has sslmode=<none>' \
    WABOT_DATABASE_URL=postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres || return 1
  ops_expect_doctor 'daemon: WABOT_DATABASE_URL has sslmode=prefer' \
    WABOT_DATABASE_URL='postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres?sslmode=prefer' || return 1
  ops_expect_doctor 'daemon: WABOT_DATABASE_URL uses port 6543, the transaction pooler' \
    WABOT_DATABASE_URL='postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres?sslmode=require' || return 1
  ops_expect_doctor 'daemon: WABOT_STATUS_URL http://127.0.0.1:54380/status is a loopback address' \
    WABOT_STATUS_URL=http://127.0.0.1:54380/status || return 1
  # The Vault secrets (then put back).
  psql -X -q -d "$TEST_DB_URL" -c "update vault.secrets set name = 'outbox_relay_secret_gone' where name = 'outbox_relay_secret'" >/dev/null
  ops_expect_doctor 'Vault: no secret named outbox_relay_secret' || return 1
  psql -X -q -d "$TEST_DB_URL" -c "update vault.secrets set name = 'outbox_relay_secret' where name = 'outbox_relay_secret_gone'" >/dev/null
  psql -X -q -d "$TEST_DB_URL" -c "update vault.secrets set secret = '' where name = 'project_url'" >/dev/null
  ops_expect_doctor 'Vault: the secret project_url is empty' || return 1
  psql -X -q -d "$TEST_DB_URL" -c "select private.set_vault_secret('project_url', 'https://abcdefghijklmnopqrst.supabase.co')" >/dev/null
  ops_expect_doctor 'Vault: outbox_relay_secret differs from OUTBOX_RELAY_SECRET' OUTBOX_RELAY_SECRET="$(openssl rand -hex 24)" || return 1
  # The doorbell job (the local stack has none: planted, then removed).
  psql -X -q -d "$TEST_DB_URL" -c "select cron.schedule('outbox-relay-doorbell', '*/5 * * * *', 'select private.kick_outbox_relay(''tick'')')" >/dev/null
  ops_expect_doctor "doorbell: the job outbox-relay-doorbell runs on '\*/5 \* \* \* \*', not every minute" || return 1
  ops_expect_doctor 'doorbell: the job outbox-relay-doorbell exists but pg_net is not installed' || return 1
  psql -X -q -d "$TEST_DB_URL" -c "select cron.alter_job(jobid, schedule := '* * * * *', active := false) from cron.job where jobname = 'outbox-relay-doorbell'" >/dev/null
  ops_expect_doctor 'doorbell: the pg_cron job outbox-relay-doorbell is not active' || return 1
  psql -X -q -d "$TEST_DB_URL" -c "select cron.unschedule('outbox-relay-doorbell')" >/dev/null
  ops_doctor >/dev/null || { echo "the doctor still fails after the mistakes were undone"; return 1; }

  # deploy.sh itself refuses an HS256 project without JWT_SECRET.
  if out=$(SUPABASE_ACCESS_TOKEN=sbp_test SUPABASE_PROJECT_REF=abcdefghijklmnopqrst ADMIN_UI_ORIGIN=https://admin.example.test \
    SUPABASE_URL="http://127.0.0.1:$OPS_JWKS_PORT/hs256" JWT_SECRET= \
    "$REPO_ROOT/scripts/deploy.sh" --dry-run --env-file /dev/null 2>&1); then
    echo "$out"; echo "deploy.sh deployed an HS256 project without JWT_SECRET"; return 1
  fi
  grep -q 'JWT_SECRET is not set but the project signs user tokens with HS256' <<<"$out" || { echo "$out"; return 1; }
  echo "the doctor names each planted mistake; deploy.sh refuses an HS256 project without JWT_SECRET"
}

ops_runbook() {
  WABOT_DEV_DB_PORT=$DB_PORT WABOT_DEV_GATEWAY_PORT=$GATEWAY_PORT WABOT_DEV_DAEMON_PORT=$OPS_DAEMON_PORT \
    WABOT_STACK_DIR="${STATE_DIR#"$REPO_ROOT"/}" BACKUP_BUCKET=$OPS_BUCKET \
    SUPABASE_ACCESS_TOKEN=sbp_test SUPABASE_PROJECT_REF=abcdefghijklmnopqrst ADMIN_UI_ORIGIN=http://localhost:3000 \
    "$REPO_ROOT/scripts/check-runbook.sh" --run \
    --before "4. Incident response=psql -X -q -v ON_ERROR_STOP=1 -d \"\$DB_URL\" -f scripts/tests/runbook-incident.sql" \
    || return 1
  # What the incident response left behind.
  local alert
  alert=$(psql -X -At -d "$TEST_DB_URL" -c "select id from public.alerts where details ->> 'source' = 'runbook check'")
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select status from public.alerts where id = '$alert'")" = resolved ] \
    || { echo "the incident's alert is not resolved"; return 1; }
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select count(*) from public.audit_log_entries
       where action = 'incident.summary' and target_id = '$alert'")" -ge 2 ] \
    || { echo "the post-incident summaries are not in audit_log_entries"; return 1; }
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select count(*) from public.audit_log_entries
       where action = 'alerts.acknowledged' and target_id = '$alert'")" -ge 1 ] \
    || { echo "the acknowledgement was not audited"; return 1; }
  [ "$(psql -X -At -d "$TEST_DB_URL" -c "select count(*) from public.session_commands
       where command = 'restart' and requested_by is not null
         and number_id = '00000000-0000-4000-8000-00000000a001'")" -ge 1 ] \
    || { echo "the admin API restart left no session command"; return 1; }
  "$REPO_ROOT/scripts/smoke.sh" --daemon-url "http://127.0.0.1:$OPS_DAEMON_PORT" \
    --functions-url "http://127.0.0.1:$GATEWAY_PORT/functions/v1" --db-url "$TEST_DB_URL" \
    --number +15550100001 --wait 30 >/dev/null || { echo "the demo number did not come back after the restart"; return 1; }
  echo "the incident is acknowledged, summarised, resolved and audited; the number is connected again"
}

ops_suites_run() {
  trap 'ops_stop; cleanup' EXIT
  if ! ops_setup; then
    suite "ops: setup (seed, daemon, local S3)" false
    ops_stop
    return 0
  fi
  suite "ops: smoke test against the test stack" ops_smoke
  suite "ops: the smoke test fails on a failed check" ops_smoke_failures
  suite "ops: backup of the seeded database (folder and S3)" ops_backup
  suite "ops: restore drill from the folder" ops_drill_local
  suite "ops: restore drill from S3" ops_drill_s3
  suite "ops: wrong key and tampered backups refused, nothing imported" ops_refusals
  suite "ops: forged backups (unsigned, another signing key) refused before decrypting" ops_forged
  suite "ops: a backup's \\! meta-command never runs on restore" ops_no_interpreter
  suite "ops: the manual restore's --extract verifies first and writes \\copy lines only" ops_extract
  suite "ops: hostile manifest fields (filter, order_by, table, rows, path) refused, naming the field" ops_hostile_manifest
  suite "ops: the drill touches only databases it created" ops_cleanup_refusals
  suite "ops: deployment files (hadolint, compose, deploy.sh, schedules)" ops_deploy_files
  suite "ops: deploy.sh --check names each planted misconfiguration" ops_deploy_check
  suite "ops: the runbook's commands (docs/runbook.md)" ops_runbook
  ops_stop
}
