#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (not part of CI).
#
#   scripts/fuzz.sh all [seconds]         every target, one after another
#   scripts/fuzz.sh <target> [seconds]    one target
#   scripts/fuzz.sh list                  the targets and their crates
#   scripts/fuzz.sh report                Markdown table of each target's
#                                         latest run (from results.tsv), for
#                                         docs/reliability.md
#
# Targets (each crate's cargo-fuzz project has its own workspace, excluded
# from the main one, so CI never builds libFuzzer):
#
#   parse_definition, route   crates/routing/fuzz
#   health_call               crates/health/fuzz     health::call_json_text
#   alerting_call             crates/alerting/fuzz   alerting::call_json_text
#   cloud_webhook, api_input  crates/session-daemon/fuzz
#
# Each target's corpus lives under .local/fuzz/<target> and is seeded from
# the crate's fixtures (routing definitions and scenarios, the health and
# alerting scenario steps, the daemon's fuzz/seeds/<target>) before every
# run, then `cargo +nightly fuzz run` runs for the given time (default
# 60 s). Per target it prints the seconds run, the executions and the corpus
# size, and appends them to .local/fuzz/results.tsv; the full libFuzzer log
# is .local/fuzz/logs/<target>.log. On a crash (panic, timeout, OOM) it
# prints the reproducer's path, goes on with the next target (for `all`)
# and exits 1 at the end. Needs the nightly toolchain and cargo-fuzz; exits
# 2 with instructions when they are missing.
#
# Builds go to $CARGO_TARGET_DIR/fuzz (default /var/cache/wabot/target/fuzz).
# The machine is shared: run it with `nice -n 19`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_ROOT="$REPO_ROOT/.local/fuzz"
TARGETS=(parse_definition definition_text route health_call alerting_call cloud_webhook api_input)

crate_of() {
  case "$1" in
    parse_definition | definition_text | route) echo routing ;;
    health_call) echo health ;;
    alerting_call) echo alerting ;;
    cloud_webhook | api_input) echo session-daemon ;;
    *) return 1 ;;
  esac
}

TARGET="${1:-route}"
SECS="${2:-60}"

if [[ "$TARGET" == list ]]; then
  for target in "${TARGETS[@]}"; do
    echo "$target crates/$(crate_of "$target")/fuzz"
  done
  exit 0
fi
if [[ "$TARGET" == report ]]; then
  python3 - "$FUZZ_ROOT/results.tsv" "${TARGETS[@]}" <<'PY'
import sys
path, targets = sys.argv[1], sys.argv[2:]
inputs = {
    "parse_definition": "`routing::validate` / `CompiledBot::compile` of a bot definition (JSON)",
    "definition_text": "a definition as text through the Wasm boundary's bounded read (`json_call::parse_text`), seeded 33 to 10,000 levels deep",
    "route": "a definition, then up to 16 messages routed in turn (`routing::route`)",
    "health_call": "`health::call_json_text` (name, newline, JSON input) vs `call_json`",
    "alerting_call": "`alerting::call_json_text` (name, newline, JSON input) vs `call_json`",
    "cloud_webhook": "Cloud API webhook body (`parse_webhook`, signatures), Graph API error answers, cloud credentials",
    "api_input": "`POST /simulator/inbound` body, phone numbers from paths and queries, `Authorization` header",
}
latest = {}
try:
    with open(path) as results:
        for line in results:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 7:
                latest[fields[1]] = fields
except FileNotFoundError:
    sys.exit(f"no results yet: {path}")
print("| Target | Input | Finished (UTC) | Seconds | Executions | Exec/s | Corpus | Result |")
print("|---|---|---|---:|---:|---:|---:|---|")
clean_seconds = 0
for target in targets:
    if target not in latest:
        print(f"| `{target}` | {inputs[target]} | not run | | | | | |")
        continue
    when, _, secs, runs, corpus, status, reproducer = latest[target]
    rate = int(runs) // max(int(secs), 1)
    result = "no crash" if status == "ok" else f"**crash**: `{reproducer}`"
    if status == "ok":
        clean_seconds += int(secs)
    print(f"| `{target}` | {inputs[target]} | {when} | {secs} | {int(runs):,} | {rate:,} | {corpus} | {result} |")
print()
print(f"Total fuzzing without a crash in the latest runs: {clean_seconds} s ({clean_seconds / 3600:.2f} h).")
PY
  exit 0
fi
if [[ "$TARGET" == all ]]; then
  SELECTED=("${TARGETS[@]}")
elif crate_of "$TARGET" >/dev/null; then
  SELECTED=("$TARGET")
else
  echo "unknown target $TARGET: use all or one of ${TARGETS[*]}" >&2
  exit 64
fi
if ! [[ "$SECS" =~ ^[1-9][0-9]*$ ]]; then
  echo "seconds must be a positive whole number, got $SECS" >&2
  exit 64
fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzzing needs cargo-fuzz: cargo install cargo-fuzz" >&2
  exit 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wabot/target}/fuzz"

