/**
 * The local stack's secrets (issue 12, item 6): `stack_secrets` in
 * `scripts/lib/stack.sh` mints a random JWT secret per stack, first, and
 * signs the anon and service-role keys with it, so no web page can forge
 * tokens with Supabase's public local default. Runs the real shell function.
 */

import { equal, match, notEqual, ok, rejects } from "node:assert/strict";
import { jwtVerify } from "npm:jose@5.10.0";

import { REPO_ROOT } from "./helpers.ts";

/** Supabase's public local-development JWT secret, which must never sign the stack's keys. */
const PUBLIC_DEFAULT = "super-secret-jwt-token-with-at-least-32-characters-long";

/** Runs stack_secrets on `stateDir` in a clean environment; returns the secrets file as a map. */
async function stackSecrets(stateDir: string): Promise<Map<string, string>> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("SUPABASE_")),
  );
  const output = await new Deno.Command("bash", {
    args: [
      "-c",
      'source scripts/lib/common.sh && source scripts/lib/stack.sh && stack_secrets "$1" && echo "env:$SUPABASE_JWT_SECRET"',
      "stack-secrets",
      stateDir,
    ],
    cwd: REPO_ROOT.pathname,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const text = await Deno.readTextFile(`${stateDir}/secrets.env`);
  const values = new Map(
    text.trim().split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  match(new TextDecoder().decode(output.stdout), new RegExp(`env:${values.get("SUPABASE_JWT_SECRET")}`));
  return values;
}

Deno.test("stack_secrets mints a random JWT secret per stack and signs the keys with it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stack-secrets-" });
  try {
    const first = await stackSecrets(`${dir}/a`);
    const secret = first.get("SUPABASE_JWT_SECRET");
    ok(secret !== undefined, "the secrets file has SUPABASE_JWT_SECRET");
    match(secret, /^[0-9a-f]{64}$/);
    notEqual(secret, PUBLIC_DEFAULT);
    for (
      const [name, role] of [["SUPABASE_ANON_KEY", "anon"], ["SUPABASE_SERVICE_ROLE_KEY", "service_role"]]
    ) {
      const key = first.get(name)!;
      const secretBytes: Uint8Array = new TextEncoder().encode(secret);
      const verified: { payload: { role?: unknown } } = await jwtVerify(key, secretBytes);
      equal(verified.payload.role, role, name);
      await rejects(
        jwtVerify(key, new TextEncoder().encode(PUBLIC_DEFAULT)),
        `${name} is not signed with the public default`,
      );
    }
    const again = await stackSecrets(`${dir}/a`);
    equal(again.get("SUPABASE_JWT_SECRET"), secret, "stable for one stack");
    const other = await stackSecrets(`${dir}/b`);
    notEqual(other.get("SUPABASE_JWT_SECRET"), secret, "another stack gets another secret");

    // A secrets file from before the secret was minted (keys signed with the
    // public default) gets a secret and new keys, and keeps its other values.
    await Deno.mkdir(`${dir}/old`);
    await Deno.writeTextFile(
      `${dir}/old/secrets.env`,
      "SUPABASE_ANON_KEY=old\nSUPABASE_SERVICE_ROLE_KEY=old\nWABOT_DAEMON_TOKEN=kept-token\n",
    );
    const upgraded = await stackSecrets(`${dir}/old`);
    equal(upgraded.get("WABOT_DAEMON_TOKEN"), "kept-token");
    const { payload } = await jwtVerify(
      upgraded.get("SUPABASE_SERVICE_ROLE_KEY")!,
      new TextEncoder().encode(upgraded.get("SUPABASE_JWT_SECRET")!),
    );
    equal(payload.role, "service_role");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
