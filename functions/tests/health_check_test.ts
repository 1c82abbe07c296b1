/**
 * `health-check` through the local gateway against the real local Postgres
 * and the real Wasm evaluator and alerting core: one number after a
 * connection event, a sweep with runtime `/status` probes, alerts opened,
 * updated and resolved only after a period of health, restart commands
 * without repeats.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  connectDb,
  Fixtures,
  type Gateway,
  mintJwt,
  RELAY_SECRET,
  startGateway,
  startTestServer,
  type TestServer,
} from "./helpers.ts";

Deno.test("health check", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  const servers: TestServer[] = [];
  const runtimeIds: string[] = [];
  try {
    gateway = await startGateway({ env: { OUTBOX_RELAY_SECRET: RELAY_SECRET } });
    const check = async (body: unknown, token = RELAY_SECRET) => {
      const result = await call(gateway!.functionUrl("health-check"), { token, body });
      equal(result.status, 200, result.text);
      return result.json as Record<string, unknown>;
    };
    const alertOf = async (dedupeKey: string) =>
      await db`
        select id, kind, severity, status, flapping, healthy_since, details, number_id, runtime_instance_id
        from public.alerts where dedupe_key = ${dedupeKey} order by created_at`;

    await t.step("malformed requests are 400", async () => {
      for (
        const [body, message] of [[{}, /sweep/], [{ number_id: "7" }, /sweep/], [
          { sweep: "yes" },
          /sweep/,
        ]] as const
      ) {
        const result = await call(gateway!.functionUrl("health-check"), { token: RELAY_SECRET, body });
        equal(result.status, 400, result.text);
        match(result.text, message);
      }
      const unknown = await check({ number_id: crypto.randomUUID(), reason: "connection_event" });
      equal(unknown.skipped, "unknown_number");
    });

    let numberId = "";
    await t.step("a number down for too long opens a critical alert and gets one restart", async () => {
      numberId = await fixtures.number(null);
      await db`
        update public.numbers set session_status = 'disconnected' where id = ${numberId}`;
      await db`
        update public.numbers set session_status_changed_at = now() - interval '5 minutes' where id = ${numberId}`;
      const report = await check(
        { number_id: numberId, reason: "connection_event" },
        await mintJwt("service_role"),
      );
      deepStrictEqual([report.scope, report.numbers, report.conditions], ["number", 1, { disconnected: 1 }]);
      deepStrictEqual(report.changes, { open: 1 });
      equal(report.restarts, 1);
      const [alert] = await alertOf(`number:${numberId}:session`);
      deepStrictEqual([alert.kind, alert.severity, alert.status, alert.number_id], [
        "disconnected",
        "critical",
        "open",
        numberId,
      ]);
      match(alert.details.detail, /disconnected for 300 s/);
      deepStrictEqual(alert.details.recommended_actions, [{ action: "restart_session" }]);
      const commands =
        await db`select command, status, requested_by from public.session_commands where number_id = ${numberId}`;
      deepStrictEqual(commands.map((row) => ({ ...row })), [{
        command: "restart",
        status: "pending",
        requested_by: null,
      }]);
      const [dispatch] = await db`
        select payload ->> 'type' as type from public.outbox
        where topic = 'alert-dispatch' and payload -> 'record' ->> 'id' = ${alert.id}`;
      equal(dispatch.type, "INSERT", "the insert enqueued its alert-dispatch event");

      const again = await check({ number_id: numberId });
      deepStrictEqual([again.changes, again.restarts], [{}, 0], "no second alert, no second restart");
      equal((await alertOf(`number:${numberId}:session`)).length, 1);
    });

    await t.step(
      "a worse problem updates the same alert; a recovery resolves it only after a healthy spell",
      async () => {
        await db`update public.numbers set session_status = 'logged_out' where id = ${numberId}`;
        const worse = await check({ number_id: numberId });
        deepStrictEqual(worse.changes, { update: 1 });
        const [updated] = await alertOf(`number:${numberId}:session`);
        deepStrictEqual([updated.kind, updated.severity, updated.status], ["logged_out", "critical", "open"]);
        deepStrictEqual(updated.details.recommended_actions, [{ action: "re_pair" }]);

        await db`
        update public.numbers set session_status = 'connected', last_heartbeat_at = now() where id = ${numberId}`;
        const recovering = await check({ number_id: numberId });
        deepStrictEqual(recovering.changes, { recovering: 1 });
        const [marked] = await alertOf(`number:${numberId}:session`);
        ok(marked.healthy_since !== null && marked.status === "open", "recovering, not yet resolved");

        // Five healthy minutes later (the reconcile default), it resolves.
        await db`
        update public.alerts set healthy_since = now() - interval '6 minutes' where id = ${marked.id}`;
        const resolved = await check({ number_id: numberId });
        deepStrictEqual(resolved.changes, { resolve: 1 });
        const [closed] = await alertOf(`number:${numberId}:session`);
        deepStrictEqual([closed.status, closed.details.resolve_reason], ["resolved", "healthy"]);
      },
    );

    await t.step("a sweep probes every live runtime's /status with a timeout", async () => {
      const degraded = startTestServer(() =>
        Response.json({ database: { reachable: false, error: "connection refused" } }, { status: 503 })
      );
      const healthy = startTestServer(() => Response.json({ database: { reachable: true } }));
      servers.push(degraded, healthy);
      const closed = startTestServer(() => new Response("bye"));
      await closed.close();
      const suffix = crypto.randomUUID().slice(0, 8);
      const runtimes = {
        degraded: `deno-degraded-${suffix}`,
        healthy: `deno-healthy-${suffix}`,
        unreachable: `deno-unreachable-${suffix}`,
        silent: `deno-silent-${suffix}`,
      };
      runtimeIds.push(...Object.values(runtimes));
      await db`
        insert into public.runtime_instances (id, version, status_url, last_heartbeat_at) values
          (${runtimes.degraded}, 'test', ${`${degraded.url}/status`}, now()),
          (${runtimes.healthy}, 'test', ${`${healthy.url}/status`}, now()),
          (${runtimes.unreachable}, 'test', ${`${closed.url}/status`}, now()),
          (${runtimes.silent}, 'test', ${`${closed.url}/status`}, now() - interval '1 hour')`;
      const report = await check({ sweep: true });
      equal(report.scope, "sweep");
      ok((report.runtimes as number) >= 3);
      equal(degraded.requests.length, 1);
      equal(degraded.requests[0].path, "/status");
      const [degradedAlert] = await alertOf(`runtime:${runtimes.degraded}:status`);
      deepStrictEqual([degradedAlert.kind, degradedAlert.severity, degradedAlert.runtime_instance_id], [
        "runtime_degraded",
        "critical",
        runtimes.degraded,
      ]);
      match(degradedAlert.details.detail, /database unreachable: connection refused/);
      const [unreachableAlert] = await alertOf(`runtime:${runtimes.unreachable}:status`);
      equal(unreachableAlert.kind, "runtime_unreachable");
      equal(
        (await alertOf(`runtime:${runtimes.healthy}:status`)).length,
        0,
        "a healthy runtime has no alert",
      );
      equal((await alertOf(`runtime:${runtimes.silent}:status`)).length, 0, "a silent runtime is not probed");
    });

    await t.step("a connection event reaches health-check through the outbox and the relay", async () => {
      const otherId = await fixtures.number(null);
      await db`
        insert into public.number_connection_events (number_id, event) values (${otherId}, 'logged_out')`;
      const [row] = await db`
        select id from public.outbox where topic = 'health-check' and payload ->> 'number_id' = ${otherId}`;
      const relayed = await call(gateway!.functionUrl("outbox-relay"), {
        token: RELAY_SECRET,
        body: { max_rows: 5000 },
      });
      equal(relayed.status, 200, relayed.text);
      const mine = (relayed.json as { rows: Array<{ id: number; outcome: string }> }).rows
        .find((item) => item.id === Number(row.id));
      equal(mine?.outcome, "delivered");
      const [alert] = await alertOf(`number:${otherId}:session`);
      deepStrictEqual([alert.kind, alert.severity], ["logged_out", "critical"]);
    });
  } finally {
    await gateway?.stop();
    for (const server of servers) await server.close();
    if (runtimeIds.length > 0) {
      await db`delete from public.alerts where runtime_instance_id = any(${runtimeIds}::text[])`;
      await db`delete from public.runtime_instances where id = any(${runtimeIds}::text[])`;
    }
    await fixtures.cleanUp();
    await db.end({ timeout: 5 });
  }
});
