/**
 * The shared routing fixture (`crates/routing/fixtures/scenarios.json`)
 * through `route-message` and the database: each scenario's bot is
 * published on a number of its own, each step is an inbound message routed
 * by the function through the local gateway, and the queued replies (their
 * order and payloads), the outcome and the team notifications must be what
 * the core decides.
 *
 * The function seeds the core's randomness (message variants) from the
 * inbound message's id, not from the fixture's seed, and routes at the time
 * of the call, not at the fixture's. So each step is also routed by the
 * core in this process with the function's seed and the current time: when
 * that gives the fixture's actions (no variant is involved or the same one
 * is chosen, and business hours agree), the function must give exactly the
 * fixture's expectation; otherwise it must give what the core gives. The
 * scenarios whose steps are hours apart (business hours across dates,
 * timeouts) are left to the core's own test (`core_fixtures_test.ts`); the
 * test names them.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";

import { type Action, type Content, type ConversationState, route } from "../_shared/routing.ts";
import {
  call,
  connectDb,
  DB_URL,
  Fixtures,
  type Gateway,
  mintJwt,
  REPO_ROOT,
  startGateway,
} from "./helpers.ts";

interface Step {
  now_ms: number;
  seed: number;
  message: { id: string; text: string; reply_id?: string | null; content?: Content };
  expect: { actions: Action[]; outcome: string };
}

interface Scenario {
  name: string;
  definition: unknown;
  contact: { wa_id: string; name: string | null; attributes?: Record<string, string> };
  steps: Step[];
}

/** Whether the function can reproduce a scenario: no step waits more than a minute. */
function clockFree(scenario: Scenario): boolean {
  return scenario.steps.every((step, index) =>
    index === 0 || step.now_ms - scenario.steps[index - 1].now_ms <= 60_000
  );
}

function sentMessages(actions: Action[]): unknown[] {
  return actions.filter((action) => action.type === "send_message").map((action) =>
    (action as { message: unknown }).message
  );
}

Deno.test("routing scenarios through route-message", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(dbError));
  });
  if (db === null) return;
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  const { seedFromId } = await import("../route-message/index.ts");
  const { sql: functionPool } = await import("../_shared/db.ts");
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  let stepsAsFixture = 0;
  let stepsWithOtherVariant = 0;
  try {
    gateway = await startGateway();
    const url = gateway.functionUrl("route-message");
    const token = await mintJwt("service_role");
    const scenarios = JSON.parse(
      await Deno.readTextFile(new URL("crates/routing/fixtures/scenarios.json", REPO_ROOT)),
    ) as Scenario[];
    const chosen = scenarios.filter(clockFree);
    equal(
      chosen.filter((scenario) => scenario.name.startsWith("demo:")).length,
      4,
      "every demo scenario runs",
    );
    console.log(
      `left to the core's test (they need a clock): ${
        scenarios.filter((scenario) => !clockFree(scenario)).map((scenario) => scenario.name).join("; ")
      }`,
    );

    for (const [scenarioIndex, scenario] of chosen.entries()) {
      await t.step(scenario.name, async () => {
        const definition = typeof scenario.definition === "string"
          ? JSON.parse(
            await Deno.readTextFile(new URL(`crates/routing/fixtures/${scenario.definition}`, REPO_ROOT)),
          )
          : scenario.definition;
        const botId = await fixtures.bot(`scenario: ${scenario.name}`.slice(0, 200));
        await fixtures.botVersion(botId, 1, definition);
        const numberId = await fixtures.number(botId);
        // Contacts are shared by WhatsApp id, so their attributes are reset
        // to the scenario's.
        const attributes: Record<string, string> = { ...scenario.contact.attributes };
        const [{ contact_id }]: Array<{ contact_id: string }> = await db`
          select private.resolve_contact(${scenario.contact.wa_id}, ${scenario.contact.name}) as contact_id`;
        await db`update public.contacts set attributes = ${db.json(attributes)} where id = ${contact_id}`;

        let coreState: ConversationState | null = null;
        for (const [index, step] of scenario.steps.entries()) {
          const where = `${scenario.name} step ${index}`;
          const [inbound]: Array<{ id: string }> = await db`
            insert into public.messages
              (number_id, direction, contact_wa_id, contact_name, wa_message_id, body, payload, status, content)
            values (${numberId}, 'inbound', ${scenario.contact.wa_id}, ${scenario.contact.name},
                    ${crypto.randomUUID()}, ${step.message.text ?? ""},
                    ${db.json(step.message.reply_id ? { reply_id: step.message.reply_id } : {})}, 'received',
                    ${step.message.content ? db.json(step.message.content as never) : null})
            returning id`;
          const result = await call(url, { token, body: { message_id: inbound.id } });
          equal(result.status, 200, `${where}: ${result.text}`);
          const routed = result.json as { outcome?: string };
          const replies: Array<{ content: unknown }> = await db`
            select content from public.messages where in_reply_to = ${inbound.id} order by reply_index`;
          const [{ n_alerts }]: Array<{ n_alerts: number }> = await db`
            select count(*)::int as n_alerts from public.alerts
            where number_id = ${numberId} and kind = 'bot_notification'
              and dedupe_key like ${`bot_notification:${inbound.id}:%`}`;

          const core = route({
            definitionKey: `deno-function-scenario-${scenarioIndex}`,
            definition,
            state: coreState,
            message: { ...step.message, id: inbound.id },
            contact: { wa_id: scenario.contact.wa_id, name: scenario.contact.name, attributes },
            now_ms: Date.now(),
            seed: seedFromId(inbound.id),
          });
          coreState = core.state;
          for (const action of core.actions) {
            if (action.type === "set_contact_attribute") attributes[action.name] = action.value;
          }
          const expected = JSON.stringify(core.actions) === JSON.stringify(step.expect.actions)
            ? step.expect
            : core;
          if (expected === step.expect) stepsAsFixture++;
          else stepsWithOtherVariant++;
          if (scenario.name.startsWith("demo:")) {
            ok(
              expected === step.expect,
              `${where}: the demo bot has no variants or hours, so the fixture holds`,
            );
          }
          equal(routed.outcome, expected.outcome, `${where} outcome`);
          deepStrictEqual(
            replies.map((reply) => reply.content),
            sentMessages(expected.actions),
            `${where} replies`,
          );
          equal(
            n_alerts,
            expected.actions.filter((action) => action.type === "notify").length,
            `${where} team notifications`,
          );
        }
      });
    }
    await t.step("most steps match the fixture's expectation exactly", () => {
      console.log(
        `${stepsAsFixture} steps as in the fixture, ${stepsWithOtherVariant} with another variant or hour`,
      );
      ok(stepsAsFixture > stepsWithOtherVariant * 2, `${stepsAsFixture} vs ${stepsWithOtherVariant}`);
    });
  } finally {
    await gateway?.stop();
    await fixtures.cleanUp();
    await functionPool.end({ timeout: 5 });
    await db.end({ timeout: 5 });
  }
});
