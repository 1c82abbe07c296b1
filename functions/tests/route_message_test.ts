/**
 * End-to-end tests of `route-message` through the local gateway serving the
 * repository's `supabase/config.toml`, against the real local Postgres
 * (`SUPABASE_DB_URL`, default 127.0.0.1:54322) and the real Wasm routing.
 *
 * The steps that need the database fail one step ("the local database is
 * reachable") and are reported as ignored when it is down.
 */

import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";

import { call, connectDb, Fixtures, type Gateway, mintJwt, startGateway, unsignedJwt } from "./helpers.ts";

/** A new-style secret key, as hosted projects inject it in SUPABASE_SECRET_KEYS. */
const SECRET_KEY = `sb_secret_${crypto.randomUUID().replaceAll("-", "")}`;

/** A definition the routing rejects: its trigger starts at a node that does not exist. */
const INVALID_DEFINITION = {
  format: 1,
  name: "Broken bot",
  triggers: [{ match: "keyword", value: "hi", start: "nowhere" }],
  nodes: [{ id: "only", type: "end" }],
};

Deno.test("route-message", async (t) => {
  let gateway: Gateway | null = null;
  const { db, error: dbError } = await connectDb();
  const fixtures = db === null ? null : new Fixtures(db);
  try {
    gateway = await startGateway({ env: { SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) } });
    const url = gateway.functionUrl("route-message");
    const serviceRoleToken = await mintJwt("service_role");

    await t.step("an sb_secret_… key from SUPABASE_SECRET_KEYS is accepted as the service role", async () => {
      const result = await call(url, { token: SECRET_KEY, body: { message_id: "42" } });
      equal(result.status, 400, `authenticated, then the body is checked: ${result.text}`);
      const unknown = await call(url, { token: `sb_secret_${"0".repeat(32)}`, body: { message_id: "42" } });
      equal(unknown.status, 401, unknown.text);
      const none = await call(url, { body: { message_id: "42" } });
      equal(none.status, 401, none.text);
    });

    await t.step(
      "a forged service_role token (unsigned, or signed with another secret) is refused",
      async () => {
        const unsigned = await call(url, {
          token: unsignedJwt({ role: "service_role", exp: Math.floor(Date.now() / 1000) + 600 }),
          body: { message_id: "42" },
        });
        equal(unsigned.status, 401, unsigned.text);
        const wrongSecret = await call(url, {
          token: await mintJwt("service_role", { secret: "another-secret-with-at-least-32-characters!!" }),
          body: { message_id: "42" },
        });
        equal(wrongSecret.status, 401, wrongSecret.text);
      },
    );

    await t.step("an anon-role JWT is refused with 403", async () => {
      const result = await call(url, {
        token: await mintJwt("anon"),
        body: { outbox_id: 1, message_id: crypto.randomUUID() },
      });
      equal(result.status, 403, result.text);
    });

    await t.step("an authenticated user's JWT is refused with 403", async () => {
      const result = await call(url, {
        token: await mintJwt("authenticated", { claims: { sub: crypto.randomUUID() } }),
        body: { outbox_id: 1, message_id: crypto.randomUUID() },
      });
      equal(result.status, 403, result.text);
    });

    await t.step("a malformed body is a 400", async () => {
      const notJson = await call(url, { token: serviceRoleToken, body: "{not json" });
      equal(notJson.status, 400, notJson.text);
      const badId = await call(url, { token: serviceRoleToken, body: { message_id: "42" } });
      equal(badId.status, 400, badId.text);
      match(String((badId.json as Record<string, unknown>).error), /message_id/);
    });

    await t.step("the local database is reachable", () => {
      ok(db !== null, `${dbError}\nStart the local stack; the database steps below are skipped.`);
    });
    const needsDb = db === null || fixtures === null;

    await t.step({
      name: "a reaction is kept but gets no reply; a button tap routes by its id",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot (reactions and taps)");
        await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const waId = `+4916${Math.floor(Math.random() * 1e9)}`;
        const send = async (type: string, body: string, payload: Record<string, unknown>) => {
          const [message] = await sql`
            insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status, type, payload)
            values (${numberId}, 'inbound', ${waId}, ${crypto.randomUUID()}, ${body}, 'received', ${type},
                    ${sql.json(payload as never)})
            returning id`;
          const [outbox] =
            await sql`select id from public.outbox where payload ->> 'message_id' = ${message.id}`;
          const routed = await call(url, {
            token: serviceRoleToken,
            body: { outbox_id: Number(outbox.id), message_id: message.id },
          });
          equal(routed.status, 200, routed.text);
          const replies = await sql`
            select body from public.messages where in_reply_to = ${message.id} order by reply_index`;
          return { result: routed.json as { replies: number; skipped?: string }, replies };
        };
        const greeting = await send("text", "hi", {});
        ok(greeting.replies.length >= 1, "the demo bot greets and shows its menu");
        const reaction = await send("reaction", "\u{1f44d}", {
          cloud_type: "reaction",
          reaction: { message_id: "wamid.REACTED", emoji: "\u{1f44d}" },
        });
        equal(reaction.result.replies, 0);
        equal((reaction.result as { outcome?: string }).outcome, "ignored:reaction");
        equal(reaction.replies.length, 0, "no fallback reply to a reaction");
        // A tapped button's title is not a menu key; its id is.
        const tap = await send("interactive", "Opening hours", { cloud_type: "interactive", reply_id: "1" });
        equal(tap.replies.length, 1, JSON.stringify(tap.replies));
        match(tap.replies[0].body, /open Monday to Friday/);
      },
    });

    await t.step({
      name:
        "content in, content out: a list pick routes by its id; a changed number moves the contact and sends nothing to the old one",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot (content)");
        await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const oldWaId = `4917${Math.floor(1e8 + Math.random() * 8e8)}`;
        const newWaId = `4915${Math.floor(1e8 + Math.random() * 8e8)}`;
        const send = async (content: Record<string, unknown>) => {
          const [message] = await sql`
            insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, status, content)
            values (${numberId}, 'inbound', ${oldWaId}, ${crypto.randomUUID()}, 'received',
                    ${sql.json(content as never)})
            returning id`;
          const [outbox] =
            await sql`select id from public.outbox where payload ->> 'message_id' = ${message.id}`;
          const routed = await call(url, {
            token: serviceRoleToken,
            body: { outbox_id: Number(outbox.id), message_id: message.id },
          });
          equal(routed.status, 200, routed.text);
          const replies = await sql`
            select type, body, content from public.messages where in_reply_to = ${message.id} order by reply_index`;
          return { result: routed.json as Record<string, unknown>, replies };
        };
        const greeting = await send({ kind: "text", text: "hi" });
        ok(greeting.replies.length >= 1);
        equal(greeting.replies[0].content.kind, "text", "replies are stored as content");
        equal(greeting.replies[0].type, "text");
        equal(
          greeting.replies[0].body,
          greeting.replies[0].content.text,
          "the body is the content's summary",
        );
        // A list pick whose title is not a menu key: its id is.
        const pick = await send({ kind: "list_reply", id: "2", title: "Where are you?" });
        equal(pick.replies.length, 1, JSON.stringify(pick.replies));
        match(pick.replies[0].body, /Rua|street|address|Avenue|find us/i);
        // A queued reply that has not gone out yet, then the number change.
        await sql`
          insert into public.messages (number_id, direction, contact_wa_id, status, content)
          values (${numberId}, 'outbound', ${oldWaId}, 'queued', ${
          sql.json({ kind: "text", text: "later" })
        })`;
        const change = await send({
          kind: "system",
          system_type: "user_changed_number",
          text: "Ada changed their phone number",
          new_wa_id: newWaId,
        });
        equal(change.result.skipped, "number_changed");
        equal(change.replies.length, 0, "nothing answers the notice");
        const [moved] = await sql`
          select count(*)::int as n from public.conversations where number_id = ${numberId} and contact_wa_id = ${newWaId}`;
        equal(moved.n, 1, "the conversation has the new id");
        const [left] = await sql`
          select count(*)::int as n from public.messages
          where number_id = ${numberId} and contact_wa_id = ${oldWaId} and direction = 'outbound' and status = 'queued'`;
        equal(left.n, 0, "nothing is left queued for the old number");
      },
    });

    await t.step({
      name:
        "on a Cloud API number whose 24-hour window closed before routing, free-form replies are held back",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot (late routing)");
        await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        await sql`update public.numbers set transport = 'cloud' where id = ${numberId}`;
        const waId = `4916${Math.floor(1e8 + Math.random() * 8e8)}`;
        const [message] = await sql`
          insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, status, content, created_at)
          values (${numberId}, 'inbound', ${waId}, ${crypto.randomUUID()}, 'received',
                  ${sql.json({ kind: "text", text: "hi" })}, now() - interval '25 hours')
          returning id`;
        const routed = await call(url, { token: serviceRoleToken, body: { message_id: message.id } });
        equal(routed.status, 200, routed.text);
        const body = routed.json as { replies: number; held_back_window_closed?: number };
        equal(body.replies, 0);
        ok((body.held_back_window_closed ?? 0) >= 1, routed.text);
        const [queued] =
          await sql`select count(*)::int as n from public.messages where in_reply_to = ${message.id}`;
        equal(queued.n, 0, "nothing is queued to fail with 131047");
        const [alert] = await sql`
          select count(*)::int as n from public.alerts where dedupe_key = ${`window_closed:${message.id}`}`;
        equal(alert.n, 1, "the team is told");
      },
    });

    await t.step({
      name: "an unknown message id is a 404",
      ignore: needsDb,
      fn: async () => {
        const messageId = crypto.randomUUID();
        const result = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: 1, message_id: messageId },
        });
        equal(result.status, 404, result.text);
        deepStrictEqual(result.json, { error: `unknown inbound message ${messageId}` });
      },
    });

    await t.step({
      name: "an inbound message is routed once, its replies queued in order",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot (deno test)");
        const firstVersionId = await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const contact = { waId: `+4915${Math.floor(Math.random() * 1e9)}`, name: "Ada" };
        const first = await fixtures!.inbound(numberId, "hi", contact);

        const routed = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: first.outboxId, message_id: first.messageId },
        });
        equal(routed.status, 200, routed.text);
        const result = routed.json as { replies: number; outcome: string };
        ok(result.replies >= 1, `the demo bot answers "hi": ${routed.text}`);
        equal(typeof result.outcome, "string");

        const replies = await sql`
          select direction, status, body, reply_index, number_id, conversation_id, contact_wa_id
          from public.messages where in_reply_to = ${first.messageId} order by reply_index`;
        equal(replies.length, result.replies);
        replies.forEach((reply, index) => {
          equal(reply.direction, "outbound");
          equal(reply.status, "queued");
          equal(reply.reply_index, index);
          equal(reply.number_id, numberId);
          equal(reply.contact_wa_id, contact.waId);
          ok(reply.body.length > 0, "replies have text");
        });

        const [inbound] = await sql`
          select routed_at, conversation_id from public.messages where id = ${first.messageId}`;
        notEqual(inbound.routed_at, null);
        notEqual(inbound.conversation_id, null);
        equal(replies[0].conversation_id, inbound.conversation_id);
        const [conversation] = await sql`
          select bot_version_id, flow_state, contact_name from public.conversations
          where id = ${inbound.conversation_id}`;
        equal(conversation.bot_version_id, firstVersionId);
        equal(conversation.contact_name, "Ada");

        // A redelivery of the same outbox row writes nothing.
        const again = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: first.outboxId, message_id: first.messageId },
        });
        equal(again.status, 200, again.text);
        deepStrictEqual(again.json, { duplicate: true, replies: result.replies });
        const [{ n_replies }] = await sql`
          select count(*)::int as n_replies from public.messages where in_reply_to = ${first.messageId}`;
        equal(n_replies, result.replies);

        // A new published version does not move the running conversation.
        await sql`update public.bot_versions set status = 'archived' where id = ${firstVersionId}`;
        await fixtures!.botVersion(botId, 2, {
          ...await Fixtures.demoBotDefinition(),
          name: "Demo bot v2",
        });
        const second = await fixtures!.inbound(numberId, "1", contact);
        const followUp = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: second.outboxId, message_id: second.messageId },
        });
        equal(followUp.status, 200, followUp.text);
        const [stillOnFirst] = await sql`
          select bot_version_id from public.conversations where id = ${inbound.conversation_id}`;
        equal(stillOnFirst.bot_version_id, firstVersionId);
        const [secondInbound] = await sql`
          select conversation_id, routed_at from public.messages where id = ${second.messageId}`;
        equal(secondInbound.conversation_id, inbound.conversation_id);
        notEqual(secondInbound.routed_at, null);

        // A conversation a human took over gets no bot replies.
        await sql`update public.conversations set mode = 'human' where id = ${inbound.conversation_id}`;
        const third = await fixtures!.inbound(numberId, "hi", contact);
        const skipped = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: third.outboxId, message_id: third.messageId },
        });
        equal(skipped.status, 200, skipped.text);
        const silent = skipped.json as { replies: number; outcome: string; version_reason: string };
        deepStrictEqual([silent.replies, silent.outcome, silent.version_reason], [
          0,
          "silent:handoff",
          "existing_conversation",
        ]);
        const [thirdInbound] = await sql`
          select routed_at, conversation_id from public.messages where id = ${third.messageId}`;
        notEqual(thirdInbound.routed_at, null);
        equal(thirdInbound.conversation_id, inbound.conversation_id);
      },
    });

    await t.step({
      name: "an opt-out is stored on the conversation and silences the bot until an opt-in",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot, opt-out (deno test)");
        await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const contact = { waId: `+4916${Math.floor(Math.random() * 1e9)}`, name: null };
        const send = async (text: string) => {
          const inbound = await fixtures!.inbound(numberId, text, contact);
          const result = await call(url, {
            token: serviceRoleToken,
            body: { outbox_id: inbound.outboxId, message_id: inbound.messageId },
          });
          equal(result.status, 200, result.text);
          const [conversation] = await sql`
            select opted_out from public.conversations where number_id = ${numberId}`;
          return {
            ...(result.json as { replies: number; outcome: string }),
            optedOut: conversation.opted_out,
          };
        };
        const stopped = await send("STOP");
        deepStrictEqual([stopped.outcome, stopped.optedOut], ["opt_out", true]);
        const ignored = await send("hi");
        deepStrictEqual([ignored.replies, ignored.outcome, ignored.optedOut], [0, "silent:opted_out", true]);
        const back = await send("START");
        deepStrictEqual([back.outcome, back.optedOut], ["opt_in", false]);
        const greeted = await send("hi");
        ok(greeted.replies >= 1, JSON.stringify(greeted));
      },
    });

    await t.step({
      name: "a canary at 100% takes new conversations and leaves running ones alone",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("demo bot, canary (deno test)");
        const publishedId = await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const route = async (waId: string) => {
          const inbound = await fixtures!.inbound(numberId, "hi", { waId, name: null });
          const result = await call(url, {
            token: serviceRoleToken,
            body: { outbox_id: inbound.outboxId, message_id: inbound.messageId },
          });
          equal(result.status, 200, result.text);
          return result.json as { version_id: string; version_reason: string };
        };
        const before = await route("+15550004441");
        deepStrictEqual([before.version_id, before.version_reason], [publishedId, "published"]);
        const canaryId = await fixtures!.botVersion(botId, 2, {
          ...await Fixtures.demoBotDefinition(),
          name: "Demo bot canary",
        }, "draft");
        await sql`
          update public.bots set canary_version_id = ${canaryId}, canary_share_percent = 100 where id = ${botId}`;
        const fresh = await route("+15550004442");
        deepStrictEqual([fresh.version_id, fresh.version_reason], [canaryId, "canary"]);
        const running = await route("+15550004441");
        deepStrictEqual([running.version_id, running.version_reason], [publishedId, "existing_conversation"]);
      },
    });

    await t.step({
      name: "concurrent deliveries of one message route it exactly once",
      ignore: needsDb,
      fn: async () => {
        const botId = await fixtures!.bot("demo bot, concurrent (deno test)");
        await fixtures!.botVersion(botId, 1, await Fixtures.demoBotDefinition());
        const numberId = await fixtures!.number(botId);
        const inbound = await fixtures!.inbound(numberId, "hello", { waId: "+15550003333", name: null });
        const body = { outbox_id: inbound.outboxId, message_id: inbound.messageId };
        const results = await Promise.all(
          [1, 2, 3].map(() => call(url, { token: serviceRoleToken, body })),
        );
        for (const result of results) equal(result.status, 200, result.text);
        const bodies = results.map((result) => result.json as { replies: number; duplicate?: boolean });
        equal(bodies.filter((body) => body.duplicate !== true).length, 1, JSON.stringify(bodies));
        const replies = bodies[0].replies;
        ok(bodies.every((body) => body.replies === replies), JSON.stringify(bodies));
        const [{ n_replies }] = await db!`
          select count(*)::int as n_replies from public.messages where in_reply_to = ${inbound.messageId}`;
        equal(n_replies, replies);
      },
    });

    await t.step({
      name: "a number without a bot marks the message routed with no replies",
      ignore: needsDb,
      fn: async () => {
        const numberId = await fixtures!.number(null);
        const inbound = await fixtures!.inbound(numberId, "hello?", { waId: "+15550001111", name: null });
        const result = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: inbound.outboxId, message_id: inbound.messageId },
        });
        equal(result.status, 200, result.text);
        deepStrictEqual(result.json, { replies: 0, skipped: "no_bot" });
        const [row] = await db!`select routed_at from public.messages where id = ${inbound.messageId}`;
        notEqual(row.routed_at, null);
      },
    });

    await t.step({
      name: "an invalid bot definition is a 422 and leaves the message unrouted",
      ignore: needsDb,
      fn: async () => {
        const sql = db!;
        const botId = await fixtures!.bot("broken bot (deno test)");
        await fixtures!.botVersion(botId, 1, INVALID_DEFINITION);
        const numberId = await fixtures!.number(botId);
        const inbound = await fixtures!.inbound(numberId, "hi", { waId: "+15550002222", name: "Bob" });

        const result = await call(url, {
          token: serviceRoleToken,
          body: { outbox_id: inbound.outboxId, message_id: inbound.messageId },
        });
        equal(result.status, 422, result.text);
        const error = (result.json as Record<string, unknown>).error;
        ok(typeof error === "string" && error.length > 0, result.text);

        const [row] = await sql`
          select routed_at, conversation_id from public.messages where id = ${inbound.messageId}`;
        equal(row.routed_at, null);
        equal(row.conversation_id, null);
        const [{ n_replies }] = await sql`
          select count(*)::int as n_replies from public.messages where in_reply_to = ${inbound.messageId}`;
        equal(n_replies, 0);
        const [{ n_conversations }] = await sql`
          select count(*)::int as n_conversations from public.conversations where number_id = ${numberId}`;
        equal(n_conversations, 0, "the conversation insert rolled back");
      },
    });
  } finally {
    await gateway?.stop();
    await fixtures?.cleanUp();
    await db?.end({ timeout: 5 });
  }
});
