#!/usr/bin/env node
// Fails if a Next.js build holds anything that must never reach a browser:
// a service-role key (any JWT whose role is service_role, or the value of
// SUPABASE_SERVICE_ROLE_KEY), a database URL (postgres:// or postgresql://,
// or the value of SUPABASE_DB_URL), the JWT secret, the daemon token or the
// outbox relay secret, or even those variables' names.
//
//   node scripts/check-bundle-secrets.mjs [build dir, default .next]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.argv[2] ?? ".next";
const secretValues = ["SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_DB_URL", "SUPABASE_JWT_SECRET", "WABOT_DAEMON_TOKEN", "OUTBOX_RELAY_SECRET"]
  .map((name) => [name, process.env[name]])
  .filter(([, value]) => typeof value === "string" && value.length >= 16);
const forbiddenNames = ["SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_DB_URL", "SUPABASE_JWT_SECRET", "WABOT_DAEMON_TOKEN", "OUTBOX_RELAY_SECRET", "DB_POOLER_URL"];
const databaseUrl = /postgres(?:ql)?:\/\/[^\s"'`]+/i;
const jwt = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

function* files(directory) {
  for (const name of readdirSync(directory)) {
    if (name === "cache") continue;
    const path = join(directory, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const problems = [];
let scanned = 0;
for (const path of files(root)) {
  if (!/\.(js|mjs|cjs|json|html|rsc|txt|css|map|body|meta)$/.test(path)) continue;
  const text = readFileSync(path, "utf8");
  scanned++;
  const where = relative(root, path);
  for (const [name, value] of secretValues) if (text.includes(value)) problems.push(`${where}: the value of ${name}`);
  for (const name of forbiddenNames) if (text.includes(name)) problems.push(`${where}: the name ${name}`);
  const url = databaseUrl.exec(text);
  if (url) problems.push(`${where}: a database URL (${url[0].slice(0, 24)}…)`);
  for (const token of text.match(jwt) ?? []) {
    try {
      const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
      if (payload.role !== "anon") problems.push(`${where}: a JWT with role ${payload.role}`);
    } catch {
      // Not a JWT after all.
    }
  }
}
if (scanned === 0) {
  console.error(`check-bundle-secrets: no build output in ${root}; run next build first`);
  process.exit(1);
}
if (problems.length > 0) {
  console.error(`check-bundle-secrets: the build in ${root} holds secrets:\n  ${[...new Set(problems)].join("\n  ")}`);
  process.exit(1);
}
console.log(`check-bundle-secrets: ${scanned} files in ${root}, no service-role key, database URL or other secret`);
