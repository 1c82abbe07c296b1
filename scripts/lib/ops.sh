#!/usr/bin/env bash
# Shared parts of the operations scripts (backup.sh, restore-drill.sh,
# smoke.sh, deploy.sh): the list of exported tables, age keys, S3 transfers,
# user tokens, and per-step reporting. Sourced after common.sh, never run.

# The operations tools scripts/install.sh puts in a virtualenv outside the
# clone (hadolint, the aws CLI, moto's S3 server for the tests); installed
# system-wide versions come first.
OPS_TOOLS_BIN=${WABOT_OPS_TOOLS_BIN:-/var/cache/wabot/ops-venv/bin}
if [ -d "$OPS_TOOLS_BIN" ] && [[ ":$PATH:" != *":$OPS_TOOLS_BIN:"* ]]; then export PATH="$PATH:$OPS_TOOLS_BIN"; fi

# --- output ------------------------------------------------------------------

# One line per check or step: "ok", "FAIL", "skip" or "info", then the text.
ops_ok() { printf '  \033[32mok\033[0m    %s\n' "$*"; }
ops_fail() { printf '  \033[31mFAIL\033[0m  %s\n' "$*"; }
ops_skip() { printf '  \033[33mskip\033[0m  %s\n' "$*"; }
ops_info() { printf '        %s\n' "$*"; }

# Prints the comment block at the top of script $1 (its usage).
ops_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

# Prints a database URL without its password, for logs and the manifest.
ops_redact_url() { sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"; }

# Reads KEY=VALUE lines of an env file into the environment without letting
# the file run code: blank lines and # comments skipped, optional quotes
# removed, `export ` prefixes allowed. Values already set in the environment
# win, as with docker compose and the Supabase CLI.
ops_load_env_file() {
  local file=$1 line key value
  [ -r "$file" ] || die "cannot read the env file $file"
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in '' | '#'*) continue ;; esac
    line="${line#export }"
    key="${line%%=*}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ "$key" != "$line" ] \
      || die "$file: not a KEY=VALUE line: ${line:0:40}"
    value="${line#*=}"
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
    if [ -z "${!key+set}" ]; then export "$key=$value"; fi
  done < "$file"
}

ops_require_tools() {
  local tool missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (./scripts/install.sh installs them)"
}

# A private temporary folder (mode 0700) that the caller removes. Call it as
# `dir=$(ops_mktemp_dir)` and register the cleanup in the calling shell.
ops_mktemp_dir() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/wabot-ops.XXXXXX")
  chmod 700 "$dir"
  printf '%s\n' "$dir"
}

# --- the exported tables -------------------------------------------------------

# name|relation|columns|filter|order
#   columns: "*" for every stored column (resolved at backup time and written
#   into the manifest), or a list; auth.users is projected: no password
#   hashes or tokens leave the project.
#   filter: rows exported (heartbeat events are noise; retention drops them).
# messages includes `content` (the message model's JSON, with each media
# file's storage_key); media_objects is the bucket's metadata. The bucket's
# objects themselves are copied by `aws s3 sync` (docs/runbook.md, "Media
# objects"); private.media_downloads (in-flight download attempts) is not.
# api_keys is exported with its key_hash (the SHA-256 the keys are checked
# against; no key can be recovered from it), so restored keys keep working
# and messages.api_key_id keeps its reference; webhook_subscriptions without
# their signing secrets.
# Not exported, on purpose: session_credentials, alert_channel_secrets and
# private.webhook_secrets (secrets: Supabase's own backups keep them; a
# restore re-pairs web numbers and rotates the alert channels' and the
# webhooks' secrets, docs/runbook.md), the outbox, the webhook events and
# delivery log and the pacing states (in-flight work, a 30-day log and
# runtime state), private.settings (migration defaults plus documented
# updates), the API's rate windows and idempotency keys (minutes to a day).
ops_table_specs() {
  cat <<'SPECS'
auth_users|auth.users|id,aud,role,email,email_confirmed_at,raw_app_meta_data,raw_user_meta_data,created_at,updated_at||id
members|public.members|*||user_id
bots|public.bots|*||id
bot_versions|public.bot_versions|*||id
api_keys|public.api_keys|*||id
runtime_instances|public.runtime_instances|*||id
numbers|public.numbers|*||id
number_connection_events|public.number_connection_events|*|event <> 'heartbeat'|id
session_commands|public.session_commands|*||id
contacts|public.contacts|*||id
conversations|public.conversations|*||id
messages|public.messages|*||id
media_objects|public.media_objects|*||storage_key
bot_version_media|public.bot_version_media|*||bot_version_id,storage_key
message_templates|public.message_templates|*||id
webhook_subscriptions|public.webhook_subscriptions|*||id
alerts|public.alerts|*||id
alert_channels|public.alert_channels|*||id
alert_deliveries|public.alert_deliveries|*||id
audit_log_entries|public.audit_log_entries|*||id
SPECS
}

