#!/usr/bin/env bash
# Generates the TypeScript message model, functions/_shared/message-content.ts
# (and the per-kind shape validators, functions/_shared/generated/
# message-content-validate.ts),
# from the Rust types' JSON Schema (crates/message-model/
# message-content.schema.json) and limits (message-limits.json), so the model
# is written once, in Rust. The admin UI gets the same file with the routing
# module (admin-ui/scripts/sync-routing-wasm.mjs copies it to src/generated).
#
#   scripts/gen-message-types.sh           regenerate both files
#   scripts/gen-message-types.sh --check   fail if a committed file is stale
#
# After changing crates/message-model, first rewrite the schema:
#   MESSAGE_MODEL_UPDATE_SCHEMA=1 cargo test -p message-model --all-features --test generated
source "$(dirname "$0")/lib/common.sh"

mode=write
case ${1:-} in
  --check) mode=check ;;
  "") ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

model="$REPO_ROOT/crates/message-model"
outputs=("$REPO_ROOT/functions/_shared/message-content.ts" "$REPO_ROOT/functions/_shared/generated/message-content-validate.ts")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

deno run --quiet --allow-read --allow-write --allow-env --allow-sys --config "$REPO_ROOT/scripts/deno.json" \
  "$REPO_ROOT/scripts/gen-message-types.ts" \
  "$model/message-content.schema.json" "$model/message-limits.json" "$work/message-content.ts" \
  "$work/message-content-validate.ts"
deno fmt --quiet --config "$REPO_ROOT/functions/deno.json" "$work/message-content.ts"
mkdir -p "$REPO_ROOT/functions/_shared/generated"

stale=0
for output in "${outputs[@]}"; do
  generated="$work/$(basename "$output")"
  if [ "$mode" = check ]; then
    if ! cmp -s "$generated" "$output"; then
      echo "${output#"$REPO_ROOT"/} is stale: run scripts/gen-message-types.sh" >&2
      stale=1
    fi
  else
    cp "$generated" "$output"
    log "wrote ${output#"$REPO_ROOT"/}"
  fi
done
exit $stale
