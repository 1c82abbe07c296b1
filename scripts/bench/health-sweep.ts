/**
 * Times a health-check sweep over 10,000 numbers (or `--numbers N`) against
 * a migrated local database, with the real Wasm evaluator, and prints the
 * wall-clock and CPU time of the sweep and its phases.
 *
 * ```sh
 * source scripts/lib/common.sh
 * SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres \
 *   deno run --config functions/deno.json --allow-all scripts/bench/health-sweep.ts [--numbers 10000] [--sweeps 5]
 * ```
 *
 * It seeds the numbers (label `bench-sweep`; most connected and healthy, a
 * share stale, disconnected, flapping, rate-limited or pairing, with recent
 * messages and connection events), runs one sweep that opens their alerts,
 * then the steady-state sweeps the minutely cron job causes, and deletes
 * everything it created (alerts, commands and outbox rows included). The
 * sweeps are called in-process, as the outbox relay calls them; CPU time is
 * this process's user + system time during the call, which on the edge
 * runtime is what the 2 s CPU limit counts (the database's own time is
 * not part of it).
 *
 * @module
 */

import process from "node:process";

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const nNumbers = option("numbers", 10_000);
const nSweeps = option("sweeps", 5);

if (!Deno.env.get("SUPABASE_DB_URL")) {
  console.error("SUPABASE_DB_URL is not set");
  Deno.exit(1);
}
const { sql } = await import("../../functions/_shared/db.ts");
const { handleHealthCheck } = await import(
  "../../functions/health-check/index.ts"
);

const LABEL = "bench-sweep";

async function cleanUp(): Promise<void> {
  await sql`
    delete from public.outbox where topic = 'alert-dispatch'
      and payload -> 'record' ->> 'number_id' in (select id::text from public.numbers where label = ${LABEL})`;
  await sql`
    delete from public.outbox where topic = 'health-check'
      and payload ->> 'number_id' in (select id::text from public.numbers where label = ${LABEL})`;
  await sql`delete from public.alerts where number_id in (select id from public.numbers where label = ${LABEL})`;
  await sql`delete from public.numbers where label = ${LABEL}`;
}

async function seed(): Promise<void> {
  const started = performance.now();
  await sql.begin(async (tx) => {
    // Seeding skips the triggers (audit rows, outbox rows, status moves):
    // the bench sets every column the sweep reads itself.
    await tx`set local session_replication_role = replica`;
    await seedRows(tx);
  });
  // Heartbeats are fresh as of the sweep, not of the seed.
  await sql`
    update public.numbers set last_heartbeat_at = case
        when right(phone_number, 2)::int < 88 then now() - interval '5 seconds'
        else now() - interval '10 minutes' end
    where label = ${LABEL}`;
  console.log(`seeded ${nNumbers} numbers in ${Math.round(performance.now() - started)} ms`);
}

// deno-lint-ignore no-explicit-any
async function seedRows(sql: any): Promise<void> {
  // Phone numbers +1999xxxxxxx are reserved for the bench.
  await sql`
    insert into public.numbers (phone_number, label, session_status, last_heartbeat_at)
    select '+1999' || lpad(i::text, 7, '0'), ${LABEL},
           case when i % 100 < 90 then 'connected'
                when i % 100 < 93 then 'disconnected'
                when i % 100 < 95 then 'pairing'
                when i % 100 < 97 then 'rate_limited'
                else 'connected' end,
           now()
    from generate_series(1, ${nNumbers}) as i`;
  await sql`
    update public.numbers set session_status_changed_at = now() - interval '20 minutes'
    where label = ${LABEL}`;
  // Flapping numbers: five connection losses within ten minutes.
  await sql`
    insert into public.number_connection_events (number_id, event, occurred_at)
    select n.id, 'disconnected', now() - (k || ' minutes')::interval
    from public.numbers as n, generate_series(1, 5) as k
    where n.label = ${LABEL} and right(n.phone_number, 2)::int >= 97`;
  // Traffic: two inbound and one outbound message per number in the last hour.
  await sql`
    insert into public.messages (number_id, direction, contact_wa_id, body, status, created_at, sent_at)
    select n.id, d.direction, '+15550000000', 'bench', d.status, now() - interval '3 minutes',
           case when d.direction = 'outbound' then now() - interval '3 minutes' end
    from public.numbers as n
    cross join (values ('inbound', 'received'), ('inbound', 'received'), ('outbound', 'sent'))
      as d(direction, status)
    where n.label = ${LABEL}`;
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  body: Record<string, unknown>;
}

async function sweep(): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await handleHealthCheck({ sweep: true });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (outcome.status !== 200) {
    throw new Error(`sweep failed: ${JSON.stringify(outcome)}`);
  }
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, body: outcome.body };
}

try {
  await cleanUp();
  await seed();
  // The first call also compiles the Wasm paths and warms the pool.
  const first = await sweep();
  console.log(
    `first sweep (opens the alerts): wall ${first.wallMs.toFixed(0)} ms, cpu ${first.cpuMs.toFixed(0)} ms`,
  );
  console.log(`  ${JSON.stringify(first.body)}`);
  const steady: Measured[] = [];
  for (let index = 0; index < nSweeps; index++) steady.push(await sweep());
  const wall = steady.map((run) => run.wallMs).sort((a, b) => a - b);
  const cpu = steady.map((run) => run.cpuMs).sort((a, b) => a - b);
  const median = (values: number[]) => values[Math.floor(values.length / 2)];
  console.log(
    `steady-state sweep of ${nNumbers} numbers over ${nSweeps} runs: ` +
      `wall median ${median(wall).toFixed(0)} ms (max ${wall.at(-1)!.toFixed(0)}), ` +
      `cpu median ${median(cpu).toFixed(0)} ms (max ${cpu.at(-1)!.toFixed(0)})`,
  );
  console.log(`  last: ${JSON.stringify(steady.at(-1)!.body)}`);
} finally {
  await cleanUp();
  await sql.end({ timeout: 5 });
}
