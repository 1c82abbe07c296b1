#!/usr/bin/env bash
# Runs the core benchmarks natively (criterion) and in Wasm (Deno), measures
# the Wasm modules, and rewrites docs/benchmarks.md with the figures and the
# Wasm-to-native ratios. Takes a few minutes; run it on a quiet machine.
#   ./scripts/bench/run.sh                 measure, then write docs/benchmarks.md
#   ./scripts/bench/run.sh --report-only   rewrite it from the last run's results
source "$(dirname "$0")/../lib/common.sh"
# Raw results stay in .local/bench for a look after the run.
work="$REPO_ROOT/.local/bench"
mkdir -p "$work"

if [ "${1:-}" != "--report-only" ]; then
"$REPO_ROOT/scripts/build-wasm.sh" --check
log "native: cargo bench (criterion)"
rm -rf "$CARGO_TARGET_DIR/criterion"
cargo bench --quiet --locked -p routing --bench routing -- --warm-up-time 1 --measurement-time 4 >"$work/routing.txt"
cargo bench --quiet --locked -p health --bench sweep -- --warm-up-time 1 --measurement-time 4 >"$work/health.txt"
log "Wasm: scripts/bench/wasm-bench.ts"
deno run --quiet --allow-read "$REPO_ROOT/scripts/bench/wasm-bench.ts" >"$work/wasm.json"
log "Wasm modules: sizes and instantiation"
"$REPO_ROOT/scripts/bench/wasm-modules.sh" 15 >"$work/modules.md"
fi
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" deno run --quiet --allow-read --allow-write --allow-env --allow-run \
  "$REPO_ROOT/scripts/bench/report.ts" "$CARGO_TARGET_DIR/criterion" "$work/wasm.json" "$work/modules.md"
