// Session health and alerting from the Rust core (crates/health,
// crates/alerting), compiled to one WebAssembly module and instantiated once
// per isolate when this file loads (docs/adr/0004). health-check and
// alert-dispatch import it through health.ts and alerting.ts.

import * as core from "./core/operations/core.js";
import { wasmBase64 } from "./core/operations/core_wasm.b64.ts";
import { decodeBase64 } from "./core-loader.ts";
import { guarded } from "./wasm-instance.ts";

core.initSync({ module: decodeBase64(wasmBase64) });

// ---------------------------------------------------------------------------

/** The health functions (crates/health/src/call.rs). */
export type HealthFunction =
  | "transition"
  | "evaluate"
  | "evaluate_all"
  | "evaluate_runtime"
  | "reconnect_delay"
  | "pace"
  | "record_rate_limit_error";

/** The alerting functions (crates/alerting/src/call.rs). */
export type AlertingFunction = "reconcile" | "plan";

// Health and alerting inputs can be bulky (a sweep over 10,000 numbers), so
// they cross the boundary as JSON text: JSON.stringify and JSON.parse are
// native and serde_json reads the typed input in one pass (docs/adr/0004).

/** Calls a health function; throws an Error naming the function and the bad field. */
export function health<Output = unknown>(name: HealthFunction, input: unknown): Output {
  const text = JSON.stringify(input);
  return JSON.parse(guarded("operations", core, `health ${name}`, () => core.health(name, text))) as Output;
}

/** Calls an alerting function; throws an Error naming the function and the bad field. */
export function alerting<Output = unknown>(name: AlertingFunction, input: unknown): Output {
  const text = JSON.stringify(input);
  return JSON.parse(
    guarded("operations", core, `alerting ${name}`, () => core.alerting(name, text)),
  ) as Output;
}
