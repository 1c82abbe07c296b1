/**
 * Benchmarks of the integration API (issue 14), through the local functions
 * gateway against the local Postgres:
 *
 * 1. **API sends per second**: `POST /v1/messages` with an API key, from
 *    `--concurrency` clients at once, each send a fresh contact's text
 *    message with an `Idempotency-Key` (the full path: key check and rate
 *    count, idempotency claim, number and conversation checks, the queued
 *    message); then `POST /v1/messages/bulk` with 100 messages a call.
 * 2. **The latency event delivery adds**: inbound messages are inserted one
 *    at a time (`--events`, paced by `--interval-ms`); each commit's
 *    `message.received` event reaches a local receiver through the outbox
 *    and `webhook-dispatch`, with a relay loop standing in for the hosted
 *    doorbell: on every `outbox` notification it calls `outbox-relay`
 *    through the gateway (locally the daemon's relay does the same). The
 *    latency is the receiver's arrival time minus the insert's commit.
 *
 * ```sh
 * source scripts/lib/common.sh
 * SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres \
 *   deno run --config functions/deno.json --allow-all scripts/bench/integration-api.ts \
 *   [--sends 2000] [--concurrency 8] [--bulk-calls 20] [--events 500] [--interval-ms 20]
 * ```
 *
 * It starts its own gateway subprocess (as the Deno tests do). The daemon
 * does not run, so nothing is actually sent to WhatsApp: the send figure is
 * the API's, up to the queued message. Everything it creates is deleted.
 *
 * @module
 */

import postgres from "npm:postgres@3.4.5";

import {
  Fixtures,
  type Gateway,
  RELAY_SECRET,
  startGateway,
  startTestServer,
} from "../../functions/tests/helpers.ts";
import { connectDb } from "../../functions/tests/helpers.ts";
import { generateApiKey } from "../../functions/messages-api/auth.ts";

const args = Deno.args;
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const nSends = option("sends", 2000);
const concurrency = option("concurrency", 8);
const nBulkCalls = option("bulk-calls", 20);
const nEvents = option("events", 500);
const intervalMs = option("interval-ms", 20);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const { db, error } = await connectDb();
if (db === null) {
  console.error(error);
  Deno.exit(1);
}
const fixtures = new Fixtures(db);
let gateway: Gateway | null = null;
let listener: postgres.Sql | null = null;
let subscriptionId: string | null = null;
let keyId: string | null = null;
try {
  gateway = await startGateway({ env: { OUTBOX_RELAY_SECRET: RELAY_SECRET } });
  const functions = `${gateway.origin}/functions/v1`;
  const numberId = await fixtures.number(null);
  await db`update public.numbers set session_status = 'connected' where id = ${numberId}`;
  const key = await generateApiKey();
  const [row] = await db`
    insert into public.api_keys (name, prefix, key_hash, scopes, rate_limit_per_minute)
    values ('bench', ${key.prefix}, ${key.sha256}, '{messages:send}', 100000) returning id`;
  keyId = row.id;

  // --- 1. sends per second -------------------------------------------------
  const send = async (index: number): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${functions}/messages-api/v1/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key.key}`,
        "content-type": "application/json",
        "idempotency-key": `bench-${index}`,
      },
      body: JSON.stringify({
        number_id: numberId,
        to: `+1555${String(index).padStart(7, "0")}`,
        content: { kind: "text", text: `Bench message ${index}` },
      }),
    });
    await response.body?.cancel();
    if (response.status !== 202) throw new Error(`send ${index}: ${response.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await send(1_000_000 + i); // warm-up
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < nSends) latencies.push(await send(next++));
  }));
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `single sends: ${nSends} in ${seconds.toFixed(2)} s = ${(nSends / seconds).toFixed(1)} sends/s ` +
      `(concurrency ${concurrency}); latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(1)} ms`,
  );

  const bulkBegan = performance.now();
  for (let call = 0; call < nBulkCalls; call++) {
    const response = await fetch(`${functions}/messages-api/v1/messages/bulk`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        messages: Array.from({ length: 100 }, (_, i) => ({
          number_id: numberId,
          to: `+1556${String(call * 100 + i).padStart(7, "0")}`,
          content: { kind: "text", text: "Bench bulk" },
        })),
      }),
    });
    const body = await response.json();
    if (response.status !== 202 || body.queued !== 100) {
      throw new Error(`bulk ${call}: ${JSON.stringify(body)}`);
    }
  }
  const bulkSeconds = (performance.now() - bulkBegan) / 1000;
  console.log(
    `bulk sends: ${nBulkCalls * 100} messages in ${nBulkCalls} calls, ${bulkSeconds.toFixed(2)} s = ` +
      `${((nBulkCalls * 100) / bulkSeconds).toFixed(1)} messages/s`,
  );

  // --- 2. event delivery latency --------------------------------------------
  const arrivals = new Map<string, number>();
  const hook = startTestServer((request) => {
    const event = JSON.parse(request.body);
    arrivals.set(event.data.message.wa_message_id, performance.now());
    return new Response("ok");
  });
  const [subscription] = await db`
    insert into public.webhook_subscriptions (name, url, events, number_ids)
    values ('bench', ${`${hook.url}/hook`}, '{message.received}', ${[numberId]}) returning id`;
  subscriptionId = subscription.id;
  await db`
    insert into private.webhook_secrets (subscription_id, secret)
    values (${subscriptionId}, ${
    "whsec_" + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
  })`;

  // The doorbell: every outbox notification rings outbox-relay (one call at a time, rung again if rows came meanwhile).
  let ringing = false;
  let again = false;
  const ring = async () => {
    if (ringing) {
      again = true;
      return;
    }
    ringing = true;
    do {
      again = false;
      const response = await fetch(`${functions}/outbox-relay`, {
        method: "POST",
        headers: { authorization: `Bearer ${RELAY_SECRET}`, "content-type": "application/json" },
        body: "{}",
      });
      await response.body?.cancel();
    } while (again);
    ringing = false;
  };
  listener = postgres(Deno.env.get("SUPABASE_DB_URL")!, { max: 1, onnotice: () => {} });
  await listener.listen("outbox", () => void ring());

  const committed = new Map<string, number>();
  for (let i = 0; i < nEvents; i++) {
    const waId = `bench-event-${i}`;
    await db`
      insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
      values (${numberId}, 'inbound', ${`1557${
      String(i % 50).padStart(7, "0")
    }`}, ${waId}, 'hi', 'received')`;
    committed.set(waId, performance.now());
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const deadline = Date.now() + 60_000;
  while (arrivals.size < nEvents && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const delays = [...committed.entries()].filter(([id]) => arrivals.has(id))
    .map(([id, at]) => arrivals.get(id)! - at).sort((a, b) => a - b);
  console.log(
    `event delivery: ${arrivals.size}/${nEvents} events arrived; added latency p50 ${
      percentile(delays, 50).toFixed(1)
    } ms, ` +
      `p99 ${percentile(delays, 99).toFixed(1)} ms, max ${delays.at(-1)?.toFixed(1)} ms ` +
      `(one insert every ${intervalMs} ms, 50 conversations)`,
  );
  await hook.close();
} finally {
  await listener?.end({ timeout: 1 });
  if (subscriptionId !== null) {
    await db`delete from public.webhook_subscriptions where id = ${subscriptionId}`;
  }
  await fixtures.cleanUp();
  if (keyId !== null) await db`delete from public.api_keys where id = ${keyId}`;
  await db`delete from public.outbox where topic = 'webhook-dispatch'`;
  await gateway?.stop();
  await db.end({ timeout: 1 });
}
