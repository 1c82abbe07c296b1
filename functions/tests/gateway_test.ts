/**
 * Tests of the local gateway (`supabase/local/gateway.ts`) as a subprocess:
 * function lookup, `verify_jwt`, the body limit, path rewriting, environment,
 * CORS, logging and shutdown. They need no database: the gateway serves a
 * throwaway config whose functions echo what they receive.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  type Gateway,
  gatewayEnv,
  mintJwt,
  REPO_ROOT,
  runGatewayToExit,
  startGateway,
} from "./helpers.ts";
import { loadFunctionConfigs } from "../../supabase/local/gateway.ts";

const ONE_MIB = 1024 * 1024;

/** A function that answers with what it was given. */
const ECHO_FUNCTION = `
export default {
  async fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    return Response.json({
      method: req.method,
      path: url.pathname,
      search: url.search,
      body_bytes: body.byteLength,
      supabase_url: Deno.env.get("SUPABASE_URL") ?? null,
      has_db_url: Deno.env.get("SUPABASE_DB_URL") !== undefined,
      has_anon_key: Deno.env.get("SUPABASE_ANON_KEY") !== undefined,
      has_service_role_key: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") !== undefined,
    });
  },
};
`;

const TEST_CONFIG = `
project_id = "gateway-test"

[functions.echo]
verify_jwt = true
entrypoint = "./echo/index.ts"

[functions.public-echo]
verify_jwt = false
entrypoint = "./echo/index.ts"

[functions.switched-off]
enabled = false
entrypoint = "./does-not-exist/index.ts"
`;

async function writeTestConfig(): Promise<{ dir: string; configPath: string }> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-test-" });
  await Deno.mkdir(`${dir}/echo`);
  await Deno.writeTextFile(`${dir}/echo/index.ts`, ECHO_FUNCTION);
  await Deno.writeTextFile(`${dir}/config.toml`, TEST_CONFIG);
  return { dir, configPath: `${dir}/config.toml` };
}

Deno.test("the repository's config.toml declares route-message, checking its caller itself", async () => {
  const configs = await loadFunctionConfigs(new URL("supabase/config.toml", REPO_ROOT));
  const routeMessage = configs.find((config) => config.slug === "route-message");
  ok(routeMessage, "route-message is declared");
  equal(routeMessage.enabled, true);
  // verify_jwt = false: the function authenticates the service role itself,
  // which accepts the new `sb_secret_…` keys the router would refuse.
  equal(routeMessage.verifyJwt, false);
  equal(routeMessage.entrypoint.href, new URL("functions/route-message/index.ts", REPO_ROOT).href);
  ok((await Deno.stat(routeMessage.entrypoint)).isFile, "the entrypoint exists");
});

Deno.test("the gateway refuses to start without the Supabase environment", async () => {
  const env = await gatewayEnv();
  delete env.SUPABASE_ANON_KEY;
  delete env.SUPABASE_DB_URL;
  const output = await runGatewayToExit(env);
  equal(output.code, 1);
  const stderr = new TextDecoder().decode(output.stderr);
  match(stderr, /SUPABASE_DB_URL/);
  match(stderr, /SUPABASE_ANON_KEY/);
});

