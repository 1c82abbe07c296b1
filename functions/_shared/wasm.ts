// The platform's Rust core (routing, health, alerting), compiled to
// WebAssembly and instantiated once per isolate when this module loads.
//
// The bytes come from the generated module `core/core_wasm.b64.ts` (see
// scripts/build-wasm.sh): they travel in the module graph, so no static file,
// no `file://` fetch and no Docker are needed to deploy, and hosted and local
// runtimes load them the same way.

import * as core from "./core/core.js";
import { wasmBase64 } from "./core/core_wasm.b64.ts";

function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) {
    bytes[index] = binary.charCodeAt(index);
  }
  return bytes;
}

core.initSync({ module: decodeBase64(wasmBase64) });

/** The conversation state the routing core keeps between messages. */
export interface ConversationState {
  awaiting?: string | null;
  retries?: number;
  vars?: Record<string, string>;
  last_inbound_at_ms?: number | null;
}

/** The input of one routing decision. */
export interface RouteInput {
  definition: unknown;
  state: ConversationState | null;
  message: { id: string; text: string };
  contact: { wa_id: string; name: string | null };
  now_ms: number;
}

/** The decision: replies in order, the next state, and what happened. */
export interface RouteOutput {
  replies: Array<{ text: string }>;
  state: ConversationState;
  outcome: string;
}

/** One problem in a bot definition, located by its JSON path. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

/** Decides the replies for one inbound message; throws an Error naming what is wrong. */
export function route(input: RouteInput): RouteOutput {
  return core.route(input) as RouteOutput;
}

/** Returns every problem of a bot definition. */
export function validateDefinition(definition: unknown): { valid: boolean; errors: DefinitionProblem[] } {
  return core.validate_definition(definition) as { valid: boolean; errors: DefinitionProblem[] };
}

/** A health verdict for one session snapshot. */
export interface Verdict {
  number_id: string;
  state: "healthy" | "degraded" | "down" | "stopped";
  reasons: string[];
  actions: Array<{ action: "restart_session" | "re_pair" }>;
}

/** Judges session snapshots at `now_ms`. */
export function evaluateHealth(input: {
  snapshots: Array<{ number_id: string; session_status: string; last_heartbeat_ms: number | null }>;
  policy?: { heartbeat_stale_after_ms: number; heartbeat_dead_after_ms: number };
  now_ms: number;
}): Verdict[] {
  return core.evaluate_health(input) as Verdict[];
}

/** Plans the notifications for one alert. */
export function planAlert(input: {
  alert: { id: string; kind: string; severity: "info" | "warning" | "critical"; status: string };
  channels: Array<
    { id: string; kind: string; min_severity: "info" | "warning" | "critical"; enabled?: boolean }
  >;
}): Array<{ channel_id: string; alert_id: string; text: string }> {
  return core.plan_alert(input) as Array<{ channel_id: string; alert_id: string; text: string }>;
}
