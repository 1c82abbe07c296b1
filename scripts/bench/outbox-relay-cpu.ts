/**
 * Measures the CPU time `outbox-relay` spends per delivered row, to size
 * its rows per call against Supabase's 2 s CPU limit per invocation
 * (docs/benchmarks.md, "outbox-relay: CPU per call").
 *
 * ```sh
 * source scripts/lib/common.sh
 * SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres \
 *   deno run --config functions/deno.json --allow-all scripts/bench/outbox-relay-cpu.ts [--rows 600] [--runs 3]
 * ```
 *
 * It runs the relay in this process, as the hosted function does
 * (`relayOutbox` from `functions/outbox-relay/index.ts`, the handlers
 * in-process, the real Wasm routing and the real local Postgres), over
 * inbound messages on the demo bot: each row is a `route-message`
 * delivery, the common and the costliest topic. CPU is read with
 * `process.cpuUsage()` (user + system of the whole process, every thread:
 * more than the isolate's own CPU, which is what the platform counts, so
 * the figure errs on the safe side), wall time with `performance.now()`.
 * One warm-up call first (module compilation and the first Wasm
 * instantiation are paid once per isolate, and measured separately as the
 * cold call). Everything it creates is deleted at the end.
 *
 * @module
 */

import process from "node:process";

import { connectDb, Fixtures } from "../../functions/tests/helpers.ts";

const args = Deno.args;
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const nRows = Number(option("rows") ?? 600);
const nRuns = Number(option("runs") ?? 3);
const batchSizes = (option("batch-sizes") ?? "20").split(",").map(Number);
const nContacts = 50;
const TEXTS = ["hi", "1", "2", "what are your opening hours?", "hello", "3", "thanks"];

/** CPU microseconds (user + system) of this process so far. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

if (!Deno.env.get("SUPABASE_DB_URL")) {
  console.error("SUPABASE_DB_URL must name the local database");
  Deno.exit(1);
}
const { db, error } = await connectDb();
if (db === null) {
  console.error(error);
  Deno.exit(1);
}
const fixtures = new Fixtures(db);
const { relayOutbox, DEFAULT_MAX_ROWS } = await import("../../functions/outbox-relay/index.ts");
try {
  // No other routing due, so the claimed rows are ours (and at most a
  // pg_cron health sweep, whose CPU then counts against the rows: on the
  // safe side).
  const [{ due }] = await db`
    select count(*)::int as due from public.outbox
    where delivered_at is null and dead_at is null and topic = 'route-message'`;
  if (due > 0) {
    console.error(`${due} outbox rows are due already: run this on a database of its own`);
    Deno.exit(1);
  }
  const botId = await fixtures.bot("relay cpu bench");
  await fixtures.botVersion(botId, 1, await Fixtures.demoBotDefinition());
  const numberId = await fixtures.number(botId);
  let sequence = 0;
  const enqueue = async (count: number) => {
    const first = sequence;
    sequence += count;
    await db`
      insert into public.messages (number_id, direction, contact_wa_id, contact_name, wa_message_id, body, status)
      select ${numberId}, 'inbound', '+1555030' || lpad((i % ${nContacts})::text, 4, '0'), 'Bench',
             'relay-bench-' || i, (${TEXTS}::text[])[1 + (i / ${nContacts}) % ${TEXTS.length}], 'received'
      from generate_series(${first}::int, ${first + count - 1}::int) as i`;
  };

  await enqueue(20);
  const coldCpu = cpuMicros();
  const coldWall = performance.now();
  const cold = await relayOutbox({ batchSize: 20, maxRows: 20 });
  console.log(
    `cold call (module graph, first Wasm instantiation, ${cold.delivered} rows): ` +
      `${((cpuMicros() - coldCpu) / 1000).toFixed(0)} ms CPU, ${
        (performance.now() - coldWall).toFixed(0)
      } ms wall`,
  );

  for (const batchSize of batchSizes) {
    const perRow: number[] = [];
    for (let run = 0; run < nRuns; run++) {
      await enqueue(nRows);
      const cpuBefore = cpuMicros();
      const wallBefore = performance.now();
      const report = await relayOutbox({ batchSize, maxRows: nRows });
      const cpuMs = (cpuMicros() - cpuBefore) / 1000;
      const wallMs = performance.now() - wallBefore;
      if (report.delivered < nRows) {
        throw new Error(
          `run ${run}: delivered ${report.delivered} of ${nRows}: ${JSON.stringify(report.rows[0])}`,
        );
      }
      perRow.push(cpuMs / nRows);
      console.log(
        `batch ${batchSize}, run ${run + 1}: ${nRows} rows in ${cpuMs.toFixed(0)} ms CPU ` +
          `(${(cpuMs / nRows).toFixed(2)} ms/row), ${wallMs.toFixed(0)} ms wall`,
      );
    }
    const worst = Math.max(...perRow);
    const atDefault = worst * DEFAULT_MAX_ROWS;
    console.log(
      `batch ${batchSize}: worst ${worst.toFixed(2)} ms CPU/row; a full call of ${DEFAULT_MAX_ROWS} rows ` +
        `(DEFAULT_MAX_ROWS) ≈ ${atDefault.toFixed(0)} ms CPU, ${
          (100 * atDefault / 2000).toFixed(0)
        }% of the 2 s limit`,
    );
  }
} finally {
  await fixtures.cleanUp();
  await db.end({ timeout: 5 });
}
