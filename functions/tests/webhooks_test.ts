/**
 * Event webhooks end to end against the real local Postgres: events are
 * written by the tables' triggers, delivered by `webhook-dispatch` (called
 * in-process, and once through the outbox relay) to a local receiver, and
 * every delivery is verified with the published `standardwebhooks` npm
 * package, not with our own code.
 *
 * Shown: every event type delivered once and verified; a receiver down for
 * five minutes (the schedule is advanced rather than waited out: each
 * retry is made due at once, for the first four backoff steps, 5 s + 30 s
 * + 2 min + 5 min) gets every event afterwards, in order per
 * conversation, nothing lost; replay of one delivery and of a time range
 * redelivers; the last attempt dead-letters; a subscription failing long
 * enough is paused with a `webhook_paused` alert and resumes; the
 * outbound-URL guard refuses internal addresses at creation and at
 * delivery; no client role reads the secrets.
 */

import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Webhook } from "npm:standardwebhooks@1.3.0";

import {
  connectDb,
  createUsers,
  DB_URL,
  Fixtures,
  JWT_SECRET,
  RELAY_SECRET,
  startTestServer,
} from "./helpers.ts";

/**
 * `WABOT_WEBHOOK_REAL_OUTAGE_SECONDS=300` keeps the receiver down for that
 * long in real time (about 13 minutes in all) instead of advancing the
 * retry schedule; the default, 0, advances it.
 */
const REAL_OUTAGE_SECONDS = Number(Deno.env.get("WABOT_WEBHOOK_REAL_OUTAGE_SECONDS") ?? "0");

/** What the receiver got, verified. */
interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  timestamp: string;
  apiVersion: string;
}

