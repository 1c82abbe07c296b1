/**
 * Alert delivery end to end: an alert inserted into the database reaches a
 * local test receiver through the outbox, the `outbox-relay` function and
 * `alert-dispatch` (real Postgres, real Wasm plan), signed so the receiver
 * can verify it; the same event twice notifies once; a failing receiver
 * gets retries, then the row is a dead letter the admin API shows, and a
 * retry from the admin API delivers it. Slack and WhatsApp channels too.
 *
 * Each channel listens to one alert kind of its own (`kinds`), so alerts
 * from other tests never reach it, and each is new, so its digest window is
 * quiet and the first event goes out at once.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  connectDb,
  createUsers,
  type Db,
  Fixtures,
  type Gateway,
  RELAY_SECRET,
  startGateway,
  startTestServer,
  type TestServer,
} from "./helpers.ts";

/** Lowercase hex HMAC-SHA256, as a receiver computes it. */
async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(signature)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Verifies a webhook request as docs/api.md tells receivers to. */
async function verifySignature(request: TestServer["requests"][number], secret: string): Promise<void> {
  const timestamp = request.headers.get("x-wabot-timestamp");
  const signature = request.headers.get("x-wabot-signature");
  ok(timestamp !== null && /^[0-9]+$/.test(timestamp), `timestamp header: ${timestamp}`);
  ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, "the timestamp is fresh (replay window)");
  equal(signature, `v1=${await hmacHex(secret, `${timestamp}.${request.body}`)}`, "the signature verifies");
  equal(request.headers.get("content-type"), "application/json");
  ok(request.headers.get("x-wabot-notification-id"), "the notification id is sent for idempotency");
}

/** A kind of alert only this run uses. */
function uniqueKind(name: string): string {
  return `deno_${name}_${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`;
}

async function createChannel(
  db: Db,
  options: {
    kind: "webhook" | "slack" | "whatsapp";
    target: string;
    alertKind: string;
    secret?: string;
    sender?: string;
  },
): Promise<string> {
  const [channel] = await db`
    insert into public.alert_channels (name, kind, target, min_severity, kinds, sender_number_id)
    values (${`deno ${options.kind} ${options.alertKind}`}, ${options.kind}, ${options.target}, 'info',
            ${[options.alertKind]}, ${options.sender ?? null})
    returning id`;
  if (options.secret !== undefined) {
    await db`insert into public.alert_channel_secrets (channel_id, signing_secret) values (${channel.id}, ${options.secret})`;
  }
  return channel.id;
}

/** Inserts an alert; returns its id and the id of the outbox row its trigger wrote. */
async function insertAlert(
  db: Db,
  kind: string,
  numberId: string | null,
): Promise<{ alertId: string; outboxId: number }> {
  const [alert] = await db`
    insert into public.alerts (kind, severity, number_id, dedupe_key, title, details)
    values (${kind}, 'critical', ${numberId}, ${`deno:${kind}`}, ${`${kind} (deno test)`},
            ${db.json({ detail: "disconnected for 300 s (limit 120 s)", subject: "+15550001234 (deno)" })})
    returning id`;
  const [row] = await db`
    select id from public.outbox
    where topic = 'alert-dispatch' and payload -> 'record' ->> 'id' = ${alert.id} and payload ->> 'type' = 'INSERT'`;
  return { alertId: alert.id, outboxId: Number(row.id) };
}

