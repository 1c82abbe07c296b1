#!/usr/bin/env bash
# Fuzzes the routing crate (not part of CI).
#
#   scripts/fuzz.sh [parse_definition|route] [seconds]
#
# Seeds a corpus under .local/fuzz/<target> from the fixture definitions
# (for `route`: each definition on one line followed by messages from the
# scenarios), then runs `cargo +nightly fuzz run <target>` for the given
# time (default 60 s). Needs the nightly toolchain and cargo-fuzz; exits 2
# with instructions when they are missing.
set -euo pipefail

TARGET="${1:-route}"
SECS="${2:-60}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE_DIR="$REPO_ROOT/crates/routing"
CORPUS="$REPO_ROOT/.local/fuzz/$TARGET"

case "$TARGET" in
  parse_definition | route) ;;
  *) echo "unknown target $TARGET: use parse_definition or route" >&2; exit 64 ;;
esac

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzzing needs cargo-fuzz: cargo install cargo-fuzz" >&2
  exit 2
fi

mkdir -p "$CORPUS"
python3 - "$CRATE_DIR/fixtures" "$CORPUS" "$TARGET" <<'PY'
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
    if target == "parse_definition":
        text = json.dumps(definition)
    else:
        text = "\n".join([json.dumps(definition)] + messages.get(name, ["hi", "1"]))
    (corpus / f"{name}.seed").write_text(text)
PY

cd "$CRATE_DIR/fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wabot/target}/fuzz"
exec cargo +nightly fuzz run "$TARGET" "$CORPUS" -- -max_total_time="$SECS"
