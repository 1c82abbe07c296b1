/**
 * Hostile input against the built Wasm modules, loaded exactly as the Edge
 * Functions load them (`_shared/routing.ts`, `_shared/operations.ts`): a
 * definition nested 10,000 arrays deep (the outside probe's ~20 KB input,
 * which overflowed the routing module's stack and left the instance
 * answering 500 until the process restarted) is an ordinary validation
 * error naming its path, and a trap inside any export costs that one call:
 * the instance is replaced and the next call, in the same isolate, works.
 *
 * @module
 */

import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import * as operationsCore from "../_shared/core/operations/core.js";
import * as routingCore from "../_shared/core/routing/core.js";
import { health } from "../_shared/health.ts";
import { route, validateDefinition } from "../_shared/routing.ts";
import { guarded, wasmTrapCounts, WasmTrapError } from "../_shared/wasm-instance.ts";
import { DEMO_BOT_FIXTURE } from "./helpers.ts";

/** The probe's definition: one node whose `text` is nested `depth` arrays deep, as JSON text. */
function deepDefinitionText(depth: number): string {
  return `{"format": 1, "name": "deep", "nodes": [{"id": "a", "type": "message", "text": ${
    "[".repeat(depth)
  }"hi"${"]".repeat(depth)}}]}`;
}

async function demoBot(): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(DEMO_BOT_FIXTURE));
}

/** An ordinary routing call and validation: what must keep working. */
async function ordinaryCallsWork(label: string): Promise<void> {
  const definition = await demoBot();
  deepStrictEqual(validateDefinition(definition).errors, [], `${label}: the demo bot validates`);
  const output = route({
    definitionKey: `trap-test-${crypto.randomUUID()}`,
    definition,
    state: null,
    message: { id: "m1", text: "hi" },
    contact: { wa_id: "15550001111", name: "Ada" },
    now_ms: 1_700_000_000_000,
  });
  ok(output.actions.some((action) => action.type === "send_message"), `${label}: the demo bot answers "hi"`);
  const verdict = health<{ status: string }>("evaluate_runtime", {
    probe: { runtime_id: "trap-test", http_status: 200, latency_ms: 5, body: { ok: true } },
  });
  equal(typeof verdict, "object", `${label}: the operations module answers`);
}

Deno.test("a definition nested 10,000 arrays deep is a validation error at its path", async () => {
  const definition = JSON.parse(deepDefinitionText(10_000));
  const report = validateDefinition(definition);
  equal(report.errors.length, 1, JSON.stringify(report).slice(0, 500));
  equal(report.errors[0].code, "too_complex");
  match(report.errors[0].path, /^\$\.nodes\[0\]\.text\[0\]\[0\]/);
  ok(report.errors[0].path.length < 140, "the path is abbreviated");
  await ordinaryCallsWork("after the deep definition");
  // Routing it (a definition that skipped validation) is an error, not a trap.
  throws(
    () =>
      route({
        definitionKey: "deep",
        definition,
        state: null,
        message: { id: "m1", text: "hi" },
        contact: { wa_id: "15550001111", name: null },
        now_ms: 0,
      }),
    (error: unknown) => !(error instanceof WasmTrapError) && /nested deeper/.test(String(error)),
  );
  await ordinaryCallsWork("after routing the deep definition");
});

Deno.test("a definition 60 levels deep is past the definition's own bound of 32", () => {
  const report = validateDefinition(JSON.parse(deepDefinitionText(60)));
  equal(report.errors[0]?.code, "too_complex");
  match(report.errors[0].message, /32 levels/);
});

Deno.test("a trap costs one call: the instance is replaced, logged and counted", async () => {
  await ordinaryCallsWork("before any trap");
  for (const [module, glue] of [["routing", routingCore], ["operations", operationsCore]] as const) {
    for (const kind of ["panic", "stack"]) {
      const before = wasmTrapCounts()[module] ?? 0;
      throws(
        () => guarded(module, glue, "trap_for_tests", () => glue.trap_for_tests(kind)),
        (error: unknown) =>
          error instanceof WasmTrapError && error.module === module && /restarted/.test(error.message),
        `${module} ${kind}: the trap is a WasmTrapError`,
      );
      equal(wasmTrapCounts()[module], before + 1, `${module} ${kind}: the trap is counted`);
      await ordinaryCallsWork(`after a ${kind} trap in ${module}`);
    }
  }
});

Deno.test("without the guard, a trap leaves the instance broken (why the guard exists)", async () => {
  // A stack overflow in linear memory leaves the module's stack pointer
  // past its end: the next call traps again, although it is ordinary.
  throws(() => routingCore.trap_for_tests("stack"));
  const ordinary = JSON.stringify(await demoBot());
  let brokenAfterwards = false;
  try {
    routingCore.validate_definition(ordinary);
  } catch {
    brokenAfterwards = true;
  }
  routingCore.__wbg_reset_state();
  ok(brokenAfterwards, "an unguarded overflow poisons the instance");
  await ordinaryCallsWork("after the manual reset");
});