# Writes the seeds of a target into its corpus directory.
seed_corpus() {
  local target="$1" corpus="$2" crate_dir
  crate_dir="$REPO_ROOT/crates/$(crate_of "$target")"
  mkdir -p "$corpus"
  case "$target" in
    parse_definition | definition_text | route)
      python3 - "$crate_dir/fixtures" "$corpus" "$target" <<'PY'
import json, pathlib, sys
fixtures, corpus, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
definitions = {path.stem: json.loads(path.read_text()) for path in fixtures.glob("*.json")
               if path.name not in ("scenarios.json", "invalid-definitions.json", "version-selection.json")}
for case in json.loads((fixtures / "invalid-definitions.json").read_text()):
    definitions["invalid-" + str(len(definitions))] = case["definition"]
messages = {}
for scenario in json.loads((fixtures / "scenarios.json").read_text()):
    definition = scenario["definition"]
    key = definition[:-5] if isinstance(definition, str) else "inline-" + str(len(definitions))
    if not isinstance(definition, str):
        definitions[key] = definition
    lines = [(step["message"].get("reply_id") or "") + "\t" + step["message"]["text"]
             if step["message"].get("reply_id") else step["message"]["text"] for step in scenario["steps"]]
    messages.setdefault(key, []).extend(lines)
for name, definition in definitions.items():
    if target in ("parse_definition", "definition_text"):
        text = json.dumps(definition)
    else:
        text = "\n".join([json.dumps(definition)] + messages.get(name, ["hi", "1"]))
    (corpus / f"{name}.seed").write_text(text)
if target == "definition_text":
    # The outside probe's input (a node's text nested 10,000 arrays deep)
    # and its neighbours: deep arrays, deep objects, unterminated nesting.
    for depth in (33, 100, 127, 128, 129, 1000, 10000):
        node = '{"id": "a", "type": "message", "text": ' + "[" * depth + '"hi"' + "]" * depth + "}"
        (corpus / f"deep-array-{depth}.seed").write_text('{"format": 1, "name": "deep", "nodes": [' + node + "]}")
        (corpus / f"deep-object-{depth}.seed").write_text('{"a": ' * depth + "1" + "}" * depth)
        (corpus / f"deep-open-{depth}.seed").write_text("[" * depth)
PY
      ;;
    health_call | alerting_call)
      # One seed per scenario step: the entry point's name, a newline, the
      # step's input as JSON.
      python3 - "$crate_dir/fixtures/scenarios.json" "$corpus" <<'PY'
import json, pathlib, sys
scenarios, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for s, scenario in enumerate(json.loads(scenarios.read_text())):
    for t, step in enumerate(scenario["steps"]):
        text = step["call"] + "\n" + json.dumps(step["input"])
        (corpus / f"scenario-{s:02}-step-{t:03}.seed").write_text(text)
PY
      ;;
    cloud_webhook | api_input)
      cp "$crate_dir/fuzz/seeds/$target"/* "$corpus/"
      ;;
  esac
}

# Runs one target; prints and records its numbers. Returns 1 on a crash.
run_target() {
  local target="$1" crate_dir corpus log started elapsed runs secs corpus_size status reproducer
  crate_dir="$REPO_ROOT/crates/$(crate_of "$target")"
  corpus="$FUZZ_ROOT/$target"
  log="$FUZZ_ROOT/logs/$target.log"
  mkdir -p "$FUZZ_ROOT/logs"
  seed_corpus "$target" "$corpus"

  echo "== $target: building (crates/$(crate_of "$target")/fuzz)"
  if ! (cd "$crate_dir/fuzz" && cargo +nightly fuzz build "$target"); then
    echo "== $target: BUILD FAILED" >&2
    return 1
  fi

  echo "== $target: fuzzing for $SECS s (log: $log)"
  started=$(date +%s)
  status=ok
  if ! (cd "$crate_dir/fuzz" && cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$SECS" -print_final_stats=1) >"$log" 2>&1; then
    status=crash
  fi
  elapsed=$(($(date +%s) - started))

  # libFuzzer ends a clean run with `Done <runs> runs in <secs> second(s)`;
  # after a crash the final stats still count the executions.
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
  if [[ -z "$runs" ]]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  fi
  runs="${runs:-0}"
  secs="${secs:-$elapsed}"
  corpus_size=$(find "$corpus" -maxdepth 1 -type f | wc -l)
  reproducer=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -n 1)
  if [[ -n "$reproducer" && "$reproducer" != /* ]]; then
    reproducer="$crate_dir/fuzz/${reproducer#./}"
  fi

  echo "== $target: $status, $secs s, $runs executions, corpus $corpus_size inputs"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$target" "$secs" "$runs" \
    "$corpus_size" "$status" "${reproducer:--}" >>"$FUZZ_ROOT/results.tsv"
  if [[ "$status" == crash ]]; then
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -n 5 >&2 || true
    echo "== $target: CRASH, reproducer: ${reproducer:-see $log}" >&2
    echo "   reproduce: (cd crates/$(crate_of "$target")/fuzz && cargo +nightly fuzz run $target ${reproducer:-<file>})" >&2
    return 1
  fi
}

failed=()
for target in "${SELECTED[@]}"; do
  run_target "$target" || failed+=("$target")
done
if ((${#failed[@]} > 0)); then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