# The spec line of table $1, or nothing.
ops_table_spec() { ops_table_specs | awk -F'|' -v name="$1" '$1 == name'; }

# The backup archive's name pattern. A name is only a label: the restore
# drill picks the archive whose *signed* created_at is newest, never the
# newest name (anyone who can write to the bucket can choose a name).
OPS_ARCHIVE_GLOB='wabot-backup-*.tar.gz.age'
OPS_ARCHIVE_RE='^wabot-backup-[0-9]{8}T[0-9]{6}Z\.tar\.gz\.age$'
# Format 2: data files hold COPY text-format rows only (data/<table>.copy),
# never SQL; format 1 (sql/<table>.sql, fed to psql -f) is refused.
OPS_MANIFEST_FORMAT='wabot-backup/2'
OPS_SIGNATURE_FORMAT='wabot-backup-signature/1'
OPS_TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# The spec lines as a JSON array ({name, relation, columns, filter, order}),
# for the manifest's validation.
ops_table_specs_json() {
  ops_table_specs | jq -R -s 'split("\n") | map(select(length > 0) | split("|")
    | {name: .[0], relation: .[1], columns: .[2], filter: .[3], order: .[4]})'
}

# The newest migration in this checkout (the schema the restore drill builds).
ops_repo_schema_version() {
  find "$REPO_ROOT/migrations" -maxdepth 1 -name '[0-9]*_*.sql' -printf '%f\n' | sed 's/_.*//' | sort | tail -1
}

# --- age -----------------------------------------------------------------------

