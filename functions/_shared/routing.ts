// Routing decisions from the Rust core (crates/routing), compiled to its own
// WebAssembly module and instantiated once per isolate when this file loads.
// Functions that route (route-message, the admin API's validation) import
// this; health and alerting live in operations.ts, so neither pays for the
// other's module (docs/adr/0004). The types mirror the Rust serde types; the
// shared fixtures (functions/tests/core_fixtures_test.ts) keep them honest.

import * as core from "./core/routing/core.js";
import { wasmBase64 } from "./core/routing/core_wasm.b64.ts";
import { decodeBase64 } from "./core-loader.ts";
import { guarded } from "./wasm-instance.ts";
import type { Content } from "./message-content.ts";

export type { Content } from "./message-content.ts";

core.initSync({ module: decodeBase64(wasmBase64) });

/**
 * Calls an export with JSON text and parses its JSON answer. Every input
 * crosses as text, so the module reads it within its bounds (size, nesting
 * depth) instead of walking a JS object graph without limit; a trap
 * replaces the instance (wasm-instance.ts).
 */
function call<Output>(entry: string, run: () => string): Output {
  return JSON.parse(guarded("routing", core, entry, run)) as Output;
}

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
  offered?: string[];
}

/** A message to send to the contact: the message model's content (generated from the Rust types). */
export type OutboundMessage = Content;

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
  message: { id: string; text: string; reply_id?: string | null; content?: Content | null };
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
  const withDefinition = hasCompiledBot(definitionKey)
    ? { ...request, definition_key: definitionKey }
    : { ...request, definition_key: definitionKey, definition };
  return call("route", () => core.route(JSON.stringify(withDefinition)));
}

/**
 * Whether this isolate has already compiled the definition under `definitionKey`
 * (`<version id>:<checksum>`): then `route` needs no `definition`, and the
 * caller can skip reading it.
 */
export function hasCompiledBot(definitionKey: string): boolean {
  return guarded("routing", core, "has_compiled_bot", () => core.has_compiled_bot(definitionKey));
}

/** Returns every error and warning of a bot definition. */
export function validateDefinition(definition: unknown): ValidationReport {
  // JSON.stringify throws a RangeError on a graph too deep for the engine:
  // report it like the module reports a definition nested too deep.
  let text: string;
  try {
    text = JSON.stringify(definition);
  } catch (error) {
    return {
      errors: [{
        path: "$",
        code: "too_complex",
        message: `the definition cannot be read: ${String(error)}`,
      }],
      warnings: [],
    };
  }
  return call("validate_definition", () => core.validate_definition(text));
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
  return call("select_version", () => core.select_version(JSON.stringify(input)));
}

/** Returns the state with the human handoff released. */
export function releaseHandoff(state: ConversationState): ConversationState {
  return call("release_handoff", () => core.release_handoff(JSON.stringify(state)));
}

/** One way outbound content breaks WhatsApp's limits, its path relative to the content. */
export interface ContentProblem {
  path: string;
  code: string;
  message: string;
}

/** Checks outbound content against WhatsApp's limits (the Rust model's check); empty when it may be sent. */
export function checkContent(content: unknown): ContentProblem[] {
  let text: string;
  try {
    text = JSON.stringify(content);
  } catch (error) {
    return [{ path: "", code: "invalid", message: `the content cannot be read: ${String(error)}` }];
  }
  return call<{ problems: ContentProblem[] }>("check_content", () => core.check_content(text)).problems;
}
