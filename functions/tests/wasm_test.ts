/**
 * The built Wasm module as the Edge Functions load it (`_shared/wasm.ts`,
 * embedded bytes, `initSync`), on the fixture the Rust and Wasm-under-Node
 * tests use, so the three layers agree.
 *
 * @module
 */

import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { evaluateHealth, planAlert, route, validateDefinition } from "../_shared/wasm.ts";
import { DEMO_BOT_FIXTURE } from "./helpers.ts";

const demoBot = JSON.parse(await Deno.readTextFile(DEMO_BOT_FIXTURE));

function say(text: string, state: Parameters<typeof route>[0]["state"] = null) {
  return route({
    definition: demoBot,
    state,
    message: { id: "m1", text },
    contact: { wa_id: "15550100002", name: "Ada" },
    now_ms: 1_700_000_000_000,
  });
}

Deno.test("the demo bot greets, shows its menu and answers a choice", () => {
  const greeting = say("Olá, HI!");
  assertEquals(greeting.replies.map((reply) => reply.text), [
    "Hi Ada! I'm the demo bot.",
    "Reply 1 for opening hours, 2 for our address, or 3 to talk to a person.",
  ]);
  assertEquals(greeting.state.awaiting, "menu");
  assertEquals(greeting.outcome, "trigger:welcome");
  const answer = say("2", greeting.state);
  assertEquals(answer.replies.map((reply) => reply.text), ["You can find us at 1 Demo Street, Springfield."]);
  assertEquals(answer.state.awaiting, null);
});

Deno.test("an invalid definition throws an Error naming the field", () => {
  const broken = structuredClone(demoBot);
  broken.nodes[0].next = "ghost";
  throws(
    () =>
      route({
        definition: broken,
        state: null,
        message: { id: "m", text: "hi" },
        contact: { wa_id: "1", name: null },
        now_ms: 0,
      }),
    { message: 'invalid bot definition: $.nodes[0].next: unknown node "ghost"' },
  );
  const report = validateDefinition(broken);
  assertEquals(report.valid, false);
  assertEquals(report.errors.map((error) => error.path), ["$.nodes[0].next"]);
});

Deno.test("health and alerting decisions come out of the same module", () => {
  const [verdict] = evaluateHealth({
    snapshots: [{ number_id: "n1", session_status: "connected", last_heartbeat_ms: 0 }],
    now_ms: 45_000,
  });
  assertEquals(verdict.state, "degraded");
  assertEquals(verdict.reasons, ["heartbeat 45s old"]);
  const plan = planAlert({
    alert: { id: "a1", kind: "number_disconnected", severity: "warning", status: "open" },
    channels: [
      { id: "pager", kind: "webhook", min_severity: "critical" },
      { id: "ops", kind: "slack", min_severity: "warning" },
    ],
  });
  assertEquals(plan.map((delivery) => delivery.channel_id), ["ops"]);
});