# Prints age's -r arguments for WABOT_BACKUP_AGE_RECIPIENT (one or more public
# keys, separated by commas or spaces), one per line.
ops_age_recipient_args() {
  local recipients=${WABOT_BACKUP_AGE_RECIPIENT:-} key
  [ -n "$recipients" ] || die "WABOT_BACKUP_AGE_RECIPIENT is not set: the age public key (age1…) to encrypt backups to (docs/runbook.md, Backups)"
  for key in ${recipients//,/ }; do
    [[ "$key" =~ ^(age1[0-9a-z]{58}|ssh-(ed25519|rsa)\ .*)$ ]] \
      || die "WABOT_BACKUP_AGE_RECIPIENT: '$key' is not an age public key (age1…)"
    printf -- '-r\n%s\n' "$key"
  done
}

# Prints the path of an age identity file for decryption: the file named by
# WABOT_BACKUP_AGE_IDENTITY_FILE, or WABOT_BACKUP_AGE_IDENTITY (the key itself,
# AGE-SECRET-KEY-1…) written into the private folder $1.
ops_age_identity_file() {
  local private_dir=$1
  if [ -n "${WABOT_BACKUP_AGE_IDENTITY_FILE:-}" ]; then
    [ -r "$WABOT_BACKUP_AGE_IDENTITY_FILE" ] \
      || die "WABOT_BACKUP_AGE_IDENTITY_FILE=$WABOT_BACKUP_AGE_IDENTITY_FILE cannot be read"
    printf '%s\n' "$WABOT_BACKUP_AGE_IDENTITY_FILE"
  elif [ -n "${WABOT_BACKUP_AGE_IDENTITY:-}" ]; then
    [[ "$WABOT_BACKUP_AGE_IDENTITY" == AGE-SECRET-KEY-1* ]] \
      || die "WABOT_BACKUP_AGE_IDENTITY is not an age secret key (AGE-SECRET-KEY-1…)"
    (umask 077 && printf '%s\n' "$WABOT_BACKUP_AGE_IDENTITY" > "$private_dir/identity")
    printf '%s\n' "$private_dir/identity"
  else
    die "no age identity to decrypt with: set WABOT_BACKUP_AGE_IDENTITY_FILE (a file) or WABOT_BACKUP_AGE_IDENTITY (the AGE-SECRET-KEY-1… key)"
  fi
}

# --- signatures (docs/adr/0008-signed-backups.md) -------------------------------
# age encrypts but does not authenticate: anyone with the recipient (public)
# key can make an archive that decrypts. So the backup host also signs each
# archive with an Ed25519 key only it holds (openssl pkeyutl), in a sidecar
# <archive>.sig, and the restorer pins the public key and verifies the
# signature before it decrypts or reads anything. The sidecar is a short
# signed statement, one "key value" per line, then the signature:
#   wabot-backup-signature/1
#   archive wabot-backup-<time>.tar.gz.age
#   bytes <size of the archive>
#   sha256 <SHA-256 of the archive>
#   created_at <the manifest's created_at>
#   signature <base64 Ed25519 signature of the lines above, newlines included>

# The private signing key's file (WABOT_BACKUP_SIGNING_KEY_FILE), checked to
# be an Ed25519 key.
ops_signing_key_file() {
  local file=${WABOT_BACKUP_SIGNING_KEY_FILE:-}
  [ -n "$file" ] || die "WABOT_BACKUP_SIGNING_KEY_FILE is not set: the Ed25519 private key (PEM) that signs backups (docs/runbook.md, Backups)"
  [ -r "$file" ] || die "WABOT_BACKUP_SIGNING_KEY_FILE=$file cannot be read"
  openssl pkey -in "$file" -noout -text 2>/dev/null | grep -q '^ED25519 Private-Key' \
    || die "WABOT_BACKUP_SIGNING_KEY_FILE=$file is not an Ed25519 private key (openssl genpkey -algorithm ed25519)"
  printf '%s\n' "$file"
}

# Writes the pinned public key as PEM into folder $1 and prints its path:
# WABOT_BACKUP_SIGNING_PUBLIC_KEY (the one base64 line between the PEM's
# BEGIN and END lines, MCowBQYDK2VwAyEA…) or WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE.
ops_signing_public_key_pem() {
  local dir=$1 pem="$1/signing.pub.pem"
  if [ -n "${WABOT_BACKUP_SIGNING_PUBLIC_KEY:-}" ]; then
    [[ "$WABOT_BACKUP_SIGNING_PUBLIC_KEY" =~ ^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$ ]] \
      || die "WABOT_BACKUP_SIGNING_PUBLIC_KEY is not an Ed25519 public key (one base64 line, MCowBQYDK2VwAyEA…)"
    printf -- '-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n' "$WABOT_BACKUP_SIGNING_PUBLIC_KEY" >"$pem"
  elif [ -n "${WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE:-}" ]; then
    [ -r "$WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE" ] || die "WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE=$WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE cannot be read"
    cp "$WABOT_BACKUP_SIGNING_PUBLIC_KEY_FILE" "$pem"
  else
    die "no pinned signing key: set WABOT_BACKUP_SIGNING_PUBLIC_KEY (or _FILE) to the backup host's Ed25519 public key; an unsigned archive is never restored"
  fi
  openssl pkey -pubin -in "$pem" -noout -text 2>/dev/null | grep -q '^ED25519 Public-Key' \
    || die "the pinned signing key is not an Ed25519 public key"
  printf '%s\n' "$pem"
}

# ops_sign_archive <archive file> <archive name> <created_at> <key file>:
# writes <archive file>.sig.
ops_sign_archive() {
  local file=$1 name=$2 created_at=$3 key=$4 statement
  statement=$(mktemp "${TMPDIR:-/tmp}/wabot-statement.XXXXXX")
  printf '%s\narchive %s\nbytes %s\nsha256 %s\ncreated_at %s\n' "$OPS_SIGNATURE_FORMAT" "$name" \
    "$(stat -c %s "$file")" "$(sha256sum "$file" | cut -d' ' -f1)" "$created_at" >"$statement"
  { cat "$statement"; printf 'signature %s\n' \
      "$(openssl pkeyutl -sign -inkey "$key" -rawin -in "$statement" | openssl base64 -A)"; } >"$file.sig.partial" \
    || { rm -f "$statement" "$file.sig.partial"; die "cannot sign $name"; }
  rm -f "$statement"
  mv "$file.sig.partial" "$file.sig"
}

# ops_verify_signature <sidecar> <public key PEM> [<archive file> <archive name>]:
# checks the sidecar's signature with the pinned key, then (with an archive)
# that the archive is the signed one (name, size, SHA-256). Prints the signed
# created_at; on failure prints the reason to stdout and returns 1. Reads the
# archive only to hash it: nothing is decrypted or unpacked.
ops_verify_signature() {
  local sig=$1 pem=$2 file=${3:-} name=${4:-} dir lines signed_name bytes sha created_at
  [ -f "$sig" ] || { echo "the archive has no signature (no <archive>.sig beside it)"; return 1; }
  [ "$(stat -c %s "$sig")" -le 4096 ] || { echo "the signature file is too large to be one"; return 1; }
  dir=$(mktemp -d "${TMPDIR:-/tmp}/wabot-verify.XXXXXX")
  head -n 5 "$sig" >"$dir/statement"
  mapfile -t lines <"$sig"
  if [ ${#lines[@]} -ne 6 ] || ! [[ "${lines[5]}" =~ ^signature\ ([A-Za-z0-9+/]{86}==)$ ]]; then
    rm -rf "$dir"; echo "the signature file is malformed"; return 1
  fi
  printf '%s' "${BASH_REMATCH[1]}" | openssl base64 -d -A >"$dir/sig.bin"
  if ! openssl pkeyutl -verify -pubin -inkey "$pem" -rawin -in "$dir/statement" -sigfile "$dir/sig.bin" >/dev/null 2>&1; then
    rm -rf "$dir"; echo "the signature does not verify with the pinned key (unsigned, forged or signed by another key)"; return 1
  fi
  rm -rf "$dir"
  # Signed, so written by the backup host: still check its form.
  [ "${lines[0]}" = "$OPS_SIGNATURE_FORMAT" ] \
    && [[ "${lines[1]}" =~ ^archive\ (wabot-backup-[0-9]{8}T[0-9]{6}Z\.tar\.gz\.age)$ ]] && signed_name=${BASH_REMATCH[1]} \
    && [[ "${lines[2]}" =~ ^bytes\ ([0-9]{1,15})$ ]] && bytes=${BASH_REMATCH[1]} \
    && [[ "${lines[3]}" =~ ^sha256\ ([0-9a-f]{64})$ ]] && sha=${BASH_REMATCH[1]} \
    && [[ "${lines[4]#created_at }" =~ $OPS_TIME_RE ]] && created_at=${lines[4]#created_at } \
    || { echo "the signed statement is not a $OPS_SIGNATURE_FORMAT statement"; return 1; }
  if [ -n "$file" ]; then
    [ -z "$name" ] || [ "$name" = "$signed_name" ] \
      || { echo "the signature is for $signed_name, not $name"; return 1; }
    [ "$(stat -c %s "$file")" = "$bytes" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$sha" ] \
      || { echo "the archive is corrupt or was tampered with: its size or SHA-256 is not the signed one"; return 1; }
  fi
  printf '%s\n' "$created_at"
}

# --- S3-compatible object storage ----------------------------------------------
# With the aws CLI (preferred) or rclone. Credentials come from the usual AWS_*
# variables; WABOT_BACKUP_S3_ENDPOINT names a non-AWS endpoint such as
# Supabase Storage's (https://<ref>.supabase.co/storage/v1/s3).

ops_s3_tool() {
  local tool=${WABOT_BACKUP_S3_TOOL:-}
  if [ -z "$tool" ]; then
    if command -v aws >/dev/null; then tool=aws
    elif command -v rclone >/dev/null; then tool=rclone
    else die "s3:// needs the aws CLI or rclone (neither is installed)"; fi
  fi
  case "$tool" in aws | rclone) command -v "$tool" >/dev/null || die "WABOT_BACKUP_S3_TOOL=$tool is not installed" ;;
    *) die "WABOT_BACKUP_S3_TOOL must be aws or rclone, not $tool" ;; esac
  printf '%s\n' "$tool"
}

ops_aws() {
  local args=()
  if [ -n "${WABOT_BACKUP_S3_ENDPOINT:-}" ]; then args+=(--endpoint-url "$WABOT_BACKUP_S3_ENDPOINT"); fi
  aws "${args[@]}" "$@"
}

# rclone's on-the-fly S3 remote: ":s3,provider=…,endpoint=…:bucket/key".
ops_rclone_path() {
  local path=${1#s3://} remote=":s3,provider=${WABOT_BACKUP_RCLONE_PROVIDER:-Other},env_auth=true"
  if [ -n "${WABOT_BACKUP_S3_ENDPOINT:-}" ]; then remote+=",endpoint='$WABOT_BACKUP_S3_ENDPOINT'"; fi
  if [ -n "${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" ]; then remote+=",region=${AWS_REGION:-$AWS_DEFAULT_REGION}"; fi
  printf '%s:%s\n' "$remote" "$path"
}

# ops_s3_put <local file> <s3://bucket/key>
ops_s3_put() {
  case "$(ops_s3_tool)" in
    aws) ops_aws s3 cp --only-show-errors "$1" "$2" ;;
    rclone) rclone copyto "$1" "$(ops_rclone_path "$2")" ;;
  esac
}

# ops_s3_get <s3://bucket/key> <local file>
ops_s3_get() {
  case "$(ops_s3_tool)" in
    aws) ops_aws s3 cp --only-show-errors "$1" "$2" ;;
    rclone) rclone copyto "$(ops_rclone_path "$1")" "$2" ;;
  esac
}

