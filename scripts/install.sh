#!/usr/bin/env bash
# Installs whatever the local stack and the tests need and is missing:
# Debian packages (PostgreSQL 15 with pg_cron, pgTAP and plpgsql_check for
# `supabase db lint`, curl, openssl), the wasm32 Rust target, wasm-bindgen-cli
# at the crate's exact version, and the npm tooling in scripts/ (Deno, the
# Supabase CLI, binaryen's wasm-opt).
# Idempotent: a second run installs nothing.
source "$(dirname "$0")/lib/common.sh"

apt_packages=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check curl openssl ca-certificates)
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
