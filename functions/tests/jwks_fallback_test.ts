/**
 * Hosted Supabase first time right (issue 12, item 7):
 *
 * - user tokens verify on every project: without `SUPABASE_JWKS` (and
 *   `JWKS_URL`), `verifyJwt` fetches the project's own
 *   `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`, here served by a real
 *   local HTTP server with a generated ES256 key, and caches it per isolate;
 * - `npm:jose` is pinned to one exact version everywhere.
 */

import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@5.10.0";

import { verifyJwt } from "../_shared/auth.ts";
import { REPO_ROOT } from "./helpers.ts";

async function es256Token(
  privateKey: Parameters<SignJWT["sign"]>[0],
  kid: string,
  claims: Record<string, unknown>,
): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).setIssuedAt()
    .setExpirationTime("5m").sign(privateKey);
}

Deno.test("verifyJwt falls back to ${SUPABASE_URL}/auth/v1/.well-known/jwks.json and caches it", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const other = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "project-key", alg: "ES256", use: "sig" };
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    paths.push(path);
    return path === "/auth/v1/.well-known/jwks.json"
      ? Response.json({ keys: [jwk] })
      : new Response("not found", { status: 404 });
  });
  const saved = Object.fromEntries(
    ["SUPABASE_URL", "SUPABASE_JWKS", "JWKS_URL"].map((name) => [name, Deno.env.get(name)]),
  );
  try {
    Deno.env.delete("SUPABASE_JWKS");
    Deno.env.delete("JWKS_URL");
    Deno.env.set("SUPABASE_URL", `http://127.0.0.1:${server.addr.port}/`);
    const sub = crypto.randomUUID();
    const claims = await verifyJwt(
      await es256Token(privateKey, "project-key", { sub, role: "authenticated" }),
    );
    deepStrictEqual([claims.sub, claims.role], [sub, "authenticated"]);
    deepStrictEqual(paths, ["/auth/v1/.well-known/jwks.json"], "fetched from the project's well-known URL");

    await verifyJwt(await es256Token(privateKey, "project-key", { sub, role: "authenticated" }));
    equal(paths.length, 1, "the key set is cached: a second token needs no fetch");

    await rejects(
      verifyJwt(await es256Token(other.privateKey, "project-key", { sub, role: "authenticated" })),
      /invalid token/,
      "a token signed with another key is refused",
    );
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    await server.shutdown();
  }
});

Deno.test("npm:jose is pinned to one exact version in every import", async () => {
  const specifiers = new Map<string, string[]>();
  const walk = async (dir: URL): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (/\.(ts|tsx|mjs|js|json)$/.test(entry.name)) {
        const text = await Deno.readTextFile(url);
        for (const match of text.matchAll(/["'](npm:jose(@[^"'/\s]*)?)(\/[^"']*)?["']/g)) {
          const list = specifiers.get(match[1]) ?? [];
          list.push(url.pathname.slice(REPO_ROOT.pathname.length));
          specifiers.set(match[1], list);
        }
      }
    }
  };
  for (const dir of ["functions/", "supabase/", "scripts/"]) await walk(new URL(dir, REPO_ROOT));
  ok(specifiers.size > 0, "jose is imported somewhere");
  deepStrictEqual(
    [...specifiers.keys()],
    ["npm:jose@5.10.0"],
    JSON.stringify(Object.fromEntries(specifiers)),
  );
});
