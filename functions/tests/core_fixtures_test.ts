/**
 * The core crates' shared fixtures replayed against the built Wasm module,
 * loaded exactly as the Edge Functions load them (`_shared/routing.ts`,
 * `_shared/operations.ts`). The same
 * files run natively (`cargo test`) and under Node (`wasm-bindgen-test`), so
 * the three must agree with the expected JSON exactly.
 *
 * @module
 */

import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { alerting, type AlertingFunction } from "../_shared/alerting.ts";
import { health, type HealthFunction } from "../_shared/health.ts";
import { route, selectVersion, validateDefinition } from "../_shared/routing.ts";
import type { ConversationState, RouteInput, VersionSelectionInput } from "../_shared/routing.ts";
import { REPO_ROOT } from "./helpers.ts";

async function fixture<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(new URL(path, REPO_ROOT))) as T;
}

interface RoutingScenario {
  name: string;
  definition: unknown;
  contact: RouteInput["contact"];
  steps: Array<{ now_ms: number; seed: number; message: RouteInput["message"]; expect: unknown }>;
}

Deno.test("routing scenarios give the expected actions and states", async () => {
  const scenarios = await fixture<RoutingScenario[]>("crates/routing/fixtures/scenarios.json");
  ok(scenarios.length >= 10, "the routing fixture lost its scenarios");
  for (const [scenarioIndex, scenario] of scenarios.entries()) {
    const definition = typeof scenario.definition === "string"
      ? await fixture(`crates/routing/fixtures/${scenario.definition}`)
      : scenario.definition;
    let state: ConversationState | null = null;
    for (const [stepIndex, step] of scenario.steps.entries()) {
      const output = route({
        definitionKey: `deno-scenario-${scenarioIndex}`,
        definition,
        state,
        message: step.message,
        contact: scenario.contact,
        now_ms: step.now_ms,
        seed: step.seed,
      });
      deepStrictEqual(output, step.expect, `${scenario.name} step ${stepIndex}`);
      state = output.state;
    }
  }
});

Deno.test("invalid definitions report every problem with its JSON path", async () => {
  const cases = await fixture<Array<{ name: string; definition: unknown; expect: unknown }>>(
    "crates/routing/fixtures/invalid-definitions.json",
  );
  for (const testCase of cases) {
    deepStrictEqual(validateDefinition(testCase.definition), testCase.expect, testCase.name);
  }
  const withManyErrors = cases.find((testCase) =>
    (testCase.expect as { errors: unknown[] }).errors.length >= 2
  );
  ok(withManyErrors, "a fixture with at least two errors");
  const paths = (withManyErrors.expect as { errors: Array<{ path: string }> }).errors.map((error) =>
    error.path
  );
  throws(
    () =>
      route({
        definitionKey: "deno-invalid",
        definition: withManyErrors.definition,
        state: null,
        message: { id: "m1", text: "hi" },
        contact: { wa_id: "15550100002", name: null },
        now_ms: 0,
      }),
    (error: Error) => paths.every((path) => error.message.includes(path)),
  );
});

Deno.test("version selection is identical", async () => {
  const cases = await fixture<Array<{ name: string; input: VersionSelectionInput; expect: unknown }>>(
    "crates/routing/fixtures/version-selection.json",
  );
  for (const testCase of cases) {
    deepStrictEqual(selectVersion(testCase.input), testCase.expect, testCase.name);
  }
});

interface CallScenario<Name> {
  name: string;
  steps: Array<{ call: Name; input: unknown; expect: unknown }>;
}

Deno.test("health scenarios over simulated time are identical", async () => {
  const scenarios = await fixture<CallScenario<HealthFunction>[]>("crates/health/fixtures/scenarios.json");
  ok(scenarios.length > 0);
  for (const scenario of scenarios) {
    for (const [stepIndex, step] of scenario.steps.entries()) {
      deepStrictEqual(health(step.call, step.input), step.expect, `${scenario.name} step ${stepIndex}`);
    }
  }
});

Deno.test("alerting scenarios are identical", async () => {
  const scenarios = await fixture<CallScenario<AlertingFunction>[]>(
    "crates/alerting/fixtures/scenarios.json",
  );
  ok(scenarios.length > 0);
  for (const scenario of scenarios) {
    for (const [stepIndex, step] of scenario.steps.entries()) {
      deepStrictEqual(alerting(step.call, step.input), step.expect, `${scenario.name} step ${stepIndex}`);
    }
  }
});

Deno.test("malformed input is an Error naming the function and the field", () => {
  throws(() => health("evaluate", { snapshot: 7, now_ms: 0 }), /evaluate.*snapshot/);
  throws(() => alerting("plan" as AlertingFunction, { nonsense: true }), /plan/);
});
