/**
 * Hostile bot definitions through the real gateway and functions, against
 * the real local Postgres and the built Wasm: the outside probe's ~20 KB
 * definition nested 10,000 arrays deep, escaped NULs and over-long texts
 * each get a clear error naming the JSON path, and afterwards, in the same
 * gateway process (the same isolate and Wasm instances), the next ordinary
 * validation and the next inbound message still succeed. Before the fix the
 * deep definition overflowed the routing module's stack and every later
 * validation and `route-message` call answered 500 until a restart.
 *
 * @module
 */

import { equal, match, ok } from "node:assert/strict";
import { call, connectDb, createUsers, Fixtures, type Gateway, mintJwt, startGateway } from "./helpers.ts";

/** The probe's definition as JSON text: one node's `text` nested `depth` arrays deep. */
function deepDefinitionBody(depth: number): string {
  return `{"definition": {"format": 1, "name": "deep", "nodes": [{"id": "a", "type": "message", "text": ${
    "[".repeat(depth)
  }"hi"${"]".repeat(depth)}}]}}`;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    details: { field?: string; errors?: Array<{ path: string }> } | null;
  };
}

Deno.test("hostile definitions through the gateway leave the functions working", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  try {
    const users = await createUsers(db);
    gateway = await startGateway();
    const api = (path: string) => gateway!.functionUrl(`admin-api${path}`);
    const demo = await Fixtures.demoBotDefinition();
    const botId = await fixtures.bot("hostile input (deno test)");
    await fixtures.botVersion(botId, 1, demo);
    const numberId = await fixtures.number(botId);
    const serviceRoleToken = await mintJwt("service_role");

    const ordinaryCallsWork = async (label: string) => {
      const validated = await call(api("/bot-definitions/validate"), {
        token: users.viewer.token,
        body: { definition: demo },
      });
      equal(validated.status, 200, `${label}: ${validated.text.slice(0, 300)}`);
      equal((validated.json as { valid: boolean }).valid, true, label);
      const inbound = await fixtures.inbound(numberId, "hi", {
        waId: `+4917${Date.now() % 1e9}`,
        name: null,
      });
      const routed = await call(gateway!.functionUrl("route-message"), {
        token: serviceRoleToken,
        body: { outbox_id: inbound.outboxId, message_id: inbound.messageId },
      });
      equal(routed.status, 200, `${label}: route-message ${routed.text.slice(0, 300)}`);
      ok((routed.json as { replies: number }).replies >= 1, `${label}: the demo bot answers`);
    };

    await t.step("before: ordinary calls work", () => ordinaryCallsWork("before"));

    await t.step("a definition nested 10,000 arrays deep is a 400 naming its path", async () => {
      const body = deepDefinitionBody(10_000);
      ok(body.length > 19_000 && body.length < 21_000, "the probe's size, about 20 KB");
      for (
        const [path, token] of [
          ["/bot-definitions/validate", users.viewer.token],
          [`/bots/${botId}/versions`, users.admin.token],
        ]
      ) {
        const result = await call(api(path), {
          token,
          body,
          headers: { "content-type": "application/json" },
        });
        equal(result.status, 400, `${path}: ${result.text.slice(0, 300)}`);
        const error = (result.json as ErrorBody).error;
        equal(error.code, "invalid_request");
        match(error.message, /nests deeper than 32 levels at definition\.nodes\[0\]\.text\[0\]/);
        match(String(error.details?.field), /^definition\.nodes\[0\]\.text\[0\]/);
      }
    });

    await t.step(
      "after: the next validation and the next inbound message succeed",
      () => ordinaryCallsWork("after"),
    );

    await t.step("an escaped NUL in a definition is a 400 naming the JSON path", async () => {
      const body = JSON.stringify({ definition: { ...demo, fallback: "sorry\u0000" } });
      ok(body.includes("\\u0000"), "the body carries the escape");
      const result = await call(api(`/bots/${botId}/versions`), {
        token: users.admin.token,
        body,
        headers: { "content-type": "application/json" },
      });
      equal(result.status, 400, result.text);
      const error = (result.json as ErrorBody).error;
      equal(error.details?.field, "definition.fallback");
      match(error.message, /definition\.fallback must not contain the NUL character/);
      ok(!/unsupported Unicode escape/.test(result.text), "not Postgres's message");
    });

    await t.step("a NUL in a bot's name names the field", async () => {
      const result = await call(api("/bots"), {
        token: users.admin.token,
        body: JSON.stringify({ name: "evil\u0000bot" }),
        headers: { "content-type": "application/json" },
      });
      equal(result.status, 400, result.text);
      equal((result.json as ErrorBody).error.details?.field, "name");
    });

    await t.step("a text over 4,096 characters is a validation error at its path", async () => {
      const nodes = (demo.nodes as Array<Record<string, unknown>>).map((node, index) =>
        index === 0 && typeof node.text === "string" ? { ...node, text: "x".repeat(4097) } : node
      );
      const pathIndex = nodes.findIndex((node) => node.text === "x".repeat(4097));
      ok(pathIndex === 0, "the demo bot's first node has a text");
      const result = await call(api(`/bots/${botId}/versions`), {
        token: users.admin.token,
        body: { definition: { ...demo, nodes } },
      });
      equal(result.status, 422, result.text.slice(0, 300));
      const errors = (result.json as ErrorBody).error.details?.errors ?? [];
      ok(
        errors.some((problem) => problem.path === "$.nodes[0].text"),
        JSON.stringify(errors),
      );
    });

    await t.step("and once more: ordinary calls still work", () => ordinaryCallsWork("at the end"));
  } finally {
    await gateway?.stop();
    await fixtures.cleanUp();
    await db.end();
  }
});
