/**
 * `outbox-relay`'s CPU budget (issue 12, item 7): in-process, as the hosted
 * function runs, against the real local Postgres. Its own file, because
 * `outbox_relay_test.ts` ends the shared function pool.
 */

import { equal, ok } from "node:assert/strict";

import { connectDb, DB_URL, Fixtures } from "./helpers.ts";

Deno.test("outbox relay: no new round starts once a call has spent its CPU budget", async () => {
  const { db, error } = await connectDb();
  ok(db !== null, String(error));
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  const { relayOutbox, CPU_BUDGET_MS, DEFAULT_MAX_ROWS } = await import("../outbox-relay/index.ts");
  const fixtures = new Fixtures(db);
  try {
    // Sized against the 2 s CPU limit (docs/benchmarks.md, "outbox-relay: CPU per call").
    ok(CPU_BUDGET_MS <= 1000 && DEFAULT_MAX_ROWS <= 250, `${CPU_BUDGET_MS} ms, ${DEFAULT_MAX_ROWS} rows`);
    const numberId = await fixtures.number(null);
    await db`
      insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
      select ${numberId}, 'inbound', '+1555001' || lpad(i::text, 4, '0'), 'deno-cpu-' || i, 'hello', 'received'
      from generate_series(1, 30) as i`;
    // A budget already spent after the first round: one round of 10, then stop.
    const first = await relayOutbox({ batchSize: 10, maxRows: 5000, cpuBudgetMs: 0 });
    equal(first.claimed, 10, JSON.stringify({ claimed: first.claimed, more: first.more }));
    equal(first.more, true, "the answer says rows may still be due");
    const rest = await relayOutbox({ batchSize: 10, maxRows: 5000 });
    ok(rest.claimed >= 20, `the next call takes the rest: ${rest.claimed}`);
  } finally {
    await fixtures.cleanUp();
    const { sql: functionPool } = await import("../_shared/db.ts");
    await functionPool.end({ timeout: 5 });
    await db.end({ timeout: 5 });
  }
});
