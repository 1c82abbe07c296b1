/**
 * Measures the latency of `route-message` through the local functions
 * gateway: one inbound message after another on the demo bot, each routed
 * by an HTTP call as the outbox relay makes it, and prints p50, p90, p99
 * and the maximum.
 *
 * ```sh
 * source scripts/lib/common.sh
 * SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres \
 *   deno run --config functions/deno.json --allow-all scripts/bench/route-message-latency.ts [--calls 1000]
 * ```
 *
 * It starts its own gateway subprocess (as the Deno tests do) unless
 * `--url <functions base URL>` names a running one (then
 * `SUPABASE_SERVICE_ROLE_KEY` must be its service-role key). Each call
 * routes a fresh inbound message (inserted beforehand, outside the timing)
 * through the real Wasm routing and writes the replies and the state in
 * one transaction, so the time covers the gateway's JWT check, the
 * function and its database round trips. Conversations cycle over 50
 * contacts, so most messages continue a running conversation. Everything
 * the script creates is deleted at the end.
 *
 * @module
 */

import { Fixtures, type Gateway, mintJwt, startGateway } from "../../functions/tests/helpers.ts";
import { connectDb } from "../../functions/tests/helpers.ts";

const args = Deno.args;
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const nCalls = Number(option("calls") ?? 1000);
const nWarmUp = Number(option("warm-up") ?? 50);
const nContacts = 50;
/** What contacts say, in turn: a greeting, menu answers, free text. */
const TEXTS = ["hi", "1", "2", "what are your opening hours?", "hello", "3", "thanks"];

const { db, error } = await connectDb();
if (db === null) {
  console.error(error);
  Deno.exit(1);
}
const fixtures = new Fixtures(db);
let gateway: Gateway | null = null;
try {
  let functionsUrl = option("url");
  let token = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? "";
  if (functionsUrl === undefined) {
    gateway = await startGateway();
    functionsUrl = `${gateway.origin}/functions/v1`;
    token = await mintJwt("service_role");
  }
  const url = `${functionsUrl.replace(/\/$/, "")}/route-message`;

  const botId = await fixtures.bot("latency bench");
  await fixtures.botVersion(botId, 1, await Fixtures.demoBotDefinition());
  const numberId = await fixtures.number(botId);

  const total = nWarmUp + nCalls;
  const messageIds: string[] = [];
  const rows = await db`
    insert into public.messages (number_id, direction, contact_wa_id, contact_name, wa_message_id, body, status)
    select ${numberId}, 'inbound', '+1555020' || lpad((i % ${nContacts})::text, 4, '0'), 'Bench',
           'bench-' || i, (${TEXTS}::text[])[1 + (i / ${nContacts}) % ${TEXTS.length}], 'received'
    from generate_series(0, ${total - 1}) as i
    returning id, wa_message_id`;
  rows.sort((a, b) => Number(a.wa_message_id.slice(6)) - Number(b.wa_message_id.slice(6)));
  for (const row of rows) messageIds.push(row.id);

  const latencies: number[] = [];
  let nReplies = 0;
  for (const [index, messageId] of messageIds.entries()) {
    const started = performance.now();
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ message_id: messageId }),
    });
    const body = await response.json();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`call ${index}: ${response.status} ${JSON.stringify(body)}`);
    if (index >= nWarmUp) {
      latencies.push(elapsed);
      nReplies += body.replies ?? 0;
    }
  }
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length;
  console.log(
    `route-message through the gateway, ${latencies.length} calls (after ${nWarmUp} warm-up), ${nReplies} replies:`,
  );
  console.log(
    `  p50 ${percentile(50).toFixed(1)} ms, p90 ${percentile(90).toFixed(1)} ms, p99 ${
      percentile(99).toFixed(1)
    } ms, ` +
      `max ${latencies.at(-1)!.toFixed(1)} ms, mean ${mean.toFixed(1)} ms`,
  );
} finally {
  await gateway?.stop();
  await fixtures.cleanUp();
  await db.end({ timeout: 5 });
}
