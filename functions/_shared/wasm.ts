// The platform's Rust core (routing, health, alerting), compiled to
// WebAssembly and instantiated once per isolate when this module loads.
//
// The bytes come from the generated module `core/core_wasm.b64.ts` (see
// scripts/build-wasm.sh): they travel in the module graph, so no static file,
// no `file://` fetch and no Docker are needed to deploy, and hosted and local
// runtimes load them the same way. The types below mirror the Rust serde
// types of `crates/routing`, `crates/health` and `crates/alerting`; the
// shared fixtures (functions/tests/core_fixtures_test.ts) keep them honest.

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

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/** What the routing core remembers about a conversation between messages. */
export interface ConversationState {
  awaiting?: string | null;
  retries?: number;
  vars?: Record<string, string>;
  tags?: string[];
  handoff?: boolean;
  opted_out?: boolean;
  last_inbound_at_ms?: number | null;
}

/** A message to send to the contact. */
export type OutboundMessage =
  | { kind: "text"; text: string }
  | {
    kind: "media";
    media: { url: string | null; media_id: string | null; mime_type: string; filename: string | null };
    caption: string | null;
  }
  | { kind: "buttons"; text: string; buttons: Array<{ id: string; title: string }> }
  | {
    kind: "list";
    text: string;
    button: string;
    sections: Array<
      { title: string | null; rows: Array<{ id: string; title: string; description: string | null }> }
    >;
  };

/** One thing the caller must do, in order. */
export type Action =
  | { type: "send_message"; message: OutboundMessage }
  | { type: "handoff"; reason: string }
  | { type: "opt_out" }
  | { type: "opt_in" }
  | { type: "tag"; tag: string }
  | { type: "untag"; tag: string }
  | { type: "set_contact_attribute"; name: string; value: string }
  | { type: "notify"; text: string };

/** The input of one routing decision. */
export interface RouteInput {
  /** A stable key for the definition (e.g. the bot version id and checksum): the compiled bot is cached under it. */
  definitionKey: string;
  definition: unknown;
  state: ConversationState | null;
  message: { id: string; text: string; reply_id?: string | null };
  contact: { wa_id: string; name: string | null; attributes?: Record<string, string> };
  now_ms: number;
  seed?: number;
}

/** The decision: actions in order, the next state, and what happened. */
export interface RouteOutput {
  actions: Action[];
  state: ConversationState;
  outcome: string;
}

/** One problem in a bot definition, located by its JSON path. */
export interface DefinitionProblem {
  path: string;
  code: string;
  message: string;
}

/** Every error and warning of a bot definition. */
export interface ValidationReport {
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
}

/** Decides what one inbound message causes; throws an Error naming every problem of an invalid definition. */
export function route(input: RouteInput): RouteOutput {
  const { definitionKey, definition, ...request } = input;
  const withDefinition = core.has_compiled_bot(definitionKey)
    ? { ...request, definition_key: definitionKey }
    : { ...request, definition_key: definitionKey, definition };
  return core.route(withDefinition) as RouteOutput;
}

/** Returns every error and warning of a bot definition. */
export function validateDefinition(definition: unknown): ValidationReport {
  return core.validate_definition(definition) as ValidationReport;
}

/** The input of version selection. */
export interface VersionSelectionInput {
  bot: {
    bot_id: string;
    published: { version_id: string; number: number } | null;
    canary?: { version_id: string; number: number; share_basis_points: number } | null;
  };
  conversation_version_id: string | null;
  contact_id: string;
}

/** Which version a conversation uses, and why. */
export interface VersionChoice {
  version_id: string | null;
  reason: "existing_conversation" | "canary" | "published" | "no_published_version";
  bucket: number;
}

/** Chooses the bot version for a conversation (sticky canary by contact hash). */
export function selectVersion(input: VersionSelectionInput): VersionChoice {
  return core.select_version(input) as VersionChoice;
}

/** Returns the state with the human handoff released. */
export function releaseHandoff(state: ConversationState): ConversationState {
  return core.release_handoff(state) as ConversationState;
}

// ---------------------------------------------------------------------------
// Health and alerting: JSON in, JSON out, by function name
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

/** Calls a health function; throws an Error naming the function and the bad field. */
export function health<Output = unknown>(name: HealthFunction, input: unknown): Output {
  return core.health(name, input) as Output;
}

/** Calls an alerting function; throws an Error naming the function and the bad field. */
export function alerting<Output = unknown>(name: AlertingFunction, input: unknown): Output {
  return core.alerting(name, input) as Output;
}
