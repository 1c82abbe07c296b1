/**
 * Security and bad input across every function, through the local gateway
 * against the real local Postgres (docs/reliability.md, "Security and bad
 * input"):
 *
 * - the admin API's role matrix: every route for every member (viewer,
 *   operator, admin, owner) and a signed-in outsider is either let through
 *   or refused with 403, exactly as the route's minimum role says;
 * - JWT attacks at the gateway and in the admin API (`alg: none`, another
 *   key, expired, another audience, no `sub`, garbage, a role claim forged
 *   into an unsigned token): 401;
 * - SQL injection attempts in every query parameter and path id of the
 *   admin API: a 400 or an empty page, never a 5xx and never rows that do
 *   not match;
 * - malformed bodies on every public function route (truncated JSON, a
 *   JSON value that is not an object, every field of every body schema
 *   wrongly typed, bodies over the limit): a 4xx whose message names what
 *   is wrong, and nothing stored.
 *
 * The role matrix and the first-level 403s of `admin_api_test.ts` overlap on
 * purpose: that test checks one role below each minimum, this one every
 * role on every route.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  type CallResult,
  connectDb,
  createUsers,
  type Db,
  DB_URL,
  type Gateway,
  JWT_SECRET,
  type MemberName,
  mintJwt,
  RELAY_SECRET,
  startGateway,
  unsignedJwt,
} from "./helpers.ts";

const DAEMON_TOKEN = "deno-test-daemon-token-0123456789";

/** Roles in order; a member may do what any role at or below theirs may. */
const RANKS: Record<MemberName, number> = { outsider: 0, viewer: 1, operator: 2, admin: 3, owner: 4 };

/** Strings that would change a query's meaning if pasted into SQL or LIKE. */
const INJECTIONS = [
  "' or 1=1 --",
  "'; drop table public.bots; --",
  '" or ""="',
  "%",
  "_",
  "\\",
  "%' or '1'='1",
  "1) or (1=1",
  "$$; select pg_sleep(5); $$",
];

/** The number of rows in every public table, to show nothing was stored. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' and c.relname not in ('audit_log_entries')
    order by 1`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [{ n }] = await db.unsafe(`select count(*)::int as n from public."${name.replaceAll('"', '""')}"`);
    counts[name] = n as number;
  }
  return counts;
}

/** A concrete path for a route's template, with fresh ids. */
function concretePath(template: string): string {
  return template
    .replace("{action}", "restart")
    .replace("{outbox_id}", "1")
    .replace("{delivery_id}", "1")
    .replace("{contact}", "15550001234")
    .replace(/\{[a-z_]+\}/g, () => crypto.randomUUID());
}

/** A value of the wrong JSON type for a property schema. */
function wronglyTyped(schema: Record<string, unknown>): unknown {
  const types = ([] as unknown[]).concat(schema.type ?? []);
  if (types.includes("string")) return 12345;
  if (types.includes("integer") || types.includes("number")) return "twelve";
  if (types.includes("boolean")) return "yes";
  if (types.includes("array")) return { not: "an array" };
  if (types.includes("object")) return "not an object";
  return undefined;
}

/** The error message of an admin API or worker error body. */
function messageOf(result: CallResult): string {
  const body = result.json as { error?: string | { message?: string; details?: unknown } } | undefined;
  if (typeof body?.error === "string") return body.error;
  return `${body?.error?.message ?? ""} ${JSON.stringify(body?.error?.details ?? null)}`;
}

