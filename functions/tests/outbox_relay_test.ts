/**
 * The outbox relay and the worker functions' authentication, through the
 * local gateway against the real local Postgres: the relay secret, backoff
 * and dead letters for rows no handler takes, and two relays over the same
 * outbox delivering every row exactly once.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  connectDb,
  DB_URL,
  Fixtures,
  type Gateway,
  mintJwt,
  RELAY_SECRET,
  startGateway,
} from "./helpers.ts";

interface RelayReport {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
  more: boolean;
  rows: Array<{ id: number; topic: string; attempts: number; outcome: string; error?: string }>;
}

Deno.test("outbox relay", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  const insertedRows: number[] = [];
  try {
    gateway = await startGateway({ env: { OUTBOX_RELAY_SECRET: RELAY_SECRET } });
    const relayUrl = gateway.functionUrl("outbox-relay");
    const relay = async (body: unknown = {}) => {
      const result = await call(relayUrl, { token: RELAY_SECRET, body });
      equal(result.status, 200, result.text);
      return result.json as RelayReport;
    };

    await t.step("the relay needs its secret; no JWT will do", async () => {
      for (
        const token of [
          undefined,
          "wrong-secret",
          await mintJwt("service_role"),
          await mintJwt("authenticated", { claims: { sub: crypto.randomUUID() } }),
        ]
      ) {
        const result = await call(relayUrl, { token, body: {} });
        equal(result.status, 401, result.text);
      }
      const get = await call(relayUrl, { method: "GET", token: RELAY_SECRET });
      equal(get.status, 405);
      const badOption = await call(relayUrl, { token: RELAY_SECRET, body: { max_rows: 0 } });
      equal(badOption.status, 400);
      match(badOption.text, /max_rows/);
    });

    await t.step("without OUTBOX_RELAY_SECRET the relay answers 503", async () => {
      Deno.env.set("SUPABASE_DB_URL", DB_URL);
      Deno.env.delete("OUTBOX_RELAY_SECRET");
      const { default: outboxRelay } = await import("../outbox-relay/index.ts");
      const { sql } = await import("../_shared/db.ts");
      try {
        const response = await outboxRelay.fetch(
          new Request("http://functions.local/outbox-relay", {
            method: "POST",
            headers: { authorization: "Bearer anything" },
          }),
        );
        equal(response.status, 503);
        match((await response.json()).error, /OUTBOX_RELAY_SECRET/);
      } finally {
        await sql.end({ timeout: 5 });
      }
    });

    await t.step("the worker functions take the relay secret or the service role, nothing else", async () => {
      const cases: Array<[string, string | undefined, number]> = [
        ["relay secret", RELAY_SECRET, 400],
        ["service-role JWT", await mintJwt("service_role"), 400],
        ["no token", undefined, 401],
        ["anon JWT", await mintJwt("anon"), 401],
        ["user JWT", await mintJwt("authenticated", { claims: { sub: crypto.randomUUID() } }), 401],
        ["expired service-role JWT", await mintJwt("service_role", { expiresInSeconds: -10 }), 401],
        [
          "service-role JWT with a wrong key",
          await mintJwt("service_role", { secret: "a-different-secret-with-at-least-32-characters" }),
          401,
        ],
      ];
      for (const slug of ["health-check", "alert-dispatch"]) {
        for (const [what, token, status] of cases) {
          // A body that passes authentication but not validation: 400.
          const result = await call(gateway!.functionUrl(slug), { token, body: { nonsense: true } });
          equal(result.status, status, `${slug} with ${what}: ${result.text}`);
        }
      }
    });

    await t.step(
      "a row no handler takes backs off, then is dead-lettered after the last attempt",
      async () => {
        const [row] = await db`
        insert into public.outbox (topic, payload) values ('no-such-function', '{"deno_test": true}')
        returning id`;
        const rowId = Number(row.id);
        insertedRows.push(rowId);
        const first = await relay({ max_rows: 5000 });
        const mine = first.rows.find((relayed) => relayed.id === rowId);
        deepStrictEqual([mine?.outcome, mine?.attempts], ["failed", 1]);
        match(mine?.error ?? "", /no handler for target no-such-function/);
        const [backedOff] = await db`
        select attempts, last_error, next_attempt_at > now() + interval '1 second' as later
        from public.outbox where id = ${rowId}`;
        deepStrictEqual([backedOff.attempts, backedOff.later], [1, true]);
        match(backedOff.last_error, /no handler/);

        for (let attempt = 2; attempt <= 10; attempt++) {
          await db`update public.outbox set next_attempt_at = now() where id = ${rowId}`;
          const report = await relay({ max_rows: 5000 });
          const relayed = report.rows.find((item) => item.id === rowId);
          equal(relayed?.attempts, attempt);
          equal(relayed?.outcome, attempt === 10 ? "dead" : "failed");
        }
        const [dead] =
          await db`select dead_at is not null as dead, attempts from public.outbox where id = ${rowId}`;
        deepStrictEqual({ ...dead }, { dead: true, attempts: 10 });
        await db`update public.outbox set next_attempt_at = now() where id = ${rowId}`;
        const after = await relay({ max_rows: 5000 });
        ok(!after.rows.some((item) => item.id === rowId), "a dead row is never claimed again");
      },
    );

    await t.step("two relays at once deliver each of 300 rows exactly once", async () => {
      const numberId = await fixtures.number(null);
      const nRows = 300;
      await db`
        insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
        select ${numberId}, 'inbound', '+1555000' || lpad(i::text, 4, '0'), 'deno-relay-' || i, 'hello', 'received'
        from generate_series(1, ${nRows}) as i`;
      const rows = await db`
        select o.id from public.outbox as o
        where o.topic = 'route-message' and o.payload ->> 'message_id' in (
          select m.id::text from public.messages as m where m.number_id = ${numberId})`;
      equal(rows.length, nRows);
      const ids = new Set(rows.map((row) => Number(row.id)));

      const reports = await Promise.all([
        relay({ max_rows: 5000, batch_size: 10 }),
        relay({ max_rows: 5000, batch_size: 10 }),
      ]);
      const deliveries = new Map<number, number>();
      for (const report of reports) {
        for (const row of report.rows) {
          if (!ids.has(row.id)) continue;
          equal(row.outcome, "delivered", JSON.stringify(row));
          deliveries.set(row.id, (deliveries.get(row.id) ?? 0) + 1);
        }
      }
      equal(deliveries.size, nRows, "every row was delivered");
      ok([...deliveries.values()].every((count) => count === 1), "no row was delivered twice");
      ok(
        reports.every((report) => report.rows.some((row) => ids.has(row.id))),
        `both relays took part: ${reports.map((report) => report.claimed).join(" and ")} rows`,
      );
      const [state] = await db`
        select count(*) filter (where delivered_at is not null)::int as delivered,
               count(*) filter (where attempts = 1)::int as claimed_once
        from public.outbox where id = any(${[...ids]}::bigint[])`;
      deepStrictEqual({ ...state }, { delivered: nRows, claimed_once: nRows });
      const [{ routed }] = await db`
        select count(*) filter (where routed_at is not null)::int as routed
        from public.messages where number_id = ${numberId}`;
      equal(routed, nRows, "every message was routed");
    });
  } finally {
    await gateway?.stop();
    if (insertedRows.length > 0) {
      await db`delete from public.outbox where id = any(${insertedRows}::bigint[])`;
    }
    await fixtures.cleanUp();
    await db.end({ timeout: 5 });
  }
});
