#!/usr/bin/env node
// Copies the routing module's generated wasm-bindgen glue and embedded bytes
// from functions/_shared (built by scripts/build-wasm.sh) into
// src/generated/, so the bot editor's test chat runs the very routing the
// Edge Functions run. The embedded base64 is also decoded into
// core/routing/core_bg.wasm beside the glue: the file the glue's default
// loader fetches (`new URL("core_bg.wasm", import.meta.url)`), which the
// bundler emits as a static asset, so the browser streams and caches the
// binary instead of parsing a 700 KB string. src/generated/ is git-ignored
// and rewritten before every dev, build, test and typecheck (the npm "pre"
// scripts), so a commit never holds a stale copy.
//
//   node scripts/sync-routing-wasm.mjs          copy (only what changed)
//   node scripts/sync-routing-wasm.mjs --check  exit 1 if the copy is missing or stale
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const uiRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const sharedRoot = join(uiRoot, "..", "functions", "_shared");
const generatedRoot = join(uiRoot, "src", "generated");

/** The files copied, relative to functions/_shared and to src/generated alike. */
export const FILES = [
  "routing.ts",
  "message-content.ts",
  "core-loader.ts",
  "wasm-instance.ts",
  "core/source-hash.ts",
  "core/routing/core.js",
  "core/routing/core.d.ts",
  "core/routing/core_wasm.b64.ts",
];

/** The binary written beside the glue, decoded from core_wasm.b64.ts. */
const WASM_FILE = "core/routing/core_bg.wasm";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** The Wasm binary decoded from the embedded base64 module. */
function decodedWasm() {
  const text = readFileSync(join(sharedRoot, "core/routing/core_wasm.b64.ts"), "utf8");
  const match = /wasmBase64\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(text);
  if (match === null) {
    console.error("sync-routing-wasm: no wasmBase64 string in core/routing/core_wasm.b64.ts");
    process.exit(1);
  }
  return Buffer.from(match[1], "base64");
}

const check = process.argv.includes("--check");
const stale = [];
for (const file of [...FILES, WASM_FILE]) {
  const source = join(sharedRoot, file === WASM_FILE ? "core/routing/core_wasm.b64.ts" : file);
  const target = join(generatedRoot, file);
  if (!existsSync(source)) {
    console.error(`sync-routing-wasm: ${relative(uiRoot, source)} is missing: run scripts/build-wasm.sh`);
    process.exit(1);
  }
  const sourceBytes = file === WASM_FILE ? decodedWasm() : readFileSync(source);
  const same = existsSync(target) && sha256(readFileSync(target)) === sha256(sourceBytes);
  if (same) continue;
  if (check) {
    stale.push(file);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, sourceBytes);
  }
}
if (check) {
  if (stale.length > 0) {
    console.error(
      `sync-routing-wasm: src/generated is stale against functions/_shared (${stale.join(", ")}): run npm run sync-wasm`,
    );
    process.exit(1);
  }
  console.log("src/generated matches functions/_shared (routing Wasm)");
}
