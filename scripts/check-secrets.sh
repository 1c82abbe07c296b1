#!/usr/bin/env bash
# Fails when a tracked file holds a secret: a .env.local or key file, a
# private key, a JWT not signed with the local development secret (hosted
# service-role keys and user tokens), Supabase secret keys, AWS, GitHub,
# Slack or Meta tokens. The local demo secrets documented in .env.example
# are allowed. The admin UI's build is checked separately
# (admin-ui/scripts/check-bundle-secrets.mjs, in the UI's end-to-end suite).
#
#   scripts/check-secrets.sh [--self-test]
#
#   --self-test   also show that the check fails on planted secrets
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"
check() { deno run --quiet --allow-read --allow-run=git "$REPO_ROOT/scripts/check-secrets.ts" "$@"; }

if [ "${1:-}" = --self-test ]; then
  planted=$(mktemp -d)
  trap 'rm -rf "$planted"' EXIT
  b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '%s' '{"role":"service_role","iss":"supabase"}' | b64url)
  signature=$(printf '%s' "$header.$payload" | openssl dgst -sha256 -hmac "a-hosted-projects-secret-0123456789abcdef" -binary | b64url)
  echo "SUPABASE_SERVICE_ROLE_KEY=$header.$payload.$signature" > "$planted/config.ts"
  printf -- '-----BEGIN %s-----\nAAAA\n' "PRIVATE KEY" > "$planted/notes.md"
  echo "x=1" > "$planted/.env.local"
  if output=$(check --files "$planted/config.ts" "$planted/notes.md" "$planted/.env.local" 2>&1); then
    die "check-secrets passed files with planted secrets"
  fi
  for expected in "not signed with the local development secret" "a private key" "must not be committed"; do
    grep -q "$expected" <<<"$output" || die "check-secrets did not report: $expected"$'\n'"$output"
  done
  log "check-secrets reports planted secrets (self-test)"
fi
check
