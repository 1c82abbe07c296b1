/**
 * The messaging API (`messages-api`) against the real local Postgres:
 * in-process for most cases, and through the local gateway (which must
 * let an API key, not a JWT, through: `verify_jwt = false`) for the
 * authentication and a send.
 *
 * Keys are made through the admin API, as an admin would. Shown: 401 for
 * missing, malformed, unknown, revoked and expired keys; scopes and number
 * limits enforced; a send queued as an outbound message of the key; an
 * Idempotency-Key replayed (sequentially and concurrently) without a second
 * message, and refused with another body; 429 with Retry-After over the
 * limit; refusals for opt-out, the closed window, takeover, an unknown and
 * an unconnected number and bad content; bulk sends reported per message;
 * reads with keyset pages; the served OpenAPI document equals the
 * checked-in one.
 */

import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";

import {
  call,
  connectDb,
  createUsers,
  DB_URL,
  Fixtures,
  type Gateway,
  JWT_SECRET,
  randomPhoneNumber,
  REPO_ROOT,
  startGateway,
  startS3Server,
  startTestServer,
  TINY_PNG,
} from "./helpers.ts";

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

function errorOf(answer: Answer): { code: string; message: string; details: Record<string, unknown> | null } {
  return (answer.json as {
    error: { code: string; message: string; details: Record<string, unknown> | null };
  })
    .error;
}