Deno.test("alert dispatch", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  const servers: TestServer[] = [];
  const channelIds: string[] = [];
  const alertIds: string[] = [];
  try {
    gateway = await startGateway({ env: { OUTBOX_RELAY_SECRET: RELAY_SECRET } });
    const relay = async () => {
      const result = await call(gateway!.functionUrl("outbox-relay"), {
        token: RELAY_SECRET,
        body: { max_rows: 5000 },
      });
      equal(result.status, 200, result.text);
      return result.json as {
        rows: Array<{ id: number; outcome: string; attempts: number; error?: string }>;
      };
    };
    const dispatch = (body: unknown) =>
      call(gateway!.functionUrl("alert-dispatch"), { token: RELAY_SECRET, body });

    const secret = "deno-test-webhook-signing-secret-0123";
    const receiver = startTestServer(() => Response.json({ ok: true }));
    servers.push(receiver);
    const kind = uniqueKind("webhook");
    channelIds.push(
      await createChannel(db, { kind: "webhook", target: `${receiver.url}/hook`, alertKind: kind, secret }),
    );
    let delivered: { alertId: string; outboxId: number } | null = null;

    await t.step(
      "insert an alert: relay, alert-dispatch, and a signed request reaches the receiver",
      async () => {
        delivered = await insertAlert(db, kind, null);
        alertIds.push(delivered.alertId);
        const report = await relay();
        const mine = report.rows.find((row) => row.id === delivered!.outboxId);
        equal(mine?.outcome, "delivered", JSON.stringify(mine));
        equal(receiver.requests.length, 1);
        const request = receiver.requests[0];
        deepStrictEqual([request.method, request.path], ["POST", "/hook"]);
        await verifySignature(request, secret);
        const body = JSON.parse(request.body) as {
          severity: string;
          item_count: number;
          items: Array<{ event: string; dedupe_key: string; kind: string; subject: string; detail: string }>;
        };
        deepStrictEqual(
          [body.severity, body.item_count, body.items[0].event, body.items[0].dedupe_key, body.items[0].kind],
          ["critical", 1, "opened", `deno:${kind}`, kind],
        );
        equal(body.items[0].subject, "+15550001234 (deno)");
        const deliveries = await db`
        select status, attempt, response_code, outbox_id from public.alert_deliveries
        where alert_id = ${delivered.alertId}`;
        deepStrictEqual(deliveries.map((row) => ({ ...row, outbox_id: Number(row.outbox_id) })), [
          { status: "sent", attempt: 1, response_code: 200, outbox_id: delivered.outboxId },
        ]);
      },
    );

    await t.step("the same alert event delivered twice notifies once", async () => {
      const [row] = await db`select payload from public.outbox where id = ${delivered!.outboxId}`;
      const again = await dispatch({ outbox_id: delivered!.outboxId, ...row.payload });
      equal(again.status, 200, again.text);
      equal((again.json as { duplicate: boolean }).duplicate, true);
      // Through another relay path (another outbox id, keys in another order).
      const reordered = Object.fromEntries(Object.entries(row.payload).reverse());
      const viaDaemon = await dispatch({ ...reordered, outbox_id: 987654321 });
      equal((viaDaemon.json as { duplicate: boolean }).duplicate, true, viaDaemon.text);
      equal(receiver.requests.length, 1, "the receiver heard of the event once");
    });

    await t.step(
      "a failing receiver gets retries, then a dead letter the admin API shows and retries",
      async () => {
        let failing = true;
        const flaky = startTestServer(() =>
          failing ? new Response("receiver down", { status: 500 }) : Response.json({ ok: true })
        );
        servers.push(flaky);
        const failingKind = uniqueKind("failing");
        const failingSecret = "deno-test-other-signing-secret-456789";
        channelIds.push(
          await createChannel(db, {
            kind: "webhook",
            target: `${flaky.url}/hook`,
            alertKind: failingKind,
            secret: failingSecret,
          }),
        );
        const alert = await insertAlert(db, failingKind, null);
        alertIds.push(alert.alertId);

        for (let attempt = 1; attempt <= 10; attempt++) {
          if (
            attempt > 1
          ) await db`update public.outbox set next_attempt_at = now() where id = ${alert.outboxId}`;
          const report = await relay();
          const mine = report.rows.find((row) => row.id === alert.outboxId);
          equal(mine?.attempts, attempt);
          equal(mine?.outcome, attempt === 10 ? "dead" : "failed", JSON.stringify(mine));
          match(mine?.error ?? "", /http 502.*receiver down/);
        }
        equal(flaky.requests.length, 10, "one request per attempt");
        for (const request of flaky.requests) await verifySignature(request, failingSecret);
        const [row] =
          await db`select dead_at is not null as dead, attempts from public.outbox where id = ${alert.outboxId}`;
        deepStrictEqual({ ...row }, { dead: true, attempts: 10 });
        const attempts = await db`
        select status, attempt, response_code from public.alert_deliveries
        where alert_id = ${alert.alertId} order by attempt`;
        deepStrictEqual(
          attempts.map((item) => [item.status, item.attempt, item.response_code]),
          Array.from({ length: 10 }, (_, index) => ["failed", index + 1, 500]),
        );

        const users = await createUsers(db);
        const adminApi = (path: string) => gateway!.functionUrl(`admin-api${path}`);
        const letters = await call(adminApi("/dead-letters?topic=alert-dispatch"), {
          token: users.operator.token,
        });
        equal(letters.status, 200, letters.text);
        const letter = (letters.json as { data: Array<{ id: number; attempts: number; last_error: string }> })
          .data
          .find((item) => Number(item.id) === alert.outboxId);
        ok(letter !== undefined, "the dead letter is listed");
        match(letter.last_error, /receiver down/);
        const deliveries = await call(adminApi(`/alerts/${alert.alertId}/deliveries?limit=3`), {
          token: users.viewer.token,
        });
        deepStrictEqual(
          (deliveries.json as { data: Array<{ attempt: number; status: string }> }).data.map((item) =>
            item.attempt
          ),
          [10, 9, 8],
        );

        // The receiver is back; an admin sends the dead letter round again.
        failing = false;
        const retried = await call(adminApi(`/dead-letters/${alert.outboxId}/retry`), {
          method: "POST",
          token: users.admin.token,
        });
        equal(retried.status, 200, retried.text);
        const report = await relay();
        equal(report.rows.find((item) => item.id === alert.outboxId)?.outcome, "delivered");
        equal(flaky.requests.length, 11);
        await verifySignature(flaky.requests[10], failingSecret);
        const [sent] = await db`
        select status, attempt from public.alert_deliveries
        where alert_id = ${alert.alertId} order by id desc limit 1`;
        deepStrictEqual({ ...sent }, { status: "sent", attempt: 11 });
      },
    );

    await t.step("Slack and WhatsApp channels", async () => {
      const slack = startTestServer(() => new Response("ok"));
      servers.push(slack);
      const slackKind = uniqueKind("slack");
      channelIds.push(
        await createChannel(db, {
          kind: "slack",
          target: `${slack.url}/services/T/B/X`,
          alertKind: slackKind,
        }),
      );
      const slackAlert = await insertAlert(db, slackKind, null);
      alertIds.push(slackAlert.alertId);

      const senderId = await fixtures.number(null);
      const whatsappKind = uniqueKind("whatsapp");
      channelIds.push(
        await createChannel(db, {
          kind: "whatsapp",
          target: "+15550009876",
          alertKind: whatsappKind,
          sender: senderId,
        }),
      );
      const whatsappAlert = await insertAlert(db, whatsappKind, null);
      alertIds.push(whatsappAlert.alertId);

      const report = await relay();
      for (const outboxId of [slackAlert.outboxId, whatsappAlert.outboxId]) {
        equal(report.rows.find((item) => item.id === outboxId)?.outcome, "delivered");
      }
      equal(slack.requests.length, 1);
      const message = JSON.parse(slack.requests[0].body) as { text: string; blocks: unknown[] };
      match(message.text, new RegExp(slackKind));
      ok(Array.isArray(message.blocks) && message.blocks.length >= 1);

      const queued = await db`
        select direction, status, contact_wa_id, body, payload from public.messages where number_id = ${senderId}`;
      equal(queued.length, 1);
      deepStrictEqual([queued[0].direction, queued[0].status, queued[0].contact_wa_id], [
        "outbound",
        "queued",
        "+15550009876",
      ]);
      match(queued[0].body, new RegExp(`\\[critical\\] opened: ${whatsappKind}`));
      deepStrictEqual(queued[0].payload.alert_ids, [whatsappAlert.alertId]);
      // Delivered again (say, by a second relay), it queues nothing more.
      const [row] = await db`select payload from public.outbox where id = ${whatsappAlert.outboxId}`;
      const again = await dispatch({ outbox_id: whatsappAlert.outboxId, ...row.payload });
      equal(again.status, 200, again.text);
      const [{ n }] = await db`select count(*)::int as n from public.messages where number_id = ${senderId}`;
      equal(n, 1);
    });

    await t.step("events within a digest window wait, then go out as one flushed message", async () => {
      const digest = startTestServer(() => Response.json({ ok: true }));
      servers.push(digest);
      const digestKind = uniqueKind("digest");
      const digestSecret = "deno-test-digest-signing-secret-0123";
      const channelId = await createChannel(db, {
        kind: "webhook",
        target: `${digest.url}/hook`,
        alertKind: digestKind,
        secret: digestSecret,
      });
      channelIds.push(channelId);
      const first = await insertAlert(db, digestKind, null);
      alertIds.push(first.alertId);
      await relay();
      equal(digest.requests.length, 1, "the first event after a quiet window goes out at once");

      // Two more alerts of the kind within the window: they wait.
      const [second] = await db`
        insert into public.alerts (kind, severity, dedupe_key, title)
        values (${digestKind}, 'warning', ${`deno:${digestKind}:2`}, 'second') returning id`;
      const [third] = await db`
        insert into public.alerts (kind, severity, dedupe_key, title)
        values (${digestKind}, 'critical', ${`deno:${digestKind}:3`}, 'third') returning id`;
      alertIds.push(second.id, third.id);
      await relay();
      equal(digest.requests.length, 1, "nothing more within the digest window");
      const [flush] = await db`
        select id, next_attempt_at > now() + interval '1 minute' as later from public.outbox
        where topic = 'alert-dispatch' and payload = '{"flush": true}'::jsonb
          and delivered_at is null and dead_at is null
        order by id desc limit 1`;
      ok(flush?.later, "a flush is scheduled for the end of the window");

      // The window passes: the channel's last message moves two minutes back.
      await db`
        update private.alert_digest_state
        set state = jsonb_set(state, array['channels', ${channelId}, 'last_sent_at_ms'],
                              to_jsonb((state #>> array['channels', ${channelId}, 'last_sent_at_ms'])::bigint - 180000))
        where id`;
      await db`update public.outbox set next_attempt_at = now() where id = ${flush.id}`;
      const report = await relay();
      equal(report.rows.find((row) => row.id === Number(flush.id))?.outcome, "delivered");
      equal(digest.requests.length, 2, "the waiting events go out together");
      await verifySignature(digest.requests[1], digestSecret);
      const body = JSON.parse(digest.requests[1].body) as { item_count: number; severity: string };
      deepStrictEqual([body.item_count, body.severity], [2, "critical"]);
      const logged = await db`
        select alert_id from public.alert_deliveries where alert_id = any(${[second.id, third.id]}::uuid[])
          and status = 'sent'`;
      equal(logged.length, 2, "the digest's delivery is logged for each alert in it");
    });

    await t.step("a failed answer is kept short: status and at most 100 characters", async () => {
      const chatty = startTestServer(() => new Response(`internal\n${"x".repeat(5000)}`, { status: 500 }));
      servers.push(chatty);
      const chattyKind = uniqueKind("chatty");
      channelIds.push(
        await createChannel(db, {
          kind: "slack",
          target: `${chatty.url}/hooks/T0/B0/x`,
          alertKind: chattyKind,
        }),
      );
      const alert = await insertAlert(db, chattyKind, null);
      alertIds.push(alert.alertId);
      const [row] = await db`select payload from public.outbox where id = ${alert.outboxId}`;
      const result = await dispatch({ outbox_id: alert.outboxId, ...row.payload });
      equal(result.status, 502, result.text);
      const [delivery] =
        await db`select error from public.alert_deliveries where alert_id = ${alert.alertId}`;
      match(delivery.error, /^http 500: internal x+…$/);
      ok(
        delivery.error.length <= "http 500: ".length + 101,
        `short error: ${delivery.error.length} characters`,
      );
    });

    await t.step(
      "channels at the metadata address or at loopback not allow-listed are refused; nothing is fetched",
      async () => {
        // A gateway whose outbound allow-list is empty, as on a hosted project.
        const strict = await startGateway({
          env: { OUTBOX_RELAY_SECRET: RELAY_SECRET, WABOT_OUTBOUND_ALLOW: "" },
        });
        try {
          const internal = startTestServer(() => Response.json({ secret: "internal service" }));
          servers.push(internal);
          const port = new URL(internal.url).port;
          const targets = [
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            `${internal.url}/admin`,
            `http://2130706433:${port}/admin`,
            `http://[::ffff:127.0.0.1]:${port}/admin`,
            `http://localhost:${port}/admin`,
          ];
          for (const target of targets) {
            const refusedKind = uniqueKind("ssrf");
            channelIds.push(
              await createChannel(db, {
                kind: "webhook",
                target,
                alertKind: refusedKind,
                secret: "ssrf-test-signing-secret-0123",
              }),
            );
            const alert = await insertAlert(db, refusedKind, null);
            alertIds.push(alert.alertId);
            const [row] = await db`select payload from public.outbox where id = ${alert.outboxId}`;
            const result = await call(strict.functionUrl("alert-dispatch"), {
              token: RELAY_SECRET,
              body: { outbox_id: alert.outboxId, ...row.payload },
            });
            equal(result.status, 200, result.text);
            equal((result.json as { skipped: number }).skipped, 1, `${target}: ${result.text}`);
            const refusedRows: Array<{ status: string; response_code: number | null; error: string }> =
              await db`
              select status, response_code, error from public.alert_deliveries where alert_id = ${alert.alertId}`;
            equal(refusedRows.length, 1, target);
            equal(refusedRows[0].status, "skipped", target);
            equal(refusedRows[0].response_code, null, target);
            match(refusedRows[0].error, /^refused: .*(not allowed)/, target);
          }
          equal(internal.requests.length, 0, "nothing reached the loopback service");
        } finally {
          await strict.stop();
        }
      },
    );

    await t.step("malformed events are refused with 400", async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ type: "INSERT", table: "numbers", schema: "public", record: {} }, /public\.alerts/],
        [{ type: "UPSERT", table: "alerts", schema: "public", record: {} }, /type/],
        [{ type: "INSERT", table: "alerts", schema: "public", record: { id: "x" } }, /record/],
        [{
          type: "UPDATE",
          table: "alerts",
          schema: "public",
          record: { id: "x", dedupe_key: "k", kind: "k", severity: "info" },
        }, /old_record/],
      ];
      for (const [body, message] of cases) {
        const result = await dispatch(body);
        equal(result.status, 400, result.text);
        match(result.text, message);
      }
    });
  } finally {
    await gateway?.stop();
    for (const server of servers) await server.close();
    if (alertIds.length > 0) {
      await db`delete from public.outbox where topic = 'alert-dispatch' and payload -> 'record' ->> 'id' = any(${alertIds}::text[])`;
      await db`delete from public.alerts where id = any(${alertIds}::uuid[])`;
    }
    if (channelIds.length > 0) {
      await db`delete from public.alert_channels where id = any(${channelIds}::uuid[])`;
    }
    await fixtures.cleanUp();
    await db.end({ timeout: 5 });
  }
});
