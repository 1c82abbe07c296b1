#!/usr/bin/env bash
# Builds the Wasm core as one module and as one module per concern, and
# prints each variant's size (raw and gzipped, after wasm-opt -Oz) and its
# instantiation time in Deno (median of fresh processes). Used for
# docs/adr/0004 and docs/benchmarks.md.
#   scripts/bench/wasm-modules.sh [runs]
source "$(dirname "$0")/../lib/common.sh"
runs=${1:-15}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

variants=("routing,health,alerting" "routing" "health,alerting" "health" "alerting")
printf '| module (features) | raw bytes | gzipped bytes | instantiate p50 (ms) | instantiate max (ms) |\n'
printf '|---|---|---|---|---|\n'
for features in "${variants[@]}"; do
  dir="$work/${features//,/-}"
  mkdir -p "$dir"
  cargo build --quiet --locked -p core-wasm --target wasm32-unknown-unknown --release \
    --no-default-features --features "$features"
  wasm-bindgen --target web --out-dir "$dir" --out-name core \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/core_wasm.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$dir/core_bg.wasm" -o "$dir/core.opt.wasm"
  base64 -w0 "$dir/core.opt.wasm" > "$dir/core.b64"
  raw=$(stat -c %s "$dir/core.opt.wasm")
  gz=$(gzip -9 -c "$dir/core.opt.wasm" | wc -c)
  times=()
  for ((i = 0; i < runs; i++)); do
    times+=("$(deno run --quiet --allow-read "$REPO_ROOT/scripts/bench/instantiate.ts" "$dir/core.js" "$dir/core.b64")")
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '| %s | %s | %s | %s | %s |\n' "$features" "$raw" "$gz" "${sorted[$((runs / 2))]}" "${sorted[$((runs - 1))]}"
done
