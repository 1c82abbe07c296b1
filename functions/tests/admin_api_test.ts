/**
 * The admin API end to end: through the local gateway (which checks the JWT
 * like the hosted router) and in-process (where the function's own check is
 * the only one), against the real local Postgres and the real Wasm.
 *
 * For every route: 401 without a token and with an expired, wrongly signed
 * or unsigned (`alg: none`) one; 403 for a role below the route's minimum;
 * 400 with a clear message for malformed input; and the happy path with
 * its effect in the database. The last step checks that every route of the
 * table was exercised on its happy path, so a new route cannot go untested.
 */

import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "npm:jose@5.10.0";

import {
  call,
  type CallResult,
  connectDb,
  createUsers,
  DB_URL,
  Fixtures,
  type Gateway,
  JWT_SECRET,
  type MemberName,
  mintJwt,
  randomPhoneNumber,
  REPO_ROOT,
  type S3Server,
  startGateway,
  startS3Server,
  startTestServer,
  TINY_PNG,
  unsignedJwt,
} from "./helpers.ts";

const DAEMON_TOKEN = "deno-test-daemon-token-0123456789";

/** A concrete path for a route's template, with placeholder ids. */
function concretePath(template: string): string {
  return template
    .replace("{action}", "restart")
    .replace("{outbox_id}", "1")
    .replace("{delivery_id}", "1")
    .replace(/\{[a-z_]+\}/g, () => crypto.randomUUID());
}

/** The error body's code, or undefined. */
function errorCode(result: CallResult): string | undefined {
  return ((result.json as { error?: { code?: string } })?.error)?.code;
}

