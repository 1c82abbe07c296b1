/**
 * The Cloud API's 24-hour customer-service window, end to end: the admin
 * API refuses a free-form agent send outside it before anything is queued
 * (422 `window_closed` naming the template path), allows an approved
 * template with the right parameters, and the database refuses a direct
 * insert of its own (SQLSTATE WA024). WhatsApp Web and the simulator have
 * no window. The real gateway, function and local Postgres.
 */

import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";

import {
  call,
  type CallResult,
  connectDb,
  createUsers,
  Fixtures,
  type Gateway,
  randomPhoneNumber,
  startGateway,
} from "./helpers.ts";

function errorOf(
  result: CallResult,
): { code: string; message: string; details: Record<string, unknown> | null } {
  return (result.json as {
    error: { code: string; message: string; details: Record<string, unknown> | null };
  })
    .error;
}

Deno.test("the 24-hour window: free-form sends refused outside it, templates allowed", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  try {
    const users = await createUsers(db);
    gateway = await startGateway();
    const url = (path: string) => gateway!.functionUrl(`admin-api${path}`);

    /** A number of `transport` with a taken-over conversation whose contact last wrote `hoursAgo` ago. */
    const conversationOn = async (transport: "cloud" | "simulator", hoursAgo: number | null) => {
      const [number] = await db`
        insert into public.numbers (phone_number, label, transport)
        values (${randomPhoneNumber()}, 'window test', ${transport}) returning id`;
      fixtures.trackNumber(number.id);
      const contact = `1555${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
      if (hoursAgo !== null) {
        await db`
          insert into public.messages
            (number_id, direction, contact_wa_id, wa_message_id, body, status, created_at)
          values (${number.id}, 'inbound', ${contact}, ${crypto.randomUUID()}, 'hi', 'received',
                  now() - make_interval(hours => ${hoursAgo}))`;
      }
      const [conversation] = await db`
        insert into public.conversations (number_id, contact_wa_id, mode)
        values (${number.id}, ${contact}, 'human') returning id`;
      return { numberId: number.id as string, contact, conversationId: conversation.id as string };
    };
    const send = (conversationId: string, body: unknown) =>
      call(url(`/conversations/${conversationId}/messages`), {
        method: "POST",
        token: users.operator.token,
        body,
      });
    const queued = async (conversationId: string) =>
      Number(
        (await db`select count(*)::int as n from public.messages
                  where conversation_id = ${conversationId} and direction = 'outbound'`)[0].n,
      );
    const approve = async (numberId: string, status = "APPROVED") => {
      await db`
        insert into public.message_templates
          (number_id, waba_id, template_id, name, language, status, category, components, parameter_spec)
        values (${numberId}, '102290129340398', '1234567890', 'order_update', 'en_US', ${status}, 'UTILITY',
                ${db.json([{ type: "BODY", text: "Hi {{1}}, order {{2}} shipped." }])},
                ${db.json([{ type: "body", parameters: 2, parameter_type: "text" }])})`;
    };
    const template = (parameters: number) => ({
      kind: "template",
      name: "order_update",
      language: "en_US",
      components: [{
        type: "body",
        parameters: Array.from({ length: parameters }, (_, index) => ({ type: "text", text: `v${index}` })),
      }],
    });

    const closed = await conversationOn("cloud", 25);
    await t.step("the conversation shows its window: closed 1 hour ago", async () => {
      const result = await call(url(`/conversations/${closed.conversationId}`), {
        token: users.viewer.token,
      });
      equal(result.status, 200, result.text);
      const conversation = result.json as Record<string, unknown>;
      equal(conversation.window_applies, true);
      equal(conversation.window_open, false);
      const closesAt = Date.parse(String(conversation.window_closes_at));
      ok(
        Math.abs(closesAt - (Date.now() - 3600_000)) < 120_000,
        `closes at ${conversation.window_closes_at}`,
      );
      equal(Date.parse(String(conversation.last_inbound_at)) + 24 * 3600_000, closesAt);
    });

    await t.step(
      "a free-form send outside the window is 422 window_closed, naming the template path",
      async () => {
        for (
          const body of [{ body: "Are you still there?" }, {
            content: { kind: "image", url: "https://example.com/a.png" },
          }]
        ) {
          const result = await send(closed.conversationId, body);
          equal(result.status, 422, result.text);
          const error = errorOf(result);
          equal(error.code, "window_closed");
          equal(error.details?.field, "content");
          match(error.message, /the 24-hour window closed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
          match(error.message, /send a template: content\.kind = "template"/);
        }
        equal(await queued(closed.conversationId), 0, "nothing was queued");
      },
    );

    await t.step("a template needs an approved template of the number and its parameters", async () => {
      const unknown = await send(closed.conversationId, { content: template(2) });
      equal(unknown.status, 422, unknown.text);
      equal(errorOf(unknown).code, "template_not_approved");
      equal(errorOf(unknown).details?.field, "content.name");
      await approve(closed.numberId, "PENDING");
      const pending = await send(closed.conversationId, { content: template(2) });
      equal(pending.status, 422, pending.text);
      match(errorOf(pending).message, /is PENDING, not APPROVED/);
      await db`update public.message_templates set status = 'APPROVED' where number_id = ${closed.numberId}`;
      const short = await send(closed.conversationId, { content: template(1) });
      equal(short.status, 422, short.text);
      equal(errorOf(short).code, "template_parameters");
      equal(errorOf(short).details?.field, "content.components[0].parameters");
      match(errorOf(short).message, /takes 2 parameter\(s\); 1 given/);
      const none = await send(closed.conversationId, { content: { ...template(0), components: [] } });
      equal(none.status, 422, none.text);
      equal(errorOf(none).details?.field, "content.components");
      equal(await queued(closed.conversationId), 0, "nothing was queued");
    });

    await t.step("an approved template with its parameters is allowed outside the window", async () => {
      const result = await send(closed.conversationId, { content: template(2) });
      equal(result.status, 201, result.text);
      equal((result.json as { type: string }).type, "template");
      deepStrictEqual((result.json as { content: unknown }).content, template(2));
    });

    await t.step(
      "inside the window free-form and templates are allowed; a new inbound renews it",
      async () => {
        const open = await conversationOn("cloud", 2);
        const text = await send(open.conversationId, { body: "Sure, one moment" });
        equal(text.status, 201, text.text);
        await approve(open.numberId);
        const viaTemplate = await send(open.conversationId, { content: template(2) });
        equal(viaTemplate.status, 201, viaTemplate.text);
        // The closed conversation's contact writes again: the window reopens.
        await db`
        insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
        values (${closed.numberId}, 'inbound', ${closed.contact}, ${crypto.randomUUID()}, 'back', 'received')`;
        const reopened = await send(closed.conversationId, { body: "Welcome back" });
        equal(reopened.status, 201, reopened.text);
      },
    );

    await t.step("WhatsApp Web and the simulator have no window", async () => {
      const simulator = await conversationOn("simulator", 48);
      const result = await send(simulator.conversationId, { body: "No window here" });
      equal(result.status, 201, result.text);
      const conversation = await call(url(`/conversations/${simulator.conversationId}`), {
        token: users.viewer.token,
      });
      equal((conversation.json as { window_applies: boolean }).window_applies, false);
      equal((conversation.json as { window_open: boolean }).window_open, true);
      // Templates are a Cloud API feature: elsewhere none needs syncing.
      const templateElsewhere = await send(simulator.conversationId, { content: template(2) });
      equal(templateElsewhere.status, 201, templateElsewhere.text);
    });

    await t.step(
      "the database refuses a direct free-form insert outside the window (SQLSTATE WA024)",
      async () => {
        const never = await conversationOn("cloud", null);
        for (const target of [closed, never]) {
          if (target === closed) {
            await db`update public.conversations set last_inbound_at = now() - interval '30 hours'
                   where id = ${closed.conversationId}`;
          }
          await rejects(
            db`insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
             values (${target.numberId}, ${target.conversationId}, 'outbound', ${target.contact}, 'hi', 'queued')`,
            (error: { code?: string; message?: string }) => {
              equal(error.code, "WA024");
              match(String(error.message), /24-hour customer-service window|24-hour window/);
              match(String(error.message), /content\.kind = "template"/);
              return true;
            },
          );
        }
        // A template is accepted by the database too.
        await db`
        insert into public.messages (number_id, conversation_id, direction, contact_wa_id, content, status)
        values (${never.numberId}, ${never.conversationId}, 'outbound', ${never.contact},
                ${db.json(template(2))}, 'queued')`;
      },
    );
  } finally {
    await gateway?.stop();
    await fixtures.cleanUp();
    await db.end({ timeout: 5 });
  }
});