Deno.test("messaging API", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  Deno.env.set("SUPABASE_JWT_SECRET", JWT_SECRET);
  const messagesApi = (await import("../messages-api/index.ts")).default;
  const adminApi = (await import("../admin-api/index.ts")).default;
  const { sql: functionPool } = await import("../_shared/db.ts");
  const fixtures = new Fixtures(db);
  const gateways: Gateway[] = [];

  const v1 = async (
    method: string,
    path: string,
    key: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await messagesApi.fetch(
      new Request(`http://functions.local/messages-api${path}`, {
        method,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return { status: response.status, headers: response.headers, json: await response.json() };
  };

  try {
    const users = await createUsers(db);
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await adminApi.fetch(
        new Request(`http://functions.local/admin-api${path}`, {
          method,
          headers: { authorization: `Bearer ${users.admin.token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      return { status: response.status, json: await response.json() };
    };
    const makeKey = async (body: Record<string, unknown>): Promise<{ id: string; key: string }> => {
      const created = await admin("POST", "/api-keys", { name: "test key", ...body });
      equal(created.status, 201, JSON.stringify(created.json));
      return created.json as { id: string; key: string };
    };

    // Two connected simulator numbers, an unconnected one and a Cloud API one.
    const numberA = await fixtures.number(null);
    const numberB = await fixtures.number(null);
    const offline = await fixtures.number(null);
    const [cloud] = await db`
      insert into public.numbers (phone_number, label, transport) values (${randomPhoneNumber()}, 'cloud', 'cloud')
      returning id`;
    fixtures.trackNumber(cloud.id);
    await db`update public.numbers set session_status = 'connected' where id = any(${[
      numberA,
      numberB,
      cloud.id,
    ]})`;

    const everything = await makeKey({
      scopes: ["messages:send", "messages:read", "contacts:read", "webhooks:manage"],
    });
    const limited = await makeKey({ scopes: ["messages:send", "messages:read"], number_ids: [numberA] });
    const readOnly = await makeKey({ scopes: ["messages:read"] });
    const contact = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const text = (words: string) => ({ kind: "text", text: words });

    await t.step("401 without a valid key, with WWW-Authenticate", async () => {
      const revoked = await makeKey({ scopes: ["messages:send"] });
      equal((await admin("POST", `/api-keys/${revoked.id}/revoke`)).status, 200);
      const expired = await makeKey({ scopes: ["messages:send"] });
      await db`update public.api_keys set expires_at = now() - interval '1 second' where id = ${expired.id}`;
      const cases: Array<[string, string | null, RegExp]> = [
        ["no key", null, /missing API key/],
        ["a JWT", users.admin.token, /not an API key/],
        ["unknown", `wbk_00000000_${"0".repeat(48)}`, /unknown API key/],
        ["revoked", revoked.key, /was revoked/],
        ["expired", expired.key, /has expired/],
      ];
      for (const [what, key, message] of cases) {
        const answer = await v1("POST", "/v1/messages", key, {
          number_id: numberA,
          to: contact(),
          content: text("x"),
        });
        equal(answer.status, 401, `${what}: ${JSON.stringify(answer.json)}`);
        equal(errorOf(answer).code, "unauthorized");
        match(errorOf(answer).message, message, what);
        match(answer.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
    });

    let sent: Record<string, unknown> = {};
    const to = contact();
    await t.step("a send queues an outbound message of the key, 202", async () => {
      const answer = await v1("POST", "/v1/messages", everything.key, {
        number_id: numberA,
        to,
        content: text("Your order shipped"),
      });
      equal(answer.status, 202, JSON.stringify(answer.json));
      sent = answer.json;
      equal(sent.status, "queued");
      equal(sent.to, to);
      const [row] = await db`
        select direction, status, api_key_id, contact_wa_id, content, author_id, conversation_id
        from public.messages where id = ${sent.id as string}`;
      equal(row.direction, "outbound");
      equal(row.status, "queued");
      equal(row.api_key_id, everything.id);
      equal(row.contact_wa_id, to.slice(1));
      equal(row.author_id, null);
      equal(row.conversation_id, sent.conversation_id);
      deepStrictEqual(row.content, { kind: "text", text: "Your order shipped" });
      const [key] = await db`select last_used_at from public.api_keys where id = ${everything.id}`;
      ok(key.last_used_at !== null, "the key records its last use");
    });

    await t.step("scopes and number limits are enforced", async () => {
      const noScope = await v1("POST", "/v1/messages", readOnly.key, {
        number_id: numberA,
        to: contact(),
        content: text("x"),
      });
      equal(noScope.status, 403);
      equal(errorOf(noScope).code, "insufficient_scope");
      equal(errorOf(noScope).details?.required_scope, "messages:send");
      const otherNumber = await v1("POST", "/v1/messages", limited.key, {
        number_id: numberB,
        to: contact(),
        content: text("x"),
      });
      equal(otherNumber.status, 403);
      equal(errorOf(otherNumber).code, "number_not_allowed");
      equal(errorOf(otherNumber).details?.field, "number_id");
      const ownNumber = await v1("POST", "/v1/messages", limited.key, {
        number_id: numberA,
        to: contact(),
        content: text("x"),
      });
      equal(ownNumber.status, 202);
      // A message of another number is invisible to the limited key.
      const [other] = await db`
        insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
        values (${numberB}, 'inbound', '15550009999', ${crypto.randomUUID()}, 'hi', 'received') returning id`;
      equal((await v1("GET", `/v1/messages/${other.id}`, limited.key)).status, 404);
      equal((await v1("GET", `/v1/messages/${other.id}`, everything.key)).status, 200);
      const noContacts = await v1("GET", `/v1/contacts/${to}`, limited.key);
      equal(noContacts.status, 403);
      equal(errorOf(noContacts).code, "insufficient_scope");
      const webhooks = await v1("GET", "/v1/webhooks", readOnly.key);
      equal(webhooks.status, 403);
    });

    await t.step("an Idempotency-Key replays the first answer and sends nothing new", async () => {
      const body = { number_id: numberA, to: contact(), content: text("exactly once") };
      const headers = { "idempotency-key": `order-${crypto.randomUUID()}` };
      const first = await v1("POST", "/v1/messages", everything.key, body, headers);
      equal(first.status, 202);
      equal(first.headers.get("idempotent-replayed"), null);
      const again = await v1("POST", "/v1/messages", everything.key, body, headers);
      equal(again.status, 202);
      equal(again.headers.get("idempotent-replayed"), "true");
      deepStrictEqual(again.json, first.json);
      const concurrent = await Promise.all(
        Array.from({ length: 6 }, () => v1("POST", "/v1/messages", everything.key, body, headers)),
      );
      for (const answer of concurrent) deepStrictEqual(answer.json, first.json);
      const [{ count }] = await db`
        select count(*)::int as count from public.messages where contact_wa_id = ${body.to.slice(1)}`;
      equal(count, 1, "one message for eight calls");
      // Concurrent first calls with a new key: still one message.
      const racing = { number_id: numberA, to: contact(), content: text("racing") };
      const raceHeaders = { "idempotency-key": crypto.randomUUID() };
      const raced = await Promise.all(
        Array.from({ length: 5 }, () => v1("POST", "/v1/messages", everything.key, racing, raceHeaders)),
      );
      ok(raced.every((answer) => answer.status === 202), JSON.stringify(raced.map((answer) => answer.json)));
      equal(new Set(raced.map((answer) => answer.json.id)).size, 1, "every racer got the same message");
      const reused = await v1(
        "POST",
        "/v1/messages",
        everything.key,
        { ...body, content: text("another") },
        headers,
      );
      equal(reused.status, 422);
      equal(errorOf(reused).code, "idempotency_key_reused");
      const bad = await v1("POST", "/v1/messages", everything.key, body, { "idempotency-key": "has space" });
      equal(bad.status, 400);
      equal(errorOf(bad).details?.field, "Idempotency-Key");
    });

    await t.step("over the rate limit: 429 with Retry-After", async () => {
      const slow = await makeKey({ scopes: ["messages:read"], rate_limit_per_minute: 3 });
      const message = `/v1/messages/${sent.id}`;
      // Near a minute's end the window could turn over between calls; start early in one.
      if (new Date().getSeconds() > 55) await new Promise((resolve) => setTimeout(resolve, 6000));
      for (let i = 0; i < 3; i++) equal((await v1("GET", message, slow.key)).status, 200);
      const over = await v1("GET", message, slow.key);
      equal(over.status, 429, JSON.stringify(over.json));
      equal(errorOf(over).code, "rate_limited");
      const retryAfter = Number(over.headers.get("retry-after"));
      ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      // A bulk call counts each message.
      const bulkKey = await makeKey({ scopes: ["messages:send"], rate_limit_per_minute: 2 });
      const bulk = await v1("POST", "/v1/messages/bulk", bulkKey.key, {
        messages: [1, 2, 3].map(() => ({ number_id: numberA, to: contact(), content: text("bulk") })),
      });
      equal(bulk.status, 429);
    });

    await t.step(
      "refusals: opt-out, closed window, takeover, unknown and unconnected numbers, bad content",
      async () => {
        const optedOut = contact();
        await db`
        insert into public.conversations (number_id, contact_wa_id, opted_out)
        values (${numberA}, ${optedOut.slice(1)}, true)`;
        const a = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: optedOut,
          content: text("x"),
        });
        equal(a.status, 422);
        equal(errorOf(a).code, "opted_out");
        equal(errorOf(a).details?.field, "to");

        const window = await v1("POST", "/v1/messages", everything.key, {
          number_id: cloud.id,
          to: contact(),
          content: text("free-form on the Cloud API, never written to"),
        });
        equal(window.status, 422, JSON.stringify(window.json));
        equal(errorOf(window).code, "window_closed");
        equal(errorOf(window).details?.field, "content");

        const human = contact();
        await db`
        insert into public.conversations (number_id, contact_wa_id, mode)
        values (${numberA}, ${human.slice(1)}, 'human')`;
        const takenOver = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: human,
          content: text("x"),
        });
        equal(takenOver.status, 409);
        equal(errorOf(takenOver).code, "conversation_taken_over");
        const override = await makeKey({ scopes: ["messages:send", "conversations:override_handoff"] });
        equal(
          (await v1("POST", "/v1/messages", override.key, {
            number_id: numberA,
            to: human,
            content: text("x"),
          })).status,
          202,
        );

        const unknown = await v1("POST", "/v1/messages", everything.key, {
          number_id: crypto.randomUUID(),
          to: contact(),
          content: text("x"),
        });
        equal(unknown.status, 404);
        equal(errorOf(unknown).code, "unknown_number");
        const unconnected = await v1("POST", "/v1/messages", everything.key, {
          number_id: offline,
          to: contact(),
          content: text("x"),
        });
        equal(unconnected.status, 409);
        equal(errorOf(unconnected).code, "number_not_connected");

        const longButton = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: contact(),
          content: {
            kind: "buttons",
            text: "Pick one",
            buttons: [{ id: "a", title: "A title far longer than twenty characters" }],
          },
        });
        equal(longButton.status, 422);
        equal(errorOf(longButton).code, "invalid_content");
        equal(errorOf(longButton).details?.field, "content.buttons[0].title");
        const badTo = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: "nope",
          content: text("x"),
        });
        equal(badTo.status, 400);
        equal(errorOf(badTo).details?.field, "to");
        const extra = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: contact(),
          content: text("x"),
          priority: "high",
        });
        equal(extra.status, 400);
        match(errorOf(extra).message, /unknown field/);
        // Nothing refused left a message behind.
        const [{ count }] = await db`
        select count(*)::int as count from public.messages
        where contact_wa_id in (${optedOut.slice(1)}) or (number_id = ${offline})`;
        equal(count, 0);
      },
    );

    await t.step("other kinds: an image by URL (fetched, checked, stored), a location, a list", async () => {
      const who = contact();
      const s3 = await startS3Server();
      const files = startTestServer(() =>
        new Response(TINY_PNG, { headers: { "content-type": "image/png" } })
      );
      const saved = Object.fromEntries(Object.keys(s3.env).map((name) => [name, Deno.env.get(name)]));
      try {
        for (const [name, value] of Object.entries(s3.env)) Deno.env.set(name, value);
        Deno.env.set("WABOT_OUTBOUND_ALLOW", "127.0.0.0/8");
        const image = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: who,
          content: { kind: "image", url: `${files.url}/dot.png`, caption: "Your receipt" },
        });
        equal(image.status, 202, JSON.stringify(image.json));
        const [row] = await db`select content from public.messages where id = ${image.json.id as string}`;
        const content = row.content as Record<string, unknown>;
        match(String(content.storage_key), /^uploads\//, "the file is stored; the daemon reads the bucket");
        equal(content.mime_type, "image/png");
        equal(content.url, undefined);
        const blocked = await v1("POST", "/v1/messages", everything.key, {
          number_id: numberA,
          to: who,
          content: { kind: "image", url: "http://169.254.169.254/latest/meta-data" },
        });
        equal(blocked.status, 422);
        equal(errorOf(blocked).details?.field, "content.url");
      } finally {
        Deno.env.delete("WABOT_OUTBOUND_ALLOW");
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) Deno.env.delete(name);
          else Deno.env.set(name, value);
        }
        await files.close();
        await s3.stop();
      }
      const first = await v1("POST", "/v1/messages", everything.key, {
        number_id: numberA,
        to: who,
        content: { kind: "location", latitude: 52.52, longitude: 13.405, name: "Depot" },
      });
      equal(first.status, 202, JSON.stringify(first.json));
      const list = await v1("POST", "/v1/messages", everything.key, {
        number_id: numberA,
        to: who,
        content: {
          kind: "list",
          text: "Choose a slot",
          button: "Slots",
          sections: [{ title: "Monday", rows: [{ id: "mon-9", title: "9:00" }] }],
        },
      });
      equal(list.status, 202, JSON.stringify(list.json));
    });

    await t.step("bulk: each message checked and reported on its own", async () => {
      const good = contact();
      const answer = await v1("POST", "/v1/messages/bulk", everything.key, {
        messages: [
          { number_id: numberA, to: good, content: text("one"), idempotency_key: `bulk-${good}` },
          { number_id: offline, to: contact(), content: text("two") },
          { number_id: numberB, to: good, content: text("three") },
        ],
      });
      equal(answer.status, 202, JSON.stringify(answer.json));
      const results = answer.json.results as Array<Record<string, unknown>>;
      deepStrictEqual(results.map((result) => result.status), ["queued", "refused", "queued"]);
      equal((results[1].error as { code: string }).code, "number_not_connected");
      equal((results[1].error as { details: { field: string } }).details.field, "messages[1].number_id");
      equal(answer.json.queued, 2);
      // The same bulk again: the first item replays by its idempotency_key.
      const again = await v1("POST", "/v1/messages/bulk", everything.key, {
        messages: [{ number_id: numberA, to: good, content: text("one"), idempotency_key: `bulk-${good}` }],
      });
      equal((again.json.results as Array<Record<string, unknown>>)[0].id, results[0].id);
      const tooMany = await v1("POST", "/v1/messages/bulk", everything.key, {
        messages: Array.from({ length: 101 }, () => ({ number_id: numberA, to: good, content: text("x") })),
      });
      equal(tooMany.status, 400);
      equal(errorOf(tooMany).details?.field, "messages");
    });

    await t.step("reads: a message, a conversation's messages in keyset pages, a contact", async () => {
      const read = await v1("GET", `/v1/messages/${sent.id}`, everything.key);
      equal(read.status, 200);
      equal(read.json.status, "queued");
      equal(read.json.api_key_id, everything.id);
      const conversation = sent.conversation_id as string;
      await v1("POST", "/v1/messages", everything.key, { number_id: numberA, to, content: text("second") });
      await v1("POST", "/v1/messages", everything.key, { number_id: numberA, to, content: text("third") });
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Answer = await v1(
          "GET",
          `/v1/conversations/${conversation}/messages?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`,
          everything.key,
        );
        equal(page.status, 200);
        walked.push(...(page.json.data as Array<{ id: string }>).map((message) => message.id));
        cursor = page.json.next_cursor as string | null;
      } while (cursor !== null && walked.length < 10);
      equal(walked.length, 3, "three messages, one a page");
      equal(walked.at(-1), sent.id, "newest first: the first send is last");
      const readConversation = await v1("GET", `/v1/conversations/${conversation}`, everything.key);
      equal(readConversation.status, 200);
      const person = await v1("GET", `/v1/contacts/${encodeURIComponent(to)}`, everything.key);
      equal(person.status, 200, JSON.stringify(person.json));
      equal(person.json.phone_number, to);
      equal((person.json.conversations as Array<{ id: string }>)[0].id, conversation);
      equal((await v1("GET", "/v1/contacts/+15550000000", everything.key)).status, 404);
    });

    await t.step("webhooks through the API key: its own subscriptions only", async () => {
      const created = await v1("POST", "/v1/webhooks", everything.key, {
        name: "crm",
        url: "https://crm.example.com/hooks/whatsapp",
        events: ["message.received", "message.delivered"],
      });
      // crm.example.com does not resolve here (no internet): the guard refuses what it cannot check.
      if (created.status === 400) {
        equal(errorOf(created).details?.field, "url");
      } else {
        equal(created.status, 201);
      }
      Deno.env.set("WABOT_OUTBOUND_ALLOW", "127.0.0.0/8");
      const local = await v1("POST", "/v1/webhooks", everything.key, {
        name: "local",
        url: "http://127.0.0.1:9/hook",
        events: ["message.received"],
      });
      equal(local.status, 201, JSON.stringify(local.json));
      match(local.json.secret as string, /^whsec_/);
      const id = local.json.id as string;
      equal(local.json.api_key_id, everything.id);
      const listed = await v1("GET", "/v1/webhooks", everything.key);
      ok((listed.json.data as Array<{ id: string }>).some((row) => row.id === id));
      const other = await makeKey({ scopes: ["webhooks:manage"] });
      equal((await v1("GET", `/v1/webhooks/${id}`, other.key)).status, 404, "another key does not see it");
      const limitedHooks = await makeKey({ scopes: ["webhooks:manage"], number_ids: [numberA] });
      const everyNumber = await v1("POST", "/v1/webhooks", limitedHooks.key, {
        name: "x",
        url: "http://127.0.0.1:9/x",
        events: ["message.received"],
      });
      equal(everyNumber.status, 403);
      equal(errorOf(everyNumber).code, "number_not_allowed");
      equal(
        (await v1("PATCH", `/v1/webhooks/${id}`, everything.key, { status: "paused" })).json.status,
        "paused",
      );
      equal((await v1("GET", `/v1/webhooks/${id}/deliveries`, everything.key)).status, 200);
      equal((await v1("DELETE", `/v1/webhooks/${id}`, everything.key)).status, 200);
      Deno.env.delete("WABOT_OUTBOUND_ALLOW");
    });

    await t.step(
      "the served OpenAPI document is docs/openapi-messages.json and lists every route",
      async () => {
        const { V1_ROUTES } = await import("../messages-api/routes.ts");
        const served = await v1("GET", "/v1/openapi.json", null);
        equal(served.status, 200);
        const checkedIn = JSON.parse(
          await Deno.readTextFile(new URL("docs/openapi-messages.json", REPO_ROOT)),
        );
        deepStrictEqual(
          served.json,
          checkedIn,
          "regenerate: deno run -A functions/messages-api/openapi.ts --write",
        );
        for (const route of V1_ROUTES) {
          ok(
            (checkedIn.paths[`/messages-api${route.path}`] ?? {})[route.method.toLowerCase()],
            `${route.method} ${route.path} is documented`,
          );
        }
        const integration = await Deno.readTextFile(new URL("docs/integration.md", REPO_ROOT));
        for (const route of V1_ROUTES) {
          ok(
            integration.includes(`${route.method} /v1${route.path.slice(3)}`),
            `docs/integration.md names ${route.method} ${route.path}`,
          );
        }
      },
    );

    await t.step("through the gateway: an API key passes the router, a missing one is 401", async () => {
      const gateway = await startGateway();
      gateways.push(gateway);
      const url = gateway.functionUrl("messages-api/v1/messages");
      const refused = await call(url, {
        method: "POST",
        body: { number_id: numberA, to: contact(), content: text("x") },
      });
      equal(refused.status, 401);
      equal((refused.json as { error: { code: string } }).error.code, "unauthorized");
      const accepted = await call(url, {
        method: "POST",
        token: everything.key,
        body: { number_id: numberA, to: contact(), content: text("through the gateway") },
      });
      equal(accepted.status, 202, accepted.text);
      notEqual((accepted.json as { id?: string }).id, undefined);
      const documentAnswer = await call(gateway.functionUrl("messages-api/v1/openapi.json"));
      equal(documentAnswer.status, 200);
    });
  } finally {
    for (const gateway of gateways) await gateway.stop();
    await db`delete from public.webhook_subscriptions where name in ('crm', 'local', 'x')`;
    await fixtures.cleanUp();
    await functionPool.end({ timeout: 5 });
    await db.end({ timeout: 5 });
  }
});