Deno.test("admin API", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;

  // The routes' modules, loaded in this process for the route table and the
  // in-process calls; they read the same environment the gateway gets.
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  Deno.env.set("SUPABASE_JWT_SECRET", JWT_SECRET);
  Deno.env.set("WABOT_DAEMON_TOKEN", DAEMON_TOKEN);
  const { ROUTES } = await import("../admin-api/routes.ts");
  const adminApi = (await import("../admin-api/index.ts")).default;
  const { sql: functionPool } = await import("../_shared/db.ts");

  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  let s3: S3Server | null = null;
  const servers: Array<{ close(): Promise<void> }> = [];
  const covered = new Set<string>();
  try {
    const users = await createUsers(db);
    s3 = await startS3Server();
    // The fake Graph API (Meta's documented JSON) the template sync reads.
    const graph = startTestServer((request) =>
      request.path === "/v21.0/102290129340398/message_templates"
        ? Response.json({
          data: [{
            name: "hello_world",
            language: "en_US",
            status: "APPROVED",
            category: "MARKETING",
            id: "1192339204654487",
            components: [{ type: "BODY", text: "Hello {{1}}" }],
          }],
          paging: { cursors: { before: "MAZDZD", after: "MAZDZD" } },
        })
        : new Response("not found", { status: 404 })
    );
    servers.push(graph);
    gateway = await startGateway({
      env: {
        ...s3.env,
        WABOT_CLOUD_API_BASE_URL: `${graph.url}/v21.0`,
        WABOT_DAEMON_TOKEN: DAEMON_TOKEN,
        ADMIN_UI_ORIGIN: "http://localhost:3000, http://ui.example.test",
      },
    });
    const url = (path: string) => gateway!.functionUrl(`admin-api${path}`);

    /** Calls the API as a member; records the operation as covered on a 2xx. */
    const as = async (
      who: MemberName,
      method: string,
      path: string,
      options: { body?: unknown; operationId?: string; headers?: Record<string, string> } = {},
    ): Promise<CallResult> => {
      const result = await call(url(path), {
        method,
        token: users[who].token,
        body: options.body,
        headers: options.headers,
      });
      if (options.operationId !== undefined && result.status >= 200 && result.status < 300) {
        covered.add(options.operationId);
      }
      return result;
    };
    const expectStatus = (result: CallResult, status: number) => equal(result.status, status, result.text);

    await t.step("every route answers 401 at the gateway without a valid token", async () => {
      const expired = await mintJwt("authenticated", {
        expiresInSeconds: -60,
        claims: { sub: users.admin.id },
      });
      const wrongKey = await mintJwt("authenticated", {
        secret: "a-different-secret-with-at-least-32-characters",
        claims: { sub: users.admin.id },
      });
      const unsigned = unsignedJwt({
        role: "authenticated",
        sub: users.admin.id,
        exp: Math.floor(Date.now() / 1000) + 600,
      });
      for (const route of [...ROUTES, { method: "GET", path: "/openapi.json" }]) {
        const path = concretePath(route.path);
        for (
          const [what, token] of [["none", undefined], ["expired", expired], ["wrong key", wrongKey], [
            "alg none",
            unsigned,
          ]] as const
        ) {
          const result = await call(url(path), { method: route.method, token, body: undefined });
          equal(result.status, 401, `${route.method} ${path} with ${what} token: ${result.text}`);
        }
      }
    });

    await t.step(
      "the function refuses bad tokens itself, with the error shape (defence in depth)",
      async () => {
        const request = (token: string | null) =>
          new Request("http://functions.local/admin-api/me", {
            headers: token === null ? {} : { authorization: `Bearer ${token}` },
          });
        const cases: Array<[string, string | null, RegExp]> = [
          ["no token", null, /missing bearer token/],
          [
            "expired",
            await mintJwt("authenticated", { expiresInSeconds: -60, claims: { sub: users.admin.id } }),
            /exp/,
          ],
          [
            "wrong key",
            await mintJwt("authenticated", {
              secret: "a-different-secret-with-at-least-32-characters",
              claims: { sub: users.admin.id },
            }),
            /signature/,
          ],
          [
            "alg none",
            unsignedJwt({
              role: "authenticated",
              sub: users.admin.id,
              exp: Math.floor(Date.now() / 1000) + 600,
            }),
            /not accepted/,
          ],
          ["garbage", "not.a.jwt", /not a JWT|invalid token/],
        ];
        for (const [what, token, message] of cases) {
          const response = await adminApi.fetch(request(token));
          const body = await response.json();
          equal(response.status, 401, `${what}: ${JSON.stringify(body)}`);
          equal(body.error.code, "unauthorized", what);
          match(body.error.message, message, what);
          ok("details" in body.error, "the error shape has details");
          equal(response.headers.get("www-authenticate"), "Bearer");
        }
        // A valid token of another role is not a signed-in user.
        const serviceRole = await adminApi.fetch(request(await mintJwt("service_role")));
        equal(serviceRole.status, 403);
        equal((await serviceRole.json()).error.code, "forbidden");
        const good = await adminApi.fetch(request(users.viewer.token));
        equal(good.status, 200);
        deepStrictEqual(await good.json(), {
          user_id: users.viewer.id,
          email: users.viewer.email,
          role: "viewer",
        });
      },
    );

    await t.step("asymmetric (ES256) tokens are verified against SUPABASE_JWKS", async () => {
      const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
      const other = await generateKeyPair("ES256", { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: "deno-test-key", alg: "ES256", use: "sig" };
      const sign = (key: Parameters<SignJWT["sign"]>[0], kid: string) =>
        new SignJWT({
          role: "authenticated",
          aud: "authenticated",
          sub: users.operator.id,
          email: users.operator.email,
        })
          .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
          .setIssuedAt()
          .setExpirationTime("10m")
          .sign(key);
      const request = (token: string) =>
        new Request("http://functions.local/admin-api/me", { headers: { authorization: `Bearer ${token}` } });
      const token = await sign(privateKey, "deno-test-key");
      const withoutJwks = await adminApi.fetch(request(token));
      equal(withoutJwks.status, 401, "no JWKS configured: asymmetric tokens are refused");
      Deno.env.set("SUPABASE_JWKS", JSON.stringify({ keys: [jwk] }));
      try {
        const accepted = await adminApi.fetch(request(token));
        equal(accepted.status, 200);
        equal((await accepted.json()).role, "operator");
        const forged = await adminApi.fetch(request(await sign(other.privateKey, "deno-test-key")));
        equal(forged.status, 401, "a token signed by another key is refused");
        await forged.body?.cancel();
      } finally {
        Deno.env.delete("SUPABASE_JWKS");
      }
    });

    await t.step("every route with a minimum role answers 403 below it", async () => {
      const below: Record<string, MemberName> = {
        viewer: "outsider",
        operator: "viewer",
        admin: "operator",
        owner: "admin",
      };
      for (const route of ROUTES) {
        if (route.minRole === null) continue;
        const path = concretePath(route.path);
        const result = await as(below[route.minRole], route.method, path, {
          body: route.method === "GET" ? undefined : {},
        });
        equal(result.status, 403, `${route.method} ${route.path} as ${below[route.minRole]}: ${result.text}`);
        equal(errorCode(result), "forbidden");
        match(String((result.json as { error: { message: string } }).error.message), /role|member/);
      }
    });

    await t.step("malformed input is a 400 with a clear message", async () => {
      let checked = 0;
      for (const route of ROUTES) {
        const who: MemberName = route.minRole === null ? "viewer" : route.minRole;
        const hasUuidParameter = /\{(?!action\}|outbox_id\}|runtime_id\}|storage_key\})[a-z_]+\}/.test(
          route.path,
        );
        let result: CallResult;
        if (route.path.includes("{storage_key}")) {
          result = await as(who, route.method, route.path.replace("{storage_key}", "%E0%A4%A"));
          match(String((result.json as { error: { message: string } })?.error?.message), /percent-encoding/);
        } else if (route.rawRequestBody !== undefined) {
          result = await as(who, route.method, `${route.path}?kind=hologram`, {
            body: TINY_PNG,
            headers: { "content-type": "image/png" },
          });
          match(String((result.json as { error: { message: string } })?.error?.message), /kind/);
        } else if (hasUuidParameter) {
          const path = route.path.replace(
            /\{[a-z_]+\}/g,
            (name) => name === "{action}" ? "restart" : name === "{outbox_id}" ? "1" : "not-a-uuid",
          );
          result = await as(who, route.method, path, { body: route.method === "GET" ? undefined : {} });
          match(String((result.json as { error: { message: string } })?.error?.message), /UUID/, route.path);
        } else if (route.path.includes("{runtime_id}")) {
          result = await as(who, route.method, route.path.replace("{runtime_id}", "x".repeat(201)));
          match(String((result.json as { error: { message: string } })?.error?.message), /runtime_id/);
        } else if (route.path.includes("{outbox_id}")) {
          result = await as(who, route.method, route.path.replace("{outbox_id}", "abc"));
          match(String((result.json as { error: { message: string } })?.error?.message), /positive integer/);
        } else if (route.method !== "GET") {
          result = await as(who, route.method, route.path, { body: "{not json" });
          match(String((result.json as { error: { message: string } })?.error?.message), /JSON/);
        } else if (route.query?.some((parameter) => parameter.name === "limit")) {
          result = await as(who, route.method, `${route.path}?limit=0`);
          match(String((result.json as { error: { message: string } })?.error?.message), /limit/);
        } else {
          // No input at all (me, dashboard, runtimes, the channel list).
          continue;
        }
        equal(result.status, 400, `${route.method} ${route.path}: ${result.text}`);
        equal(errorCode(result), "invalid_request");
        checked++;
      }
      ok(checked >= ROUTES.length - 4, `${checked} routes checked`);
      // A few field-level messages name the field.
      const badPhone = await as("admin", "POST", "/numbers", { body: { phone_number: "12345" } });
      expectStatus(badPhone, 400);
      deepStrictEqual((badPhone.json as { error: { details: unknown } }).error.details, {
        field: "phone_number",
      });
      const unknownField = await as("admin", "POST", "/bots", { body: { name: "x", colour: "red" } });
      expectStatus(unknownField, 400);
      match(unknownField.text, /unknown field\(s\): colour/);
      const badCursor = await as("viewer", "GET", "/alerts?cursor=bm9wZQ");
      expectStatus(badCursor, 400);
      match(badCursor.text, /cursor/);
    });

    await t.step("a body over 512 KiB is a 413", async () => {
      const result = await as("admin", "POST", "/bot-definitions/validate", {
        body: JSON.stringify({ definition: { padding: "x".repeat(600 * 1024) } }),
        headers: { "content-type": "application/json" },
      });
      expectStatus(result, 413);
      equal(errorCode(result), "payload_too_large");
    });

    await t.step("CORS: the admin UI's origins are allowed, others are not", async () => {
      const allowed = await as("viewer", "GET", "/me", { headers: { origin: "http://ui.example.test" } });
      equal(allowed.headers.get("access-control-allow-origin"), "http://ui.example.test");
      const other = await as("viewer", "GET", "/me", { headers: { origin: "http://evil.example" } });
      equal(other.headers.get("access-control-allow-origin"), "http://localhost:3000");
      const preflight = await adminApi.fetch(
        new Request("http://functions.local/admin-api/bots", {
          method: "OPTIONS",
          headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
        }),
      );
      equal(preflight.status, 204);
      match(preflight.headers.get("access-control-allow-methods") ?? "", /PATCH/);
      match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
    });

    await t.step("unknown paths are 404 and wrong methods 405, in the error shape", async () => {
      const missing = await as("viewer", "GET", "/nothing-here");
      expectStatus(missing, 404);
      equal(errorCode(missing), "not_found");
      const wrongMethod = await as("viewer", "DELETE", "/bots");
      expectStatus(wrongMethod, 405);
      match(wrongMethod.headers.get("allow") ?? "", /GET/);
    });

    await t.step("the served OpenAPI document is docs/openapi.json and lists every route", async () => {
      const served = await as("outsider", "GET", "/openapi.json");
      expectStatus(served, 200);
      const checkedIn = JSON.parse(await Deno.readTextFile(new URL("docs/openapi.json", REPO_ROOT)));
      deepStrictEqual(
        served.json,
        checkedIn,
        "docs/openapi.json is stale: deno run --config functions/deno.json -A functions/admin-api/openapi.ts --write",
      );
      const paths = checkedIn.paths as Record<string, Record<string, { operationId: string }>>;
      const documented = new Set<string>();
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(item)) {
          documented.add(`${method.toUpperCase()} ${path}`);
          ok(operation.operationId, `${method} ${path} has an operationId`);
        }
      }
      for (const route of ROUTES) {
        ok(
          documented.has(`${route.method} /admin-api${route.path}`),
          `${route.method} ${route.path} is documented`,
        );
      }
      equal(documented.size, ROUTES.length + 1, "the document lists nothing that is not implemented");
      equal(checkedIn.openapi, "3.1.0");
      covered.add("getOpenApiDocument");
    });

    await t.step("docs/api.md describes every route", async () => {
      const apiDoc = await Deno.readTextFile(new URL("docs/api.md", REPO_ROOT));
      for (const route of ROUTES) {
        ok(
          apiDoc.includes(`| ${route.method} | \`/admin-api${route.path}\``),
          `docs/api.md lists ${route.method} /admin-api${route.path}`,
        );
      }
    });

    // -------------------------------------------------------------------
    // Happy paths, with their effects in the database
    // -------------------------------------------------------------------

    const demo = await Fixtures.demoBotDefinition();
    let botId = "";
    let firstVersionId = "";
    let secondVersionId = "";

    await t.step("bots: create, read, list, rename, archive and bring back", async () => {
      const created = await as("admin", "POST", "/bots", {
        body: { name: "API bot (deno test)", description: "made by the admin API test" },
        operationId: "createBot",
      });
      expectStatus(created, 201);
      botId = (created.json as { id: string }).id;
      fixtures.trackBot(botId);
      const [row] = await db`select name, description from public.bots where id = ${botId}`;
      deepStrictEqual({ ...row }, { name: "API bot (deno test)", description: "made by the admin API test" });

      const read = await as("viewer", "GET", `/bots/${botId}`, { operationId: "getBot" });
      expectStatus(read, 200);
      equal((read.json as { number_count: number }).number_count, 0);

      const renamed = await as("admin", "PATCH", `/bots/${botId}`, {
        body: { name: "API bot, renamed (deno test)" },
        operationId: "updateBot",
      });
      expectStatus(renamed, 200);
      const [renamedRow] = await db`select name from public.bots where id = ${botId}`;
      equal(renamedRow.name, "API bot, renamed (deno test)");

      const listed = await as("viewer", "GET", `/bots?q=${encodeURIComponent("renamed (deno")}&limit=1`, {
        operationId: "listBots",
      });
      expectStatus(listed, 200);
      const page = listed.json as { data: Array<{ id: string }>; next_cursor: string | null };
      deepStrictEqual(page.data.map((bot) => bot.id), [botId]);

      const archived = await as("admin", "POST", `/bots/${botId}/archive`, { operationId: "archiveBot" });
      expectStatus(archived, 200);
      const [archivedRow] = await db`select archived_at from public.bots where id = ${botId}`;
      notEqual(archivedRow.archived_at, null);
      const activeOnly = await as("viewer", "GET", "/bots?limit=200");
      ok(!(activeOnly.json as { data: Array<{ id: string }> }).data.some((bot) => bot.id === botId));
      const back = await as("admin", "POST", `/bots/${botId}/unarchive`, { operationId: "unarchiveBot" });
      expectStatus(back, 200);
      const [backRow] = await db`select archived_at from public.bots where id = ${botId}`;
      equal(backRow.archived_at, null);
      const audit = await db`
        select action from public.audit_log_entries where target_id = ${botId} order by id`;
      ok(audit.some((entry) => entry.action === "bots.insert"), "the bot's creation is audited");
    });

    await t.step(
      "bot versions: validation errors by JSON path, create, publish, roll back, canary",
      async () => {
        const broken = {
          ...demo,
          triggers: [{ match: "keyword", value: "hi", start: "nowhere" }],
        };
        const rejected = await as("admin", "POST", `/bots/${botId}/versions`, {
          body: { definition: broken },
        });
        expectStatus(rejected, 422);
        const rejection = rejected.json as {
          error: { code: string; details: { errors: Array<{ path: string; message: string }> } };
        };
        equal(rejection.error.code, "invalid_definition");
        ok(rejection.error.details.errors.length >= 1);
        ok(rejection.error.details.errors.every((problem) => problem.path.startsWith("$")), rejected.text);
        ok(rejection.error.details.errors.some((problem) => /triggers/.test(problem.path)), rejected.text);
        const [{ n_versions }] = await db`
        select count(*)::int as n_versions from public.bot_versions where bot_id = ${botId}`;
        equal(n_versions, 0, "nothing is stored for an invalid definition");

        const validated = await as("viewer", "POST", "/bot-definitions/validate", {
          body: { definition: broken },
          operationId: "validateBotDefinition",
        });
        expectStatus(validated, 200);
        equal((validated.json as { valid: boolean }).valid, false);

        const first = await as("admin", "POST", `/bots/${botId}/versions`, {
          body: { definition: demo, publish: true },
          operationId: "createBotVersion",
        });
        expectStatus(first, 201);
        firstVersionId = (first.json as { id: string }).id;
        deepStrictEqual(
          [(first.json as { version: number }).version, (first.json as { status: string }).status],
          [1, "published"],
        );
        const second = await as("admin", "POST", `/bots/${botId}/versions`, {
          body: { definition: { ...demo, name: "Demo bot v2" } },
        });
        expectStatus(second, 201);
        secondVersionId = (second.json as { id: string }).id;
        equal((second.json as { status: string }).status, "draft");

        const versions = await as("viewer", "GET", `/bots/${botId}/versions`, {
          operationId: "listBotVersions",
        });
        deepStrictEqual((versions.json as { data: Array<{ version: number }> }).data.map((v) => v.version), [
          2,
          1,
        ]);
        const one = await as("viewer", "GET", `/bots/${botId}/versions/${secondVersionId}`, {
          operationId: "getBotVersion",
        });
        equal((one.json as { definition: { name: string } }).definition.name, "Demo bot v2");

        const canary = await as("admin", "PUT", `/bots/${botId}/canary`, {
          body: { version_id: secondVersionId, share_percent: 25 },
          operationId: "setBotCanary",
        });
        expectStatus(canary, 200);
        const [withCanary] = await db`
        select canary_version_id, canary_share_percent from public.bots where id = ${botId}`;
        deepStrictEqual({ ...withCanary }, { canary_version_id: secondVersionId, canary_share_percent: 25 });
        const publishedAsCanary = await as("admin", "PUT", `/bots/${botId}/canary`, {
          body: { version_id: firstVersionId, share_percent: 10 },
        });
        expectStatus(publishedAsCanary, 409);
        const cleared = await as("admin", "DELETE", `/bots/${botId}/canary`, {
          operationId: "clearBotCanary",
        });
        expectStatus(cleared, 200);
        const [withoutCanary] = await db`select canary_version_id from public.bots where id = ${botId}`;
        equal(withoutCanary.canary_version_id, null);

        const published = await as("admin", "POST", `/bots/${botId}/versions/${secondVersionId}/publish`, {
          operationId: "publishBotVersion",
        });
        expectStatus(published, 200);
        const statuses = await db`
        select id, status from public.bot_versions where bot_id = ${botId} order by version`;
        deepStrictEqual(statuses.map((row) => row.status), ["archived", "published"]);

        const rolledBack = await as("admin", "POST", `/bots/${botId}/rollback`, {
          operationId: "rollBackBot",
        });
        expectStatus(rolledBack, 200);
        equal((rolledBack.json as { id: string }).id, firstVersionId);
        const after =
          await db`select status from public.bot_versions where bot_id = ${botId} order by version`;
        deepStrictEqual(after.map((row) => row.status), ["published", "archived"]);

        const frozen = await as("admin", "POST", `/bots/${botId}/rollback`, {
          body: { version_id: firstVersionId },
        });
        expectStatus(frozen, 409);
      },
    );

    let numberId = "";
    await t.step("numbers: create, assign a bot, read, list", async () => {
      const phone = randomPhoneNumber();
      const created = await as("admin", "POST", "/numbers", {
        body: { phone_number: phone, label: "API number (deno test)" },
        operationId: "createNumber",
      });
      expectStatus(created, 201);
      numberId = (created.json as { id: string }).id;
      fixtures.trackNumber(numberId);
      const duplicate = await as("admin", "POST", "/numbers", { body: { phone_number: phone } });
      expectStatus(duplicate, 409);

      const assigned = await as("admin", "PATCH", `/numbers/${numberId}`, {
        body: { bot_id: botId },
        operationId: "updateNumber",
      });
      expectStatus(assigned, 200);
      const [row] = await db`select bot_id, label from public.numbers where id = ${numberId}`;
      deepStrictEqual({ ...row }, { bot_id: botId, label: "API number (deno test)" });

      const archiveRefused = await as("admin", "POST", `/bots/${botId}/archive`);
      expectStatus(archiveRefused, 409);
      match(archiveRefused.text, /numbers still serve this bot/);

      const read = await as("viewer", "GET", `/numbers/${numberId}`, { operationId: "getNumber" });
      equal((read.json as { phone_number: string }).phone_number, phone);
      const listed = await as("viewer", "GET", `/numbers?bot_id=${botId}`, { operationId: "listNumbers" });
      deepStrictEqual((listed.json as { data: Array<{ id: string }> }).data.map((n) => n.id), [numberId]);
      const byStatus = await as(
        "viewer",
        "GET",
        `/numbers?session_status=stopped&q=${encodeURIComponent(phone)}`,
      );
      equal((byStatus.json as { data: unknown[] }).data.length, 1);
    });

    await t.step("sessions: restart through the daemon holding the lease, else queued for it", async () => {
      // Without a daemon holding the lease, the command waits for one.
      const queued = await as("operator", "POST", `/numbers/${numberId}/session/restart`, {
        operationId: "controlNumberSession",
      });
      expectStatus(queued, 202);
      const queuedBody = queued.json as { command: { id: number; status: string }; delivery: string };
      deepStrictEqual([queuedBody.delivery, queuedBody.command.status], ["queued", "pending"]);
      const [command] = await db`
        select command, status, requested_by from public.session_commands where id = ${queuedBody.command.id}`;
      deepStrictEqual({ ...command }, {
        command: "restart",
        status: "pending",
        requested_by: users.operator.id,
      });
      const [audited] = await db`
        select actor_id from public.audit_log_entries
        where action = 'session_commands.insert' and target_id = ${String(queuedBody.command.id)}`;
      equal(audited.actor_id, users.operator.id, "the command is audited in the operator's name");

      // A fake daemon holds the lease: it is called at once.
      const daemon = startTestServer(() => Response.json({ action: "restart" }, { status: 202 }));
      servers.push(daemon);
      const runtimeId = `deno-test-daemon-${crypto.randomUUID().slice(0, 8)}`;
      await db`
        insert into public.runtime_instances (id, version, status_url)
        values (${runtimeId}, 'test', ${`${daemon.url}/status`})`;
      await db`
        update public.numbers set lease_holder = ${runtimeId}, lease_expires_at = now() + interval '1 minute'
        where id = ${numberId}`;
      const direct = await as("operator", "POST", `/numbers/${numberId}/session/stop`);
      expectStatus(direct, 202);
      const directBody = direct.json as { command: { id: number; status: string }; delivery: string };
      deepStrictEqual([directBody.delivery, directBody.command.status], ["direct", "done"]);
      equal(daemon.requests.length, 1);
      equal(daemon.requests[0].path, `/numbers/${numberId}/session/stop`);
      equal(daemon.requests[0].headers.get("authorization"), `Bearer ${DAEMON_TOKEN}`);

      const runtimes = await as("viewer", "GET", "/runtimes", { operationId: "listRuntimes" });
      const runtime = (runtimes.json as { data: Array<{ id: string; leased_numbers: number }> }).data
        .find((row) => row.id === runtimeId);
      equal(runtime?.leased_numbers, 1);

      // The overview probes each daemon's /status through the admin API.
      const probe = await as("viewer", "GET", `/runtimes/${runtimeId}/status`, {
        operationId: "probeRuntimeStatus",
      });
      expectStatus(probe, 200);
      const probeBody = probe.json as {
        ok: boolean;
        http_status: number;
        body: unknown;
        error: string | null;
      };
      deepStrictEqual([probeBody.ok, probeBody.http_status, probeBody.body, probeBody.error], [
        true,
        202,
        { action: "restart" },
        null,
      ]);
      equal(daemon.requests.at(-1)?.path, "/status");
      const goneId = `deno-test-gone-${crypto.randomUUID().slice(0, 8)}`;
      await db`
        insert into public.runtime_instances (id, version, status_url)
        values (${goneId}, 'test', 'http://127.0.0.1:9/status')`;
      const gone = await as("viewer", "GET", `/runtimes/${goneId}/status`);
      expectStatus(gone, 200);
      const goneBody = gone.json as { ok: boolean; http_status: number | null; error: string | null };
      deepStrictEqual([goneBody.ok, goneBody.http_status], [false, null]);
      ok(goneBody.error !== null && goneBody.error.length > 0, "an unreachable daemon's error is given");
      expectStatus(await as("viewer", "GET", `/runtimes/no-such-daemon/status`), 404);
      await db`delete from public.runtime_instances where id = ${goneId}`;

      await db`update public.numbers set lease_holder = null, lease_expires_at = null where id = ${numberId}`;
      await db`delete from public.runtime_instances where id = ${runtimeId}`;

      const commands = await as("viewer", "GET", `/numbers/${numberId}/commands?limit=1`, {
        operationId: "listNumberCommands",
      });
      const commandPage = commands.json as { data: Array<{ command: string }>; next_cursor: string };
      deepStrictEqual(commandPage.data.map((row) => row.command), ["stop"]);
      const nextPage = await as(
        "viewer",
        "GET",
        `/numbers/${numberId}/commands?cursor=${commandPage.next_cursor}`,
      );
      deepStrictEqual(
        (nextPage.json as { data: Array<{ command: string }> }).data.map((row) => row.command),
        [
          "restart",
        ],
      );

      const badAction = await as("operator", "POST", `/numbers/${numberId}/session/reboot`);
      expectStatus(badAction, 400);
    });

    await t.step("the connection timeline and the pairing code", async () => {
      await db`
        insert into public.number_connection_events (number_id, event, reason, code, occurred_at)
        values (${numberId}, 'connected', null, null, now() - interval '3 minutes'),
               (${numberId}, 'heartbeat', null, null, now() - interval '2 minutes'),
               (${numberId}, 'disconnected', 'stream error', '515', now() - interval '1 minute')`;
      await db`
        insert into public.number_connection_events (number_id, event, detail, occurred_at)
        values (${numberId}, 'pair_code_shown', ${
        db.json({ pair_code: "DENO1234" })
      }, now() - interval '1 second')`;
      await db`
        insert into public.number_connection_events (number_id, event, detail)
        values (${numberId}, 'qr', ${db.json({ qr: "2@deno-test-qr", expires_at: "2030-01-01T00:00:00Z" })})`;
      const events = await as("viewer", "GET", `/numbers/${numberId}/events`, {
        operationId: "listNumberEvents",
      });
      expectStatus(events, 200);
      const names = (events.json as { data: Array<{ event: string }> }).data.map((event) => event.event);
      deepStrictEqual(
        names,
        ["qr", "pair_code_shown", "disconnected", "connected"],
        "newest first, heartbeats left out",
      );
      // A viewer may see that a code was shown, never the code (it links
      // the WhatsApp account): GET /pairing refuses viewers, and the events
      // keep no secret.
      ok(
        !events.text.includes("2@deno-test-qr") && !events.text.includes("DENO1234"),
        `a viewer's events carry no pairing code: ${events.text}`,
      );
      const qrEvent =
        (events.json as { data: Array<{ event: string; detail: Record<string, unknown> }> }).data[0];
      equal(qrEvent.detail.secret_redacted, true);
      const viewerPairing = await as("viewer", "GET", `/numbers/${numberId}/pairing`);
      expectStatus(viewerPairing, 403);
      const disconnects = await as("viewer", "GET", `/numbers/${numberId}/events?event=disconnected`);
      const [disconnect] = (disconnects.json as { data: Array<{ code: string; reason: string }> }).data;
      deepStrictEqual([disconnect.code, disconnect.reason], ["515", "stream error"]);

      const pairing = await as("operator", "GET", `/numbers/${numberId}/pairing`, {
        operationId: "getNumberPairing",
      });
      expectStatus(pairing, 200);
      const state = pairing.json as {
        session_status: string;
        pairing: { method: string; qr: string; pair_code: string };
      };
      // The QR code and the pair code, each from its own event, side by side.
      deepStrictEqual(
        [state.session_status, state.pairing.method, state.pairing.qr, state.pairing.pair_code],
        [
          "pairing",
          "qr",
          "2@deno-test-qr",
          "DENO1234",
        ],
      );
    });

    let conversationId = "";
    await t.step("conversations: inbox, thread, take over, reply as an agent, release, close", async () => {
      const [conversation] = await db`
        insert into public.conversations (number_id, contact_wa_id, contact_name, bot_version_id, flow_state)
        values (${numberId}, '+15550007777', 'Grace', ${firstVersionId},
                ${
        db.json({ awaiting: "menu", retries: 1, vars: {}, tags: ["vip"], handoff: true, opted_out: false })
      })
        returning id`;
      conversationId = conversation.id;
      await db`update public.conversations set tags = '{vip}' where id = ${conversationId}`;
      await db`
        insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status,
                                     wa_message_id, routed_at)
        values (${numberId}, ${conversationId}, 'inbound', '+15550007777', 'I need a person', 'received',
                ${crypto.randomUUID()}, now())`;

      const inbox = await as("viewer", "GET", `/conversations?number_id=${numberId}&tag=vip&q=Grace`, {
        operationId: "listConversations",
      });
      deepStrictEqual((inbox.json as { data: Array<{ id: string }> }).data.map((c) => c.id), [
        conversationId,
      ]);
      const read = await as("viewer", "GET", `/conversations/${conversationId}`, {
        operationId: "getConversation",
      });
      equal((read.json as { mode: string }).mode, "bot");

      const notTakenOver = await as("operator", "POST", `/conversations/${conversationId}/messages`, {
        body: { body: "Hello" },
      });
      expectStatus(notTakenOver, 409);

      const takeover = await as("operator", "POST", `/conversations/${conversationId}/takeover`, {
        operationId: "takeOverConversation",
      });
      expectStatus(takeover, 200);
      const [taken] =
        await db`select mode, assigned_to from public.conversations where id = ${conversationId}`;
      deepStrictEqual({ ...taken }, { mode: "human", assigned_to: users.operator.id });
      const mine = await as("operator", "GET", "/conversations?assigned_to=me&mode=human");
      ok((mine.json as { data: Array<{ id: string }> }).data.some((c) => c.id === conversationId));

      const sent = await as("operator", "POST", `/conversations/${conversationId}/messages`, {
        body: { body: "Hi Grace, Ada from support here." },
        operationId: "sendAgentMessage",
      });
      expectStatus(sent, 201);
      const messageId = (sent.json as { id: string }).id;
      const [queued] = await db`
        select direction, status, author_id, body, contact_wa_id from public.messages where id = ${messageId}`;
      deepStrictEqual({ ...queued }, {
        direction: "outbound",
        status: "queued",
        author_id: users.operator.id,
        body: "Hi Grace, Ada from support here.",
        contact_wa_id: "+15550007777",
      });

      const thread = await as("viewer", "GET", `/conversations/${conversationId}/messages`, {
        operationId: "listConversationMessages",
      });
      deepStrictEqual((thread.json as { data: Array<{ direction: string }> }).data.map((m) => m.direction), [
        "outbound",
        "inbound",
      ]);

      const released = await as("operator", "POST", `/conversations/${conversationId}/release`, {
        operationId: "releaseConversation",
      });
      expectStatus(released, 200);
      const [back] = await db`
        select mode, assigned_to, flow_state from public.conversations where id = ${conversationId}`;
      deepStrictEqual([back.mode, back.assigned_to, back.flow_state.handoff], ["bot", null, false]);
      const modeChanges = await db`
        select details ->> 'to' as mode, actor_id from public.audit_log_entries
        where action = 'conversations.mode_changed' and target_id = ${conversationId} order by id`;
      deepStrictEqual(modeChanges.map((row) => [row.mode, row.actor_id]), [
        ["human", users.operator.id],
        ["bot", users.operator.id],
      ]);

      const closed = await as("operator", "POST", `/conversations/${conversationId}/close`, {
        operationId: "closeConversation",
      });
      expectStatus(closed, 200);
      const [closedRow] = await db`select mode from public.conversations where id = ${conversationId}`;
      equal(closedRow.mode, "closed");
    });

    await t.step(
      "the runbook's incident steps: acknowledge, timeline, restart, summary, resolve",
      async () => {
        const [alert] = await db`
        insert into public.alerts (kind, severity, number_id, dedupe_key, title, details)
        values ('disconnected', 'critical', ${numberId}, ${`number:${numberId}:session`},
                'disconnected on the API number', '{"detail": "disconnected for 300 s"}')
        returning id`;
        const alertId = alert.id as string;

        const open = await as("viewer", "GET", `/alerts?status=open,acknowledged&number_id=${numberId}`, {
          operationId: "listAlerts",
        });
        deepStrictEqual((open.json as { data: Array<{ id: string }> }).data.map((a) => a.id), [alertId]);
        const read = await as("viewer", "GET", `/alerts/${alertId}`, { operationId: "getAlert" });
        equal((read.json as { severity: string }).severity, "critical");

        const acknowledged = await as("operator", "POST", `/alerts/${alertId}/acknowledge`, {
          operationId: "acknowledgeAlert",
        });
        expectStatus(acknowledged, 200);
        const [ackRow] = await db`select status, acknowledged_by from public.alerts where id = ${alertId}`;
        deepStrictEqual({ ...ackRow }, { status: "acknowledged", acknowledged_by: users.operator.id });

        const timeline = await as(
          "operator",
          "GET",
          `/numbers/${numberId}/events?event=disconnected,connected`,
        );
        equal((timeline.json as { data: unknown[] }).data.length, 2);
        const restart = await as("operator", "POST", `/numbers/${numberId}/session/restart`);
        expectStatus(restart, 202);

        const summary = await as("operator", "POST", `/alerts/${alertId}/summary`, {
          body: { summary: "Stream error 515 after a WhatsApp outage; restarted the session." },
          operationId: "addIncidentSummary",
        });
        expectStatus(summary, 201);
        const [entry] = await db`
        select actor_id, details ->> 'summary' as summary from public.audit_log_entries
        where action = 'incident.summary' and target_id = ${alertId}`;
        deepStrictEqual({ ...entry }, {
          actor_id: users.operator.id,
          summary: "Stream error 515 after a WhatsApp outage; restarted the session.",
        });
        const blank = await as("operator", "POST", `/alerts/${alertId}/summary`, { body: { summary: "  " } });
        expectStatus(blank, 400);

        const resolved = await as("operator", "POST", `/alerts/${alertId}/resolve`, {
          operationId: "resolveAlert",
        });
        expectStatus(resolved, 200);
        const [resolvedRow] = await db`
        select status, resolved_by, summary from public.alerts where id = ${alertId}`;
        deepStrictEqual([resolvedRow.status, resolvedRow.resolved_by], ["resolved", users.operator.id]);
        match(resolvedRow.summary, /515/);
        const reopened = await as("operator", "POST", `/alerts/${alertId}/acknowledge`);
        expectStatus(reopened, 409);

        const deliveries = await as("viewer", "GET", `/alerts/${alertId}/deliveries`, {
          operationId: "listAlertDeliveries",
        });
        expectStatus(deliveries, 200);

        const log = await as("viewer", "GET", `/audit-log?action=alerts.*&target_id=${alertId}`, {
          operationId: "listAuditLog",
        });
        deepStrictEqual(
          (log.json as { data: Array<{ action: string }> }).data.map((row) => row.action),
          ["alerts.resolved", "alerts.acknowledged"],
        );
        const byActor = await as(
          "viewer",
          "GET",
          `/audit-log?actor_id=${users.operator.id}&action=incident.summary`,
        );
        equal((byActor.json as { data: unknown[] }).data.length, 1);
      },
    );

    await t.step("dead letters: listed for operators, retried by admins", async () => {
      const [row] = await db`
        insert into public.outbox (topic, payload, attempts, last_error, dead_at)
        values ('alert-dispatch', '{"deno_test": true}', 10, 'http 500: receiver down', now())
        returning id`;
      const listed = await as("operator", "GET", "/dead-letters?topic=alert-dispatch", {
        operationId: "listDeadLetters",
      });
      expectStatus(listed, 200);
      const letter = (listed.json as { data: Array<{ id: number; last_error: string }> }).data
        .find((item) => Number(item.id) === Number(row.id));
      equal(letter?.last_error, "http 500: receiver down");
      const retried = await as("admin", "POST", `/dead-letters/${row.id}/retry`, {
        operationId: "retryDeadLetter",
      });
      expectStatus(retried, 200);
      const [after] = await db`select dead_at, attempts from public.outbox where id = ${row.id}`;
      deepStrictEqual({ ...after }, { dead_at: null, attempts: 0 });
      const again = await as("admin", "POST", `/dead-letters/${row.id}/retry`);
      expectStatus(again, 404);
      await db`delete from public.outbox where id = ${row.id}`;
    });

    await t.step("members: list, add by email, change role, remove; owners stay", async () => {
      const listed = await as("viewer", "GET", "/members?limit=200", { operationId: "listMembers" });
      const me = (listed.json as { data: Array<{ user_id: string; email: string }> }).data
        .find((member) => member.user_id === users.viewer.id);
      equal(me?.email, users.viewer.email);

      const newcomerId = crypto.randomUUID();
      const newcomerEmail = `newcomer-${newcomerId.slice(0, 8)}@deno.test`;
      await db`insert into auth.users (id, email, role, aud) values (${newcomerId}, ${newcomerEmail}, 'authenticated', 'authenticated')`;
      const added = await as("admin", "POST", "/members", {
        body: { email: newcomerEmail.toUpperCase(), role: "viewer" },
        operationId: "addMember",
      });
      expectStatus(added, 201);
      const [member] = await db`select role, invited_by from public.members where user_id = ${newcomerId}`;
      deepStrictEqual({ ...member }, { role: "viewer", invited_by: users.admin.id });
      const notOwner = await as("admin", "PATCH", `/members/${newcomerId}`, { body: { role: "owner" } });
      expectStatus(notOwner, 403);
      const promoted = await as("admin", "PATCH", `/members/${newcomerId}`, {
        body: { role: "operator" },
        operationId: "changeMemberRole",
      });
      expectStatus(promoted, 200);
      const [promotedRow] = await db`select role from public.members where user_id = ${newcomerId}`;
      equal(promotedRow.role, "operator");
      const removed = await as("admin", "DELETE", `/members/${newcomerId}`, { operationId: "removeMember" });
      expectStatus(removed, 200);
      const [gone] = await db`select count(*)::int as n from public.members where user_id = ${newcomerId}`;
      equal(gone.n, 0);
      const unknown = await as("admin", "POST", "/members", {
        body: { email: "nobody@deno.test", role: "viewer" },
      });
      expectStatus(unknown, 404);
    });

    await t.step("alert channels: create with a secret shown once, change, rotate, remove", async () => {
      const created = await as("admin", "POST", "/alert-channels", {
        body: {
          name: "ops webhook (deno test)",
          kind: "webhook",
          target: "https://hooks.example.test/wabot",
          min_severity: "critical",
          kinds: ["disconnected"],
        },
        operationId: "createAlertChannel",
      });
      expectStatus(created, 201);
      const channel = created.json as { id: string; signing_secret: string; has_signing_secret: boolean };
      ok(channel.signing_secret.length >= 32);
      equal(channel.has_signing_secret, true);
      const [secret] =
        await db`select signing_secret from public.alert_channel_secrets where channel_id = ${channel.id}`;
      equal(secret.signing_secret, channel.signing_secret);

      const read = await as("admin", "GET", `/alert-channels/${channel.id}`, {
        operationId: "getAlertChannel",
      });
      equal(
        (read.json as { signing_secret?: string }).signing_secret,
        undefined,
        "the secret is never read back",
      );
      const listed = await as("admin", "GET", "/alert-channels", { operationId: "listAlertChannels" });
      ok((listed.json as { data: Array<{ id: string }> }).data.some((row) => row.id === channel.id));

      const changed = await as("admin", "PATCH", `/alert-channels/${channel.id}`, {
        body: { enabled: false, kinds: [] },
        operationId: "updateAlertChannel",
      });
      expectStatus(changed, 200);
      const [row] = await db`select enabled, kinds from public.alert_channels where id = ${channel.id}`;
      deepStrictEqual({ ...row }, { enabled: false, kinds: [] });
      const badTarget = await as("admin", "PATCH", `/alert-channels/${channel.id}`, {
        body: { target: "+1555" },
      });
      expectStatus(badTarget, 400);

      const rotated = await as("admin", "PUT", `/alert-channels/${channel.id}/secret`, {
        operationId: "rotateAlertChannelSecret",
      });
      expectStatus(rotated, 200);
      const newSecret = (rotated.json as { signing_secret: string }).signing_secret;
      notEqual(newSecret, channel.signing_secret);
      const [rotatedRow] = await db`
        select signing_secret from public.alert_channel_secrets where channel_id = ${channel.id}`;
      equal(rotatedRow.signing_secret, newSecret);
      const audit = await db`
        select details from public.audit_log_entries
        where target_table = 'alert_channel_secrets' and target_id = ${channel.id}`;
      ok(
        audit.length >= 2 && !JSON.stringify(audit).includes(newSecret),
        "secrets are redacted in the audit log",
      );

      const whatsapp = await as("admin", "POST", "/alert-channels", {
        body: {
          name: "on-call phone (deno test)",
          kind: "whatsapp",
          target: "+15550009999",
          sender_number_id: numberId,
        },
      });
      expectStatus(whatsapp, 201);
      equal((whatsapp.json as { signing_secret?: string }).signing_secret, undefined);
      const noSecret = await as(
        "admin",
        "PUT",
        `/alert-channels/${(whatsapp.json as { id: string }).id}/secret`,
      );
      expectStatus(noSecret, 409);

      for (const id of [channel.id, (whatsapp.json as { id: string }).id]) {
        const removed = await as("admin", "DELETE", `/alert-channels/${id}`, {
          operationId: "deleteAlertChannel",
        });
        expectStatus(removed, 200);
      }
      const [{ n }] = await db`
        select count(*)::int as n from public.alert_channels where id = any(${[channel.id]}::uuid[])`;
      equal(n, 0);
    });

    await t.step(
      "the dashboard: volumes per hour over 24 hours, sessions by state, open alerts",
      async () => {
        const dashboard = await as("viewer", "GET", "/dashboard", { operationId: "getDashboard" });
        expectStatus(dashboard, 200);
        const body = dashboard.json as {
          messages_per_hour: Array<{ hour: string; inbound: number; outbound: number }>;
          sessions_by_state: Record<string, number>;
          numbers_total: number;
          open_alerts: { total: number; by_severity: Record<string, number> };
        };
        equal(body.messages_per_hour.length, 24);
        const lastHour = body.messages_per_hour.at(-1)!;
        ok(lastHour.inbound >= 1 && lastHour.outbound >= 1, JSON.stringify(lastHour));
        ok(body.sessions_by_state.pairing >= 1);
        ok(body.numbers_total >= 1);
        equal(typeof body.open_alerts.by_severity.critical, "number");
      },
    );

    await t.step("keyset pages: a list walked one row at a time gives every row once, in order", async () => {
      // Three of each, so every list has pages to walk whatever ran before.
      for (let index = 0; index < 3; index++) {
        await fixtures.bot(`pages test ${index}`);
        const numberId = await fixtures.number(null);
        await db`
          insert into public.alerts (kind, severity, number_id, dedupe_key, title)
          values ('disconnected', 'warning', ${numberId}, ${`number:${numberId}:pages`}, 'pages test')`;
        await db`
          insert into public.conversations (number_id, contact_wa_id)
          values (${numberId}, ${`1555000${index}`})`;
      }
      const keyOf = (row: Record<string, unknown>) => String(row.id ?? row.user_id);
      for (const path of ["/bots", "/numbers", "/alerts", "/conversations", "/members"]) {
        const all = await as("owner", "GET", `${path}?limit=200`);
        expectStatus(all, 200);
        const expected = (all.json as { data: Array<Record<string, unknown>> }).data.map(keyOf);
        ok(expected.length >= 2, `${path} has ${expected.length} rows; the walk needs two at least`);
        const walked: string[] = [];
        let cursor: string | null = null;
        do {
          const query: string = cursor === null ? "" : `&cursor=${cursor}`;
          const page = await as("owner", "GET", `${path}?limit=1${query}`);
          expectStatus(page, 200);
          const body = page.json as { data: Array<Record<string, unknown>>; next_cursor: string | null };
          equal(body.data.length, 1, `${path}: a page of limit 1 has one row`);
          walked.push(...body.data.map(keyOf));
          cursor = body.next_cursor;
        } while (cursor !== null && walked.length <= expected.length);
        deepStrictEqual(walked, expected, `${path}: the walk matches the one-page list`);
      }
    });

    await t.step(
      "media and templates: upload, proxy, a message's media, template sync and list",
      async () => {
        const uploaded = await as("operator", "POST", "/media?filename=dot.png", {
          body: TINY_PNG,
          headers: { "content-type": "image/png" },
          operationId: "uploadMedia",
        });
        expectStatus(uploaded, 201);
        const key = (uploaded.json as { storage_key: string }).storage_key;
        const read = await as("viewer", "GET", `/media/${encodeURIComponent(key)}`, {
          operationId: "getMedia",
        });
        expectStatus(read, 200);
        equal(read.headers.get("content-type"), "image/png");
        const [conversation] = await db`
        insert into public.conversations (number_id, contact_wa_id, mode)
        values (${await fixtures.number(null)}, '15550004444', 'human') returning id`;
        const sent = await as("operator", "POST", `/conversations/${conversation.id}/messages`, {
          body: { content: { kind: "image", storage_key: key } },
        });
        expectStatus(sent, 201);
        const media = await as("viewer", "GET", `/messages/${(sent.json as { id: string }).id}/media`, {
          operationId: "getMessageMedia",
        });
        expectStatus(media, 200);
        equal(media.headers.get("content-length"), String(TINY_PNG.byteLength));

        const [number] = await db`
        insert into public.numbers (phone_number, label, transport)
        values (${randomPhoneNumber()}, 'templates', 'cloud') returning id`;
        fixtures.trackNumber(number.id);
        await db`
        insert into public.session_credentials (number_id, credentials)
        values (${number.id}, ${
          db.json({
            phone_number_id: "106540352242922",
            access_token: "EAAG-test",
            waba_id: "102290129340398",
          })
        })`;
        const synced = await as("operator", "POST", `/numbers/${number.id}/templates/sync`, {
          operationId: "syncNumberTemplates",
        });
        expectStatus(synced, 200);
        equal((synced.json as { synced: number }).synced, 1);
        const listed = await as("viewer", "GET", `/numbers/${number.id}/templates`, {
          operationId: "listNumberTemplates",
        });
        expectStatus(listed, 200);
        deepStrictEqual(
          (listed.json as { data: Array<{ parameter_spec: unknown }> }).data[0].parameter_spec,
          [
            { type: "body", parameters: 1, parameter_type: "text" },
          ],
        );
      },
    );

    await t.step("integrations: API keys and webhook subscriptions, admins only", async () => {
      const numberId = await fixtures.number(null);
      const created = await as("admin", "POST", "/api-keys", {
        body: { name: "crm", scopes: ["messages:send", "messages:read"], number_ids: [numberId] },
        operationId: "createApiKey",
      });
      expectStatus(created, 201);
      const key = created.json as { id: string; key: string; prefix: string; status: string };
      match(key.key, /^wbk_[0-9a-f]{8}_[0-9a-f]{48}$/);
      ok(key.key.startsWith(`${key.prefix}_`), "the prefix is the key's start");
      equal(key.status, "active");
      const operatorTry = await as("operator", "POST", "/api-keys", {
        body: { name: "x", scopes: ["messages:send"] },
      });
      expectStatus(operatorTry, 403);
      const listed = await as("admin", "GET", "/api-keys", { operationId: "listApiKeys" });
      expectStatus(listed, 200);
      ok(!listed.text.includes(key.key.slice(13)), "a list never holds the key");
      ok(!listed.text.includes("key_hash"), "nor its hash");
      const read = await as("admin", "GET", `/api-keys/${key.id}`, { operationId: "getApiKey" });
      expectStatus(read, 200);
      const revoked = await as("admin", "POST", `/api-keys/${key.id}/revoke`, {
        operationId: "revokeApiKey",
      });
      expectStatus(revoked, 200);
      equal((revoked.json as { status: string }).status, "revoked");
      const audit = await db`
        select action from public.audit_log_entries where target_table = 'api_keys' and target_id = ${key.id}
        order by id`;
      deepStrictEqual(audit.map((row) => row.action), ["api_keys.insert", "api_keys.update"]);
      const [auditRow] = await db`
        select details::text as details from public.audit_log_entries
        where target_table = 'api_keys' and target_id = ${key.id} order by id limit 1`;
      ok(!String(auditRow.details).match(/[0-9a-f]{64}/), "the audit log holds no hash");

      const receiver = startTestServer(() => new Response("ok"));
      servers.push(receiver);
      const badUrl = await as("admin", "POST", "/webhooks", {
        body: { name: "metadata", url: "http://169.254.169.254/latest", events: ["message.received"] },
      });
      expectStatus(badUrl, 400);
      equal((badUrl.json as { error: { details: { field: string } } }).error.details.field, "url");
      const hook = await as("admin", "POST", "/webhooks", {
        body: {
          name: "crm",
          url: `${receiver.url}/hook`,
          events: ["message.received"],
          number_ids: [numberId],
        },
        operationId: "createWebhook",
      });
      expectStatus(hook, 201);
      const subscription = hook.json as { id: string; secret: string };
      match(subscription.secret, /^whsec_/);
      const webhookPath = `/webhooks/${subscription.id}`;
      expectStatus(await as("admin", "GET", "/webhooks", { operationId: "listWebhooks" }), 200);
      const got = await as("admin", "GET", webhookPath, { operationId: "getWebhook" });
      ok(!got.text.includes(subscription.secret), "the secret is shown once");
      const patched = await as("admin", "PATCH", webhookPath, {
        body: { events: ["message.received", "message.sent"], status: "paused" },
        operationId: "updateWebhook",
      });
      expectStatus(patched, 200);
      equal((patched.json as { status: string }).status, "paused");
      expectStatus(await as("admin", "PATCH", webhookPath, { body: { status: "active" } }), 200);
      const rotated = await as("admin", "POST", `${webhookPath}/rotate-secret`, {
        operationId: "rotateWebhookSecret",
      });
      expectStatus(rotated, 200);
      notEqual((rotated.json as { secret: string }).secret, subscription.secret);
      const tested = await as("admin", "POST", `${webhookPath}/test`, { operationId: "testWebhook" });
      expectStatus(tested, 202);
      const deliveryId = (tested.json as { id: number }).id;
      const deliveries = await as("admin", "GET", `${webhookPath}/deliveries`, {
        operationId: "listWebhookDeliveries",
      });
      expectStatus(deliveries, 200);
      equal((deliveries.json as { data: unknown[] }).data.length, 1);
      const delivery = await as("admin", "GET", `${webhookPath}/deliveries/${deliveryId}`, {
        operationId: "getWebhookDelivery",
      });
      expectStatus(delivery, 200);
      equal((delivery.json as { event: { type: string } }).event.type, "webhook.test");
      const replayed = await as("admin", "POST", `${webhookPath}/deliveries/${deliveryId}/replay`, {
        operationId: "replayWebhookDelivery",
      });
      expectStatus(replayed, 202);
      equal((replayed.json as { replay_of: number }).replay_of, deliveryId);
      const range = await as("admin", "POST", `${webhookPath}/replay`, {
        body: { since: new Date(Date.now() - 3600_000).toISOString() },
        operationId: "replayWebhookEvents",
      });
      expectStatus(range, 202);
      equal((range.json as { replayed: number }).replayed, 1, "one event (the test event) in the range");
      const viewerTry = await as("viewer", "GET", `${webhookPath}/deliveries`);
      expectStatus(viewerTry, 403);
      const removed = await as("admin", "DELETE", webhookPath, { operationId: "deleteWebhook" });
      expectStatus(removed, 200);
      expectStatus(await as("admin", "GET", webhookPath), 404);
    });

    await t.step("me: the caller's identity and role", async () => {
      const me = await as("outsider", "GET", "/me", { operationId: "getMe" });
      deepStrictEqual(me.json, { user_id: users.outsider.id, email: users.outsider.email, role: null });
    });

    await t.step("every route was exercised on its happy path", () => {
      const missing = ROUTES.map((route) => route.operationId).filter((id) => !covered.has(id));
      deepStrictEqual(missing, [], `routes without a happy-path test: ${missing.join(", ")}`);
    });
  } finally {
    await gateway?.stop();
    for (const server of servers) await server.close();
    await fixtures.cleanUp();
    await s3?.stop();
    await functionPool.end({ timeout: 5 });
    await db.end({ timeout: 5 });
  }
});