Deno.test("event webhooks", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  Deno.env.set("SUPABASE_JWT_SECRET", JWT_SECRET);
  Deno.env.set("WABOT_OUTBOUND_ALLOW", "127.0.0.0/8");
  Deno.env.set("OUTBOX_RELAY_SECRET", RELAY_SECRET);
  const adminApi = (await import("../admin-api/index.ts")).default;
  const { dispatchDueDeliveries } = await import("../webhook-dispatch/index.ts");
  const { sql: functionPool } = await import("../_shared/db.ts");
  const fixtures = new Fixtures(db);

  // The receiver: verifies each request with standardwebhooks; answers
  // 503 while `down`.
  let secret = "";
  let down = false;
  const received: Received[] = [];
  const refusedWhileDown: string[] = [];
  const verifyFailures: string[] = [];
  const receiver = startTestServer((request) => {
    const headers = Object.fromEntries(request.headers.entries());
    if (down) {
      refusedWhileDown.push(headers["webhook-id"]);
      return new Response("down for maintenance", { status: 503 });
    }
    try {
      const payload = new Webhook(secret).verify(request.body, headers) as Record<string, unknown>;
      received.push({
        id: payload.id as string,
        type: payload.type as string,
        data: payload.data as Record<string, unknown>,
        timestamp: payload.timestamp as string,
        apiVersion: payload.api_version as string,
      });
      return new Response("ok");
    } catch (error) {
      verifyFailures.push(String(error));
      return new Response("bad signature", { status: 400 });
    }
  });

  const deliverAll = async () => {
    for (let round = 0; round < 20; round++) {
      const report = await dispatchDueDeliveries();
      if (report.claimed === 0) return;
    }
  };

  let subscriptionId = "";
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
    const numberId = await fixtures.number(null);

    await t.step("the outbound-URL guard refuses internal addresses when subscribing", async () => {
      for (const url of ["http://169.254.169.254/latest", "http://10.1.2.3/hook", "http://localhost/x"]) {
        const refused = await admin("POST", "/webhooks", { name: "bad", url, events: ["message.received"] });
        equal(refused.status, 400, `${url}: ${JSON.stringify(refused.json)}`);
        equal(refused.json.error.details.field, "url");
      }
    });

    const created = await admin("POST", "/webhooks", {
      name: "everything",
      url: `${receiver.url}/hooks`,
      events: [
        "message.received",
        "message.sent",
        "message.delivered",
        "message.read",
        "message.failed",
        "conversation.handoff",
        "conversation.closed",
        "session.status_changed",
        "alert.opened",
        "alert.resolved",
      ],
      number_ids: [numberId],
    });
    equal(created.status, 201, JSON.stringify(created.json));
    subscriptionId = created.json.id;
    secret = created.json.secret;

    const contactA = "15550101010";
    const contactB = "15550202020";
    const inbound = async (contact: string, body: string) => {
      const [row] = await db`
        insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
        values (${numberId}, 'inbound', ${contact}, ${crypto.randomUUID()}, ${body}, 'received') returning id`;
      return row.id as string;
    };

    await t.step("every event type is delivered once and verified by standardwebhooks", async () => {
      const receivedId = await inbound(contactA, "hello");
      const [conversation] = await db`
        insert into public.conversations (number_id, contact_wa_id) values (${numberId}, ${contactA})
        on conflict (number_id, contact_wa_id) do update set contact_wa_id = excluded.contact_wa_id returning id`;
      const outbound = async () => {
        const [row] = await db`
          insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
          values (${numberId}, ${conversation.id}, 'outbound', ${contactA}, 'hi', 'queued') returning id`;
        return row.id as string;
      };
      const shipped = await outbound();
      for (const status of ["sending", "sent", "delivered", "read"]) {
        await db`update public.messages set status = ${status}, wa_message_id = coalesce(wa_message_id, ${crypto.randomUUID()}) where id = ${shipped}`;
      }
      const failing = await outbound();
      await db`update public.messages set status = 'failed', error = 'rejected by WhatsApp' where id = ${failing}`;
      await db`update public.conversations set mode = 'human' where id = ${conversation.id}`;
      await db`update public.conversations set mode = 'closed' where id = ${conversation.id}`;
      await db`update public.numbers set session_status = 'connected' where id = ${numberId}`;
      const [alert] = await db`
        insert into public.alerts (kind, severity, number_id, dedupe_key, title)
        values ('number_disconnected', 'critical', ${numberId}, ${`test:${numberId}`}, 'gone') returning id`;
      await db`update public.alerts set status = 'resolved' where id = ${alert.id}`;

      await deliverAll();
      deepStrictEqual(verifyFailures, []);
      const types = received.map((event) => event.type);
      deepStrictEqual([...types].sort(), [
        "alert.opened",
        "alert.resolved",
        "conversation.closed",
        "conversation.handoff",
        "message.delivered",
        "message.failed",
        "message.read",
        "message.received",
        "message.sent",
        "session.status_changed",
      ]);
      equal(new Set(received.map((event) => event.id)).size, received.length, "each event once");
      for (const event of received) {
        match(event.id, /^evt_[0-9a-f]{32}$/);
        equal(event.apiVersion, "v1");
        ok(!Number.isNaN(Date.parse(event.timestamp)));
      }
      const byType = Object.fromEntries(received.map((event) => [event.type, event.data]));
      equal((byType["message.received"].message as { id: string }).id, receivedId);
      equal((byType["message.read"].message as { id: string }).id, shipped);
      equal((byType["message.failed"].message as { error: string }).error, "rejected by WhatsApp");
      equal((byType["conversation.handoff"].conversation as { mode: string }).mode, "human");
      equal(byType["session.status_changed"].status, "connected");
      equal((byType["alert.resolved"].alert as { id: string }).id, alert.id);
      // A message goes sent, delivered, read in that order (one conversation).
      const statusOrder = types.filter((type) =>
        ["message.sent", "message.delivered", "message.read"].includes(type)
      );
      deepStrictEqual(statusOrder, ["message.sent", "message.delivered", "message.read"]);
      const log = await admin("GET", `/webhooks/${subscriptionId}/deliveries?status=delivered&limit=200`);
      equal(log.json.data.length, 10);
    });

    await t.step(
      "a receiver down for five minutes gets every event afterwards, in order per conversation",
      async () => {
        received.length = 0;
        down = true;
        const sent: Record<string, string[]> = { [contactA]: [], [contactB]: [] };
        for (let i = 0; i < 6; i++) {
          const contact = i % 2 === 0 ? contactA : contactB;
          sent[contact].push(await inbound(contact, `while down ${i}`));
        }
        if (REAL_OUTAGE_SECONDS === 0) {
          // Four failed rounds: the backoff steps 5 s, 30 s, 2 min, 5 min (the
          // schedule made due at once instead of waited out).
          for (let round = 0; round < 4; round++) {
            await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
            await db`
            update public.webhook_deliveries set next_attempt_at = now()
            where subscription_id = ${subscriptionId} and status = 'pending'`;
          }
        } else {
          // In real time: the dispatcher woken every 5 s (as event doorbells
          // and the minutely tick would), the receiver down all along.
          const until = Date.now() + REAL_OUTAGE_SECONDS * 1000;
          while (Date.now() < until) {
            await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
        }
        ok(
          refusedWhileDown.length >= 8,
          `the receiver was tried while down (${refusedWhileDown.length} times)`,
        );
        const [waiting] = await db`
        select count(*)::int as pending, max(attempts) as attempts from public.webhook_deliveries
        where subscription_id = ${subscriptionId} and status = 'pending'`;
        equal(waiting.pending, 6, "nothing delivered, nothing dropped");
        if (REAL_OUTAGE_SECONDS === 0) {
          equal(waiting.attempts, 4, "only each conversation's oldest event was tried");
        }
        const [subscription] = await db`
        select status, consecutive_failures from public.webhook_subscriptions where id = ${subscriptionId}`;
        equal(subscription.status, "active", "five minutes of failures do not pause a subscription");

        down = false;
        if (REAL_OUTAGE_SECONDS === 0) {
          await deliverAll();
        } else {
          // The backoff's next step comes due by itself: wait for it, waking
          // the dispatcher every 5 s, and report how long catching up took.
          const upAt = Date.now();
          while (received.length < 6 && Date.now() - upAt < 11 * 60_000) {
            await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
          console.log(
            `real outage of ${REAL_OUTAGE_SECONDS} s: ${refusedWhileDown.length} attempts refused while down; ` +
              `every event in ${Math.round((Date.now() - upAt) / 1000)} s after the receiver came back`,
          );
        }
        deepStrictEqual(verifyFailures, []);
        for (const contact of [contactA, contactB]) {
          const got = received
            .filter((event) => (event.data.message as { contact_wa_id: string }).contact_wa_id === contact)
            .map((event) => (event.data.message as { id: string }).id);
          deepStrictEqual(got, sent[contact], `conversation ${contact}: every event, in order`);
        }
        equal(received.length, 6, "each event once");
        const [after] = await db`
        select consecutive_failures from public.webhook_subscriptions where id = ${subscriptionId}`;
        equal(after.consecutive_failures, 0, "a success resets the failure count");
      },
    );

    await t.step("replay: one delivery, and every event of a time range", async () => {
      received.length = 0;
      const log = await admin(
        "GET",
        `/webhooks/${subscriptionId}/deliveries?event_type=message.received&limit=1`,
      );
      const delivery = log.json.data[0];
      const replayed = await admin("POST", `/webhooks/${subscriptionId}/deliveries/${delivery.id}/replay`);
      equal(replayed.status, 202);
      await deliverAll();
      equal(received.length, 1);
      equal(received[0].id, delivery.event_id, "the same event id (webhook-id) again");
      received.length = 0;
      const range = await admin("POST", `/webhooks/${subscriptionId}/replay`, {
        since: new Date(Date.now() - 600_000).toISOString(),
        event_types: ["message.received"],
      });
      equal(range.status, 202);
      // The first step's message and the six sent while the receiver was down.
      equal(range.json.replayed, 7);
      await deliverAll();
      equal(received.length, range.json.replayed);
      ok(received.every((event) => event.type === "message.received"));
    });

    await t.step("the last attempt dead-letters; a dead letter can be replayed", async () => {
      down = true;
      const id = await inbound(contactB, "doomed");
      await db`
        update public.webhook_deliveries d set attempts = 9 from public.webhook_events e
        where e.id = d.event_id and d.subscription_id = ${subscriptionId} and e.data -> 'message' ->> 'id' = ${id}`;
      await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
      const dead = await admin("GET", `/webhooks/${subscriptionId}/deliveries?status=dead`);
      equal(dead.json.data.length, 1);
      const detail = await admin("GET", `/webhooks/${subscriptionId}/deliveries/${dead.json.data[0].id}`);
      equal(detail.json.status, "dead");
      equal(detail.json.attempts.at(-1).response_status, 503);
      equal(detail.json.attempts.at(-1).response_excerpt, "down for maintenance");
      down = false;
      received.length = 0;
      await admin("POST", `/webhooks/${subscriptionId}/deliveries/${dead.json.data[0].id}/replay`);
      await deliverAll();
      equal((received[0].data.message as { id: string }).id, id);
    });

    await t.step(
      "a subscription that keeps failing is paused, with an alert; resuming delivers the backlog",
      async () => {
        down = true;
        received.length = 0;
        await inbound(contactA, "before the pause");
        await db`
        update public.webhook_subscriptions
        set consecutive_failures = 9, failing_since = now() - interval '25 hours' where id = ${subscriptionId}`;
        await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
        const [paused] = await db`
        select status, paused_reason from public.webhook_subscriptions where id = ${subscriptionId}`;
        equal(paused.status, "paused");
        match(paused.paused_reason, /10 consecutive failed deliveries/);
        const [alert] = await db`
        select kind, severity, status, details from public.alerts
        where dedupe_key = ${`webhook_paused:${subscriptionId}`}`;
        equal(alert.kind, "webhook_paused");
        equal(alert.status, "open");
        // Paused: events still queue, nothing is sent.
        await db`update public.webhook_deliveries set next_attempt_at = now() where subscription_id = ${subscriptionId}`;
        await inbound(contactB, "during the pause");
        const report = await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
        equal(report.claimed, 0, "a paused subscription gets nothing");
        down = false;
        const resumed = await admin("PATCH", `/webhooks/${subscriptionId}`, { status: "active" });
        equal(resumed.json.status, "active");
        await deliverAll();
        const texts = received.map((event) => (event.data.message as { body?: string } | undefined)?.body)
          .filter(Boolean);
        ok(texts.includes("before the pause") && texts.includes("during the pause"), JSON.stringify(texts));
        const [resolved] = await db`
        select status from public.alerts where dedupe_key = ${`webhook_paused:${subscriptionId}`}`;
        equal(resolved.status, "resolved");
      },
    );

    await t.step("the guard refuses an internal address at delivery time too", async () => {
      const [sneaky] = await db`
        insert into public.webhook_subscriptions (name, url, events, number_ids)
        values ('sneaky', 'http://169.254.169.254/latest/meta-data', '{message.received}', ${[numberId]})
        returning id`;
      await db`
        insert into private.webhook_secrets (subscription_id, secret)
        values (${sneaky.id}, ${
        "whsec_" + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
      })`;
      await inbound(contactA, "to the metadata service?");
      await dispatchDueDeliveries({ timeBudgetMs: 10_000 });
      const [attempt] = await db`
        select a.error from public.webhook_delivery_attempts a
        join public.webhook_deliveries d on d.id = a.delivery_id where d.subscription_id = ${sneaky.id}`;
      match(attempt.error, /refused by the outbound-URL guard/);
      await db`delete from public.webhook_subscriptions where id = ${sneaky.id}`;
    });

    await t.step("the outbox relay hands topic webhook-dispatch to the dispatcher", async () => {
      received.length = 0;
      await inbound(contactB, "through the relay");
      const relay = (await import("../outbox-relay/index.ts")).default;
      const response = await relay.fetch(
        new Request("http://functions.local/outbox-relay", {
          method: "POST",
          headers: { authorization: `Bearer ${RELAY_SECRET}`, "content-type": "application/json" },
          body: JSON.stringify({ reason: "test" }),
        }),
      );
      equal(response.status, 200);
      const report = await response.json();
      ok(
        (report.rows as Array<{ topic: string; outcome: string }>).some((row) =>
          row.topic === "webhook-dispatch" && row.outcome === "delivered"
        ),
        JSON.stringify(report.rows),
      );
      ok(received.some((event) => (event.data.message as { body: string }).body === "through the relay"));
    });

    await t.step("no client role reads the signing secrets or another table's events", async () => {
      for (const role of ["anon", "authenticated"]) {
        await rejects(
          db.begin(async (tx) => {
            await tx.unsafe(`set local role ${role}`);
            await tx`select secret from private.webhook_secrets`;
          }),
          /permission denied/,
          role,
        );
      }
      const viewer = await adminApi.fetch(
        new Request(`http://functions.local/admin-api/webhooks/${subscriptionId}/deliveries`, {
          headers: { authorization: `Bearer ${users.viewer.token}` },
        }),
      );
      equal(viewer.status, 403);
    });
  } finally {
    if (subscriptionId !== "") {
      await db`delete from public.webhook_subscriptions where id = ${subscriptionId}`;
    }
    await db`delete from public.alerts where dedupe_key = ${`webhook_paused:${subscriptionId}`}`;
    await db`delete from public.outbox where topic = 'webhook-dispatch'`;
    await receiver.close();
    await fixtures.cleanUp();
    await functionPool.end({ timeout: 5 });
    await db.end({ timeout: 5 });
  }
});
