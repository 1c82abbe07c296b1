/**
 * Fails when the repository holds a secret. Scans every tracked file (or the
 * files named after `--files`) for:
 *
 * - files that must never be committed: `.env`, `.env.local` and other
 *   `.env.*` except `.env.example`, `secrets.env`, `*.pem`, `*.key`,
 *   `*.p12`, `id_rsa` and friends;
 * - private keys (`-----BEGIN … PRIVATE KEY-----`);
 * - JWTs not signed with the local stack's public development secret
 *   (Supabase's local default, documented in `.env.example`): a
 *   service-role key or user token of a hosted project; HS256 tokens signed
 *   with the local secret (the demo anon and service-role keys) are allowed;
 * - Supabase secret keys (`sb_secret_…`), AWS access key ids, GitHub,
 *   Slack and Meta (WhatsApp Cloud API) access tokens.
 *
 * A line may opt out with the marker `check-secrets: allow` (for test
 * fixtures that are deliberately fake and look real).
 *
 *   deno run --allow-read --allow-run=git scripts/check-secrets.ts [--files FILE...]
 *
 * Exits 1 listing each finding as `path:line: what`; prints a one-line
 * summary and exits 0 otherwise. `scripts/check-secrets.sh` wraps it.
 *
 * @module
 */

/** Supabase's public local-development JWT secret (`.env.example`). */
const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

/** Files larger than this are generated (the Wasm module) and skipped. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The Wasm modules embedded as base64 (generated): random-looking text. */
const GENERATED_BASE64 = /\.b64\.ts$/;

const FORBIDDEN_FILE =
  /(^|\/)(\.env(\.(?!example$)[^/]+)?|secrets\.env|[^/]+\.(pem|key|p12|pfx)|id_(rsa|dsa|ecdsa|ed25519))$/;

const PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, "a private key"],
  [/\bsb_secret_[A-Za-z0-9_-]{16,}/, "a Supabase secret key (sb_secret_…)"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\bEAA[A-Za-z0-9]{80,}/, "a Meta (WhatsApp Cloud API) access token"],
];

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;

function base64urlDecode(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (character) => character.charCodeAt(0));
}

const localKey = await crypto.subtle.importKey(
  "raw",
  new TextEncoder().encode(LOCAL_JWT_SECRET),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["verify"],
);

/** Why a JWT found in a file is a secret, or null when it is a local demo token. */
async function judgeJwt(token: string): Promise<string | null> {
  const [header, payload, signature] = token.split(".");
  let alg: unknown;
  let role: unknown;
  try {
    alg = JSON.parse(new TextDecoder().decode(base64urlDecode(header))).alg;
    role = JSON.parse(new TextDecoder().decode(base64urlDecode(payload))).role;
  } catch {
    return null; // Not a JWT after all.
  }
  if (alg === "HS256") {
    const valid = await crypto.subtle.verify(
      "HMAC",
      localKey,
      base64urlDecode(signature),
      new TextEncoder().encode(`${header}.${payload}`),
    );
    if (valid) return null;
  }
  return `a JWT (alg ${String(alg)}, role ${String(role)}) not signed with the local development secret`;
}

async function trackedFiles(): Promise<string[]> {
  const output = await new Deno.Command("git", { args: ["ls-files", "-z"], stdout: "piped" }).output();
  if (!output.success) throw new Error("git ls-files failed: run inside the repository");
  return new TextDecoder().decode(output.stdout).split("\0").filter((path) => path !== "");
}

const filesFlag = Deno.args.indexOf("--files");
const paths = filesFlag >= 0 ? Deno.args.slice(filesFlag + 1) : await trackedFiles();
const findings: string[] = [];
let scanned = 0;
for (const path of paths) {
  if (FORBIDDEN_FILE.test(path)) findings.push(`${path}: a file that must not be committed`);
  if (GENERATED_BASE64.test(path)) continue;
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_FILE_BYTES) continue;
    bytes = await Deno.readFile(path);
  } catch {
    continue; // Deleted in the work tree.
  }
  if (bytes.includes(0)) continue; // Binary.
  scanned++;
  const lines = new TextDecoder().decode(bytes).split("\n");
  for (const [index, line] of lines.entries()) {
    if (line.includes("check-secrets: allow")) continue;
    for (const [pattern, what] of PATTERNS) {
      if (pattern.test(line)) findings.push(`${path}:${index + 1}: ${what}`);
    }
    for (const token of line.match(JWT) ?? []) {
      const why = await judgeJwt(token);
      if (why !== null) findings.push(`${path}:${index + 1}: ${why}`);
    }
  }
}

if (findings.length > 0) {
  console.error(`check-secrets: ${findings.length} finding(s):\n  ${findings.join("\n  ")}`);
  Deno.exit(1);
}
console.log(`check-secrets: ${scanned} files scanned, no secret found`);