Deno.test("security and bad input", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;

  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  Deno.env.set("SUPABASE_JWT_SECRET", JWT_SECRET);
  Deno.env.set("WABOT_DAEMON_TOKEN", DAEMON_TOKEN);
  const { ROUTES } = await import("../admin-api/routes.ts");
  const adminApi = (await import("../admin-api/index.ts")).default;
  const { sql: functionPool } = await import("../_shared/db.ts");

  let gateway: Gateway | null = null;
  try {
    const users = await createUsers(db);
    gateway = await startGateway({
      env: { WABOT_DAEMON_TOKEN: DAEMON_TOKEN, OUTBOX_RELAY_SECRET: RELAY_SECRET },
    });
    const adminUrl = (path: string) => gateway!.functionUrl(`admin-api${path}`);
    const as = (who: MemberName, method: string, path: string, body?: unknown) =>
      call(adminUrl(path), { method, token: users[who].token, body });

    await t.step("role matrix: every route, every role, allowed or 403 as its minimum says", async () => {
      const members: MemberName[] = ["outsider", "viewer", "operator", "admin", "owner"];
      let cells = 0;
      for (const route of ROUTES) {
        const minimum = route.minRole === null ? 0 : RANKS[route.minRole];
        for (const who of members) {
          const result = await as(
            who,
            route.method,
            concretePath(route.path),
            route.method === "GET" ? undefined : {},
          );
          const where = `${route.method} ${route.path} as ${who}: ${result.text}`;
          ok(result.status < 500, where);
          if (RANKS[who] < minimum) {
            equal(result.status, 403, where);
          } else {
            ok(result.status !== 401 && result.status !== 403, where);
          }
          cells++;
        }
      }
      equal(cells, ROUTES.length * 5);
    });

    await t.step(
      "alert channels at metadata, private or credentialed URLs are refused at creation",
      async () => {
        const targets = [
          "http://169.254.169.254/latest/meta-data/",
          "http://[fd00:ec2::254]/latest/meta-data/",
          "http://[::ffff:169.254.169.254]/",
          "http://10.0.0.1/hook",
          "http://192.168.1.1/hook",
          "http://metadata.google.internal/computeMetadata/v1/",
          "https://user:secret@hooks.example.com/x",
        ];
        for (const [index, target] of targets.entries()) {
          for (const kind of ["webhook", "slack"]) {
            const result = await as("admin", "POST", "/alert-channels", {
              name: `ssrf ${kind} ${index}`,
              kind,
              target,
              ...(kind === "webhook" ? { signing_secret: "ssrf-signing-secret-0123456789" } : {}),
            });
            equal(result.status, 400, `${kind} ${target}: ${result.text}`);
            match(result.text, /target/, `${kind} ${target}`);
          }
        }
      },
    );

    await t.step("a delivery's error is shown to admins only through the admin API", async () => {
      const [alert] = await db`
        insert into public.alerts (kind, severity, dedupe_key, title)
        values ('deno_security_error', 'warning', ${`deno:security:${crypto.randomUUID()}`}, 'delivery error test')
        returning id`;
      try {
        await db`
          insert into public.alert_deliveries (alert_id, status, attempt, response_code, error)
          values (${alert.id}, 'failed', 1, 500, 'http 500: internal detail')`;
        const errorsSeenBy = async (who: MemberName) => {
          const result = await as(who, "GET", `/alerts/${alert.id}/deliveries`);
          equal(result.status, 200, `${who}: ${result.text}`);
          return (result.json as { data: Array<{ error: string | null; response_code: number }> }).data;
        };
        deepStrictEqual((await errorsSeenBy("admin")).map((row) => row.error), ["http 500: internal detail"]);
        deepStrictEqual((await errorsSeenBy("owner")).map((row) => row.error), ["http 500: internal detail"]);
        for (const who of ["operator", "viewer"] as const) {
          const rows = await errorsSeenBy(who);
          deepStrictEqual(rows.map((row) => [row.error, row.response_code]), [[null, 500]], who);
        }
      } finally {
        await db`delete from public.alerts where id = ${alert.id}`;
      }
    });

    await t.step("JWT attacks are 401 at the gateway and in the admin API", async () => {
      const inAnHour = Math.floor(Date.now() / 1000) + 3600;
      const sub = users.owner.id;
      const attacks: Array<[string, string]> = [
        ["alg none", unsignedJwt({ role: "authenticated", sub, aud: "authenticated", exp: inAnHour })],
        [
          "alg none with the service role",
          unsignedJwt({ role: "service_role", sub, aud: "authenticated", exp: inAnHour }),
        ],
        ["another key", await mintJwt("authenticated", { secret: "x".repeat(48), claims: { sub } })],
        ["expired", await mintJwt("authenticated", { expiresInSeconds: -120, claims: { sub } })],
        ["another audience", await mintJwt("authenticated", { claims: { sub, aud: "somebody-else" } })],
        ["no sub", await mintJwt("authenticated", { claims: { aud: "authenticated" } })],
        ["a sub that is not a UUID", await mintJwt("authenticated", { claims: { sub: "' or 1=1 --" } })],
        ["garbage", "garbage"],
        ["three garbage parts", "a.b.c"],
        ["empty signature", (await mintJwt("authenticated", { claims: { sub } })).replace(/\.[^.]+$/, ".")],
        [
          "the signature of another token",
          (await mintJwt("authenticated", { claims: { sub: users.viewer.id } })).split(".").slice(0, 2)
            .join(".") + "." + (await mintJwt("authenticated", { claims: { sub } })).split(".")[2],
        ],
      ];
      for (const [what, token] of attacks) {
        const viaGateway = await call(adminUrl("/me"), { token });
        equal(viaGateway.status, 401, `gateway, ${what}: ${viaGateway.text}`);
        const inProcess = await adminApi.fetch(
          new Request("http://functions.local/admin-api/me", {
            headers: { authorization: `Bearer ${token}` },
          }),
        );
        const body = await inProcess.text();
        equal(inProcess.status, 401, `admin API, ${what}: ${body}`);
        match(body, /"unauthorized"/, what);
      }
    });

    await t.step("SQL injection in every query parameter and path id: 400 or nothing found", async () => {
      let tried = 0;
      for (const route of ROUTES) {
        for (const parameter of route.query ?? []) {
          for (const injection of INJECTIONS) {
            const path = `${concretePath(route.path)}?${new URLSearchParams({
              [parameter.name]: injection,
            })}`;
            const result = await as("owner", route.method, path, route.method === "GET" ? undefined : {});
            const where = `${route.method} ${path}: ${result.text}`;
            ok(result.status < 500, where);
            if (result.status === 200 && route.method === "GET") {
              const page = result.json as { data?: unknown[] };
              if (Array.isArray(page.data)) equal(page.data.length, 0, where);
            } else {
              // A file upload (raw body) answers 415 for the JSON body sent here.
              const refusals = route.rawRequestBody === undefined ? [400, 404] : [400, 404, 415];
              ok(refusals.includes(result.status), where);
            }
            tried++;
          }
        }
        for (const name of route.path.match(/\{[a-z_]+\}/g) ?? []) {
          for (const injection of INJECTIONS) {
            const path = concretePath(route.path.replace(name, encodeURIComponent(injection)));
            const result = await as("owner", route.method, path, route.method === "GET" ? undefined : {});
            ok([400, 404].includes(result.status), `${route.method} ${path}: ${result.text}`);
            tried++;
          }
        }
      }
      ok(tried > 200, `${tried} injection attempts`);
      const [{ n }] = await db`select count(*)::int as n from public.bots`;
      ok(n >= 0, "public.bots is still there");
    });

    await t.step("malformed admin API bodies: a 4xx naming the problem, nothing stored", async () => {
      const before = await rowCounts(db);
      let checked = 0;
      for (const route of ROUTES) {
        if (route.method === "GET") continue;
        // A file upload takes any bytes of an accepted type: its refusals
        // (size, type, disguised bytes) are media_api_test.ts's.
        if (route.rawRequestBody !== undefined) continue;
        const who: MemberName = "owner";
        const path = concretePath(route.path);
        const truncated = await as(who, route.method, path, '{"name": "trunc');
        if (route.requestBody === undefined) {
          // A route that takes no body does not read one: a 4xx for its ids.
          ok(truncated.status >= 400 && truncated.status < 500, `${route.method} ${path}: ${truncated.text}`);
          continue;
        }
        equal(truncated.status, 400, `${route.method} ${route.path} truncated: ${truncated.text}`);
        match(messageOf(truncated), /JSON/, route.path);
        for (const notAnObject of ["[1, 2]", '"a string"', "42", "null"]) {
          const result = await as(who, route.method, path, notAnObject);
          ok(
            result.status === 400 || (notAnObject === "null" && result.status === 404),
            `${route.method} ${route.path} ${notAnObject}: ${result.text}`,
          );
        }
        const oversized = await as(
          who,
          route.method,
          path,
          JSON.stringify({ padding: "x".repeat(600 * 1024) }),
        );
        equal(oversized.status, 413, `${route.method} ${route.path} oversized: ${oversized.text}`);
        const properties = (route.requestBody?.properties ?? {}) as Record<string, Record<string, unknown>>;
        for (const [field, schema] of Object.entries(properties)) {
          const wrong = wronglyTyped(schema);
          if (wrong === undefined) continue;
          // A real target (the owner's own members row, a real bot) would
          // only add 404s; with random ids the body is checked first.
          const result = await as(who, route.method, path, { [field]: wrong });
          const where = `${route.method} ${route.path} {${field}: ${JSON.stringify(wrong)}}: ${result.text}`;
          ok(result.status >= 400 && result.status < 500, where);
          if (result.status === 400) {
            // The message names this field, or a required one missing from
            // the body (checked first).
            const named = (result.json as { error: { details: { field?: string } | null } }).error.details
              ?.field;
            const required = (route.requestBody?.required ?? []) as string[];
            ok(
              new RegExp(field).test(messageOf(result)) || (named !== undefined && required.includes(named)),
              where,
            );
          }
          checked++;
        }
      }
      ok(checked >= 20, `${checked} wrongly typed fields`);
      const after = await rowCounts(db);
      for (const [table, n] of Object.entries(after)) equal(n, before[table], `nothing stored in ${table}`);
    });

    await t.step("malformed worker bodies: a 4xx naming the problem, nothing stored", async () => {
      const before = await rowCounts(db);
      const serviceRole = await mintJwt("service_role");
      const workers: Array<{ name: string; token: string; limit: number; wrong: Array<[unknown, RegExp]> }> =
        [
          {
            name: "route-message",
            token: serviceRole,
            limit: 256 * 1024,
            wrong: [[{ message_id: 42 }, /message_id/], [
              { message_id: crypto.randomUUID(), outbox_id: "1" },
              /outbox_id/,
            ]],
          },
          {
            name: "health-check",
            token: RELAY_SECRET,
            limit: 256 * 1024,
            wrong: [[{ sweep: "yes" }, /sweep/], [{ number_id: 7 }, /number_id|sweep/]],
          },
          {
            name: "alert-dispatch",
            token: RELAY_SECRET,
            limit: 256 * 1024,
            wrong: [
              [{ type: 1, table: "alerts", schema: "public", record: {} }, /type/],
              [{ type: "INSERT", table: "alerts", schema: "public", record: "x" }, /record/],
              [{ flush: true, outbox_id: "x" }, /outbox_id/],
            ],
          },
          { name: "webhook-dispatch", token: RELAY_SECRET, limit: 256 * 1024, wrong: [] },
          {
            name: "outbox-relay",
            token: RELAY_SECRET,
            limit: 16 * 1024,
            wrong: [[{ max_rows: "all" }, /max_rows/], [{ batch_size: -1 }, /batch_size/]],
          },
        ];
      for (const worker of workers) {
        const url = gateway!.functionUrl(worker.name);
        const send = (body: unknown) => call(url, { token: worker.token, body });
        const truncated = await send('{"sweep": tr');
        equal(truncated.status, 400, `${worker.name} truncated: ${truncated.text}`);
        match(messageOf(truncated), /JSON/, worker.name);
        for (const notAnObject of ["[1, 2]", '"a string"', "42"]) {
          const result = await send(notAnObject);
          equal(result.status, 400, `${worker.name} ${notAnObject}: ${result.text}`);
          match(messageOf(result), /object/, worker.name);
        }
        const oversized = await send(JSON.stringify({ padding: "x".repeat(worker.limit + 1024) }));
        equal(oversized.status, 413, `${worker.name} oversized: ${oversized.text}`);
        for (const [body, message] of worker.wrong) {
          const result = await send(body);
          equal(result.status, 400, `${worker.name} ${JSON.stringify(body)}: ${result.text}`);
          match(messageOf(result), message, `${worker.name} ${JSON.stringify(body)}`);
        }
        // Over the gateway's own limit: refused before the function runs.
        const huge = await send(JSON.stringify({ padding: "x".repeat(1100 * 1024) }));
        equal(huge.status, 413, `${worker.name} over 1 MiB: ${huge.text}`);
      }
      const after = await rowCounts(db);
      for (const [table, n] of Object.entries(after)) equal(n, before[table], `nothing stored in ${table}`);
    });

    // ---------------------------------------------------------------------
    // The messaging API (API keys, not JWTs)
    // ---------------------------------------------------------------------

    const { V1_ROUTES } = await import("../messages-api/routes.ts");
    const { API_SCOPES, generateApiKey } = await import("../messages-api/auth.ts");
    const messagesUrl = (path: string) => gateway!.functionUrl(`messages-api${path}`);
    const keyWith = async (scopes: readonly string[]): Promise<string> => {
      const made = await generateApiKey();
      await db`
        insert into public.api_keys (name, prefix, key_hash, scopes, rate_limit_per_minute)
        values ('security test', ${made.prefix}, ${made.sha256}, ${scopes as string[]}::text[], 100000)`;
      return made.key;
    };
    const allScopes = await keyWith(API_SCOPES);

    await t.step(
      "messages API scope matrix: every route without its scope is 403, with it passes",
      async () => {
        let cells = 0;
        for (const route of V1_ROUTES) {
          const path = concretePath(route.path);
          const without = await keyWith(API_SCOPES.filter((scope) => scope !== route.scope));
          const refused = await call(messagesUrl(path), {
            method: route.method,
            token: without,
            body: route.method === "GET" ? undefined : {},
          });
          equal(refused.status, 403, `${route.method} ${path} without ${route.scope}: ${refused.text}`);
          equal((refused.json as { error: { code: string } }).error.code, "insufficient_scope");
          const only = await keyWith([route.scope]);
          const passed = await call(messagesUrl(path), {
            method: route.method,
            token: only,
            body: route.method === "GET" ? undefined : {},
          });
          ok(
            ![401, 403, 500].includes(passed.status),
            `${route.method} ${path} with only ${route.scope}: ${passed.text}`,
          );
          cells += 2;
        }
        equal(cells, V1_ROUTES.length * 2);
      },
    );

    await t.step("the messages API refuses every JWT and forged key with 401", async () => {
      const sub = users.owner.id;
      const tokens: Array<[string, string]> = [
        ["a signed-in owner's token", users.owner.token],
        ["the service-role JWT", await mintJwt("service_role")],
        ["the anon key", await mintJwt("anon")],
        ["alg none", unsignedJwt({ role: "service_role", sub, exp: Math.floor(Date.now() / 1000) + 600 })],
        ["a key of the right shape, never issued", `wbk_deadbeef_${"ab".repeat(24)}`],
        ["a real key's prefix with another secret", `${allScopes.slice(0, 12)}_${"0".repeat(48)}`],
        [
          "a real key with a character changed",
          allScopes.slice(0, -1) + (allScopes.endsWith("0") ? "1" : "0"),
        ],
        ["an injection", "wbk_' or 1=1 --"],
      ];
      for (const [what, token] of tokens) {
        for (const route of V1_ROUTES) {
          const path = concretePath(route.path);
          const result = await call(messagesUrl(path), {
            method: route.method,
            token,
            body: route.method === "GET" ? undefined : {},
          });
          equal(result.status, 401, `${route.method} ${path} with ${what}: ${result.text}`);
          match(result.headers.get("www-authenticate") ?? "", /^Bearer/);
        }
      }
    });

    await t.step("messages API: SQL injection in every path, query and body field is a 4xx", async () => {
      let tried = 0;
      const before = await rowCounts(db);
      for (const route of V1_ROUTES) {
        for (const name of route.path.match(/\{[a-z_]+\}/g) ?? []) {
          for (const injection of INJECTIONS) {
            const path = concretePath(route.path.replace(name, encodeURIComponent(injection)));
            const result = await call(messagesUrl(path), {
              method: route.method,
              token: allScopes,
              body: route.method === "GET" ? undefined : {},
            });
            ok([400, 404].includes(result.status), `${route.method} ${path}: ${result.text}`);
            tried++;
          }
        }
        for (const parameter of route.query ?? []) {
          for (const injection of INJECTIONS) {
            const path = `${concretePath(route.path)}?${new URLSearchParams({
              [parameter.name]: injection,
            })}`;
            const result = await call(messagesUrl(path), { method: route.method, token: allScopes });
            ok([400, 404].includes(result.status), `${route.method} ${path}: ${result.text}`);
            tried++;
          }
        }
        const properties = (route.requestBody?.properties ?? {}) as Record<string, unknown>;
        for (const field of Object.keys(properties)) {
          for (const injection of INJECTIONS) {
            const result = await call(messagesUrl(concretePath(route.path)), {
              method: route.method,
              token: allScopes,
              body: { [field]: injection },
            });
            ok(
              result.status >= 400 && result.status < 500,
              `${route.method} ${route.path} {${field}: ${injection}}: ${result.text}`,
            );
            tried++;
          }
        }
      }
      ok(tried > 100, `${tried} injection attempts`);
      const after = await rowCounts(db);
      for (const [table, n] of Object.entries(after)) {
        if (table === "api_keys") continue;
        equal(n, before[table], `nothing stored in ${table}`);
      }
    });

    await t.step("messages API: malformed bodies are a 4xx naming the field, nothing stored", async () => {
      const before = await rowCounts(db);
      let checked = 0;
      for (const route of V1_ROUTES) {
        if (route.requestBody === undefined) continue;
        const path = concretePath(route.path);
        const send = (body: unknown) =>
          call(messagesUrl(path), { method: route.method, token: allScopes, body });
        const truncated = await send('{"to": "+1');
        ok([400, 404].includes(truncated.status), `${route.method} ${path} truncated: ${truncated.text}`);
        const oversized = await send(JSON.stringify({ padding: "x".repeat(600 * 1024) }));
        ok([404, 413].includes(oversized.status), `${route.method} ${path} oversized: ${oversized.text}`);
        const deep = await send("[".repeat(40) + "]".repeat(40));
        ok(deep.status >= 400 && deep.status < 500, `${route.method} ${path} deep: ${deep.text}`);
        const properties = route.requestBody.properties as Record<string, Record<string, unknown>>;
        for (const [field, schema] of Object.entries(properties)) {
          const wrong = wronglyTyped(schema);
          if (wrong === undefined) continue;
          const result = await send({ [field]: wrong });
          const where = `${route.method} ${route.path} {${field}: ${JSON.stringify(wrong)}}: ${result.text}`;
          ok(result.status >= 400 && result.status < 500, where);
          if (result.status === 400) {
            // The error names this field, or a required one missing from the body (checked first).
            const named = (result.json as { error: { details: { field?: string } | null } }).error.details
              ?.field;
            const required = (route.requestBody.required ?? []) as string[];
            ok(
              messageOf(result).includes(field) || (named !== undefined && required.includes(named)),
              where,
            );
          }
          checked++;
        }
      }
      ok(checked >= 10, `${checked} wrongly typed fields`);
      const after = await rowCounts(db);
      for (const [table, n] of Object.entries(after)) equal(n, before[table], `nothing stored in ${table}`);
    });
  } finally {
    await gateway?.stop();
    await functionPool.end({ timeout: 1 });
    await db.end({ timeout: 1 });
  }
});