# ops_s3_list <s3://bucket/prefix>: "<size> <name>" of the backup archives
# directly under the prefix.
ops_s3_list() {
  local prefix=${1%/}/
  case "$(ops_s3_tool)" in
    aws) ops_aws s3 ls "$prefix" | awk 'NF == 4 { print $3, $4 }' ;;
    rclone) rclone lsl --max-depth 1 "$(ops_rclone_path "$prefix")" | awk '{ print $1, $4 }' ;;
  esac | grep -E " ${OPS_ARCHIVE_RE#^}" || true
}

# --- user tokens -----------------------------------------------------------------

# A signed-in user's access token, HS256 with SUPABASE_JWT_SECRET (the local
# stack, or a hosted project whose tokens are still HS256): what the admin UI
# holds after sign-in. ops_mint_user_jwt <user id> <email> [seconds valid]
ops_mint_user_jwt() {
  local sub=$1 email=$2 ttl=${3:-300} header payload signature
  load_local_jwt_secret ||
    die "SUPABASE_JWT_SECRET is not set and no local stack's secrets file (.local/dev/secrets.env) has it: cannot mint a user token"
  b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(jq -cn --arg sub "$sub" --arg email "$email" --argjson exp "$(($(date +%s) + ttl))" \
    '{iss: "wabot-ops", sub: $sub, email: $email, role: "authenticated", aud: "authenticated", exp: $exp}' | b64url)
  signature=$(printf '%s' "$header.$payload" | openssl dgst -sha256 -hmac "$SUPABASE_JWT_SECRET" -binary | b64url)
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}