Deno.test("the gateway routes, authenticates and limits like Supabase's router", async (t) => {
  const { dir, configPath } = await writeTestConfig();
  let gateway: Gateway | null = null;
  try {
    gateway = await startGateway({ configPath });
    const gw = gateway;
    const serviceRoleToken = await mintJwt("service_role");

    await t.step("a valid JWT reaches the function with the path rewritten", async () => {
      const result = await call(gw.functionUrl("echo/some/path?x=1"), { token: serviceRoleToken });
      equal(result.status, 200, result.text);
      const echoed = result.json as Record<string, unknown>;
      equal(echoed.method, "GET");
      equal(echoed.path, "/echo/some/path");
      equal(echoed.search, "?x=1");
    });

    await t.step("an anon-role JWT passes verify_jwt too (roles are the function's business)", async () => {
      const result = await call(gw.functionUrl("echo"), { token: await mintJwt("anon") });
      equal(result.status, 200, result.text);
    });

    await t.step("functions see the environment Supabase injects", async () => {
      const result = await call(gw.functionUrl("echo"), { token: serviceRoleToken });
      const echoed = result.json as Record<string, unknown>;
      equal(echoed.supabase_url, gw.origin);
      equal(echoed.has_db_url, true);
      equal(echoed.has_anon_key, true);
      equal(echoed.has_service_role_key, true);
    });

    await t.step("no Authorization header is a 401", async () => {
      const result = await call(gw.functionUrl("echo"));
      equal(result.status, 401);
      deepStrictEqual(result.json, { code: 401, message: "Missing authorization header" });
    });

    await t.step("a JWT signed with another secret is a 401", async () => {
      const forged = await mintJwt("service_role", {
        secret: "another-secret-that-is-also-at-least-32-characters",
      });
      const result = await call(gw.functionUrl("echo"), { token: forged });
      equal(result.status, 401);
      deepStrictEqual(result.json, { code: 401, message: "Invalid JWT" });
    });

    await t.step("an expired JWT is a 401", async () => {
      const expired = await mintJwt("service_role", { expiresInSeconds: -60 });
      const result = await call(gw.functionUrl("echo"), { token: expired });
      equal(result.status, 401);
      deepStrictEqual(result.json, { code: 401, message: "Invalid JWT" });
    });

    await t.step("a bearer that is not a JWT is a 401", async () => {
      const result = await call(gw.functionUrl("echo"), { token: "not-a-jwt" });
      equal(result.status, 401);
      deepStrictEqual(result.json, { code: 401, message: "Invalid JWT" });
    });

    await t.step("a function with verify_jwt = false needs no token", async () => {
      const result = await call(gw.functionUrl("public-echo/x"));
      equal(result.status, 200, result.text);
      equal((result.json as Record<string, unknown>).path, "/public-echo/x");
    });

    await t.step("unknown and disabled functions are a 404", async () => {
      const unknown = await call(gw.functionUrl("no-such-function"), { token: serviceRoleToken });
      equal(unknown.status, 404);
      deepStrictEqual(unknown.json, { error: "function not found: no-such-function" });
      const disabled = await call(gw.functionUrl("switched-off"), { token: serviceRoleToken });
      equal(disabled.status, 404);
      deepStrictEqual(disabled.json, { error: "function not found: switched-off" });
      const elsewhere = await call(`${gw.origin}/rest/v1/bots`);
      equal(elsewhere.status, 404);
    });

    await t.step("a body of exactly 1 MiB is passed on", async () => {
      const result = await call(gw.functionUrl("echo"), {
        token: serviceRoleToken,
        body: new Uint8Array(ONE_MIB),
      });
      equal(result.status, 200, result.text);
      equal((result.json as Record<string, unknown>).body_bytes, ONE_MIB);
    });

    await t.step("a body over 1 MiB is a 413", async () => {
      const result = await call(gw.functionUrl("echo"), {
        token: serviceRoleToken,
        body: new Uint8Array(ONE_MIB + 1),
      });
      equal(result.status, 413);
      match(String((result.json as Record<string, unknown>).error), /larger than 1048576 bytes/);
    });

    await t.step("a streamed body without Content-Length over 1 MiB is a 413", async () => {
      let chunksLeft = 20;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (chunksLeft-- > 0) controller.enqueue(new Uint8Array(64 * 1024));
          else controller.close();
        },
      });
      const result = await call(gw.functionUrl("echo"), { token: serviceRoleToken, body: stream });
      equal(result.status, 413);
    });

    await t.step("CORS preflights from the admin UI's origin are answered without a token", async () => {
      const result = await call(gw.functionUrl("echo"), {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:3000",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, x-evil-header",
        },
      });
      equal(result.status, 204);
      equal(result.headers.get("access-control-allow-origin"), "http://localhost:3000");
      match(result.headers.get("access-control-allow-methods") ?? "", /POST/);
      const allowHeaders = result.headers.get("access-control-allow-headers") ?? "";
      match(allowHeaders, /authorization/);
      ok(!allowHeaders.includes("x-evil-header"), `requested headers are not echoed: ${allowHeaders}`);
    });

    await t.step(
      "an evil origin gets no Access-Control-Allow-Origin, on preflights and responses",
      async () => {
        const preflight = await call(gw.functionUrl("echo"), {
          method: "OPTIONS",
          headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
        });
        equal(preflight.headers.get("access-control-allow-origin"), null);
        const response = await call(gw.functionUrl("echo"), {
          token: serviceRoleToken,
          headers: { origin: "https://evil.example" },
        });
        equal(response.status, 200);
        equal(response.headers.get("access-control-allow-origin"), null);
        const denied = await call(gw.functionUrl("echo"), { headers: { origin: "null" } });
        equal(denied.headers.get("access-control-allow-origin"), null);
        for (const result of [preflight, response, denied]) {
          ok((result.headers.get("vary") ?? "").includes("Origin"));
        }
      },
    );

    await t.step("the configured origin gets its own origin back on responses, errors included", async () => {
      const headers = { origin: "http://localhost:3000" };
      const ok200 = await call(gw.functionUrl("echo"), { token: serviceRoleToken, headers });
      equal(ok200.headers.get("access-control-allow-origin"), "http://localhost:3000");
      const denied = await call(gw.functionUrl("echo"), { headers });
      equal(denied.headers.get("access-control-allow-origin"), "http://localhost:3000");
      const noOrigin = await call(gw.functionUrl("echo"), { token: serviceRoleToken });
      equal(noOrigin.headers.get("access-control-allow-origin"), null, "never *");
    });

    await t.step(
      "a request whose Host is not loopback on the gateway's port is refused (DNS rebinding)",
      async () => {
        const client = Deno.createHttpClient({ allowHost: true });
        const port = new URL(gw.origin).port;
        try {
          const send = async (host: string) => {
            const response = await fetch(gw.functionUrl("echo"), {
              headers: { host, authorization: `Bearer ${serviceRoleToken}` },
              client,
            });
            await response.body?.cancel();
            return response.status;
          };
          equal(await send(`rebind.evil.example:${port}`), 421);
          equal(await send("evil.example"), 421);
          equal(await send(`127.0.0.1:${Number(port) + 1}`), 421, "another port");
          equal(await send(`192.168.1.10:${port}`), 421);
          const auth = await fetch(`${gw.origin}/auth/v1/token?grant_type=password`, {
            method: "POST",
            headers: { host: `attacker.example:${port}` },
            body: "{}",
            client,
          });
          await auth.body?.cancel();
          equal(auth.status, 421, "the auth stand-in behind the gateway too");
          equal(await send(`127.0.0.1:${port}`), 200);
          equal(await send(`localhost:${port}`), 200);
        } finally {
          client.close();
        }
      },
    );

    await t.step("every request is logged with method, path, status and time", () => {
      const lines = gw.stdoutLines();
      ok(
        lines.some((line) => /^GET \/functions\/v1\/echo\/some\/path 200 \d+ms$/.test(line)),
        lines.join("\n"),
      );
      ok(lines.some((line) => /^POST \/functions\/v1\/echo 413 \d+ms$/.test(line)), lines.join("\n"));
    });

    await t.step("SIGTERM stops the gateway cleanly", async () => {
      const status = await gw.stop();
      gateway = null;
      equal(status.code, 0, gw.stderrText());
    });
  } finally {
    await gateway?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
