#!/usr/bin/env bash
# Shared settings for the scripts: paths, ports, tool locations and helpers.
# Sourced, never run. Everything here can be overridden from the environment.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wabot/target}"
export PATH="$HOME/.cargo/bin:$REPO_ROOT/scripts/node_modules/.bin:/usr/lib/postgresql/15/bin:$PATH"
# Deno keeps its npm cache outside the clone so fresh clones reuse it.
export DENO_DIR="${DENO_DIR:-/var/cache/wabot/deno}"
export DENO_NO_UPDATE_CHECK=1

# The wasm-bindgen version the CLI must match (the crate is pinned with "=").
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml")"
export WASM_BINDGEN_VERSION

# The local JWT secret has no default: each local stack mints a random one
# into its git-ignored secrets file (stack_secrets in scripts/lib/stack.sh),
# and the anon and service-role keys are minted from it. Supabase's public
# local-development secret is never used, so a web page cannot forge tokens
# for the stack. Scripts run outside a stack script (user-token.sh, smoke.sh)
# read the dev stack's secret with load_local_jwt_secret. Hosted projects have
# their own secret, which never appears in this repository.

# Exports SUPABASE_JWT_SECRET from the local stack's secrets file
# (WABOT_STATE_DIR, default .local/dev) unless it is already set; returns
# non-zero when neither is there.
load_local_jwt_secret() {
  [ -n "${SUPABASE_JWT_SECRET:-}" ] && return 0
  local secrets="${WABOT_STATE_DIR:-$REPO_ROOT/.local/dev}/secrets.env" line
  [ -r "$secrets" ] || return 1
  line=$(grep -m1 '^SUPABASE_JWT_SECRET=' "$secrets") || return 1
  SUPABASE_JWT_SECRET=${line#SUPABASE_JWT_SECRET=}
  export SUPABASE_JWT_SECRET
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as the postgres user (initdb and postgres refuse root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True when something listens on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits up to $2 seconds for an HTTP URL to answer (any status).
wait_for_http() {
  local url=$1 seconds=${2:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# The fixed ports of the local stacks (dev 543xx-546xx, tests 553xx-554xx,
# benchmarks and chaos 561xx-562xx) lie inside Linux's ephemeral range
# (32768-60999), so an outgoing connection can take one just before a
# service binds it: seen once in CI, a daemon failing with "Address already
# in use" on 55380. Where this may (root, /proc/sys writable), reserve them
# so the kernel never hands them out as ephemeral ports; elsewhere nothing
# changes. The reservation is a bitmap, so writing it again is harmless.
reserve_local_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current
  [ -w "$file" ] || return 0
  current=$(cat "$file" 2>/dev/null) || return 0
  echo "${current:+$current,}54300-54699,55300-55499,56100-56299" >"$file" 2>/dev/null || true
}
reserve_local_ports
