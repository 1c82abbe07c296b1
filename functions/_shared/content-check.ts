/**
 * Checks outbound content, with nothing written twice:
 *
 * 1. **Shape**: the content must be the message model's JSON. Each kind's
 *    validator is generated from the model's JSON Schema (which the Rust
 *    types write) into standalone code by Ajv
 *    (`_shared/generated/message-content-validate.ts`,
 *    `scripts/gen-message-types.sh`), so a malformed field is named by its
 *    exact path (`buttons[1].title`).
 * 2. **WhatsApp's limits**: `check_outbound` of `crates/message-model`,
 *    through the routing module's `checkContent` export: the very check the
 *    daemon runs before a send.
 *
 * Paths are relative to the content; callers prefix them (`content.`).
 *
 * @module
 */

import * as validators from "./generated/message-content-validate.ts";
import { checkContent, type ContentProblem } from "./routing.ts";
import { CONTENT_KINDS } from "./message-content.ts";

export type { ContentProblem } from "./routing.ts";

/** The kinds only ever received (`check_outbound` refuses them as `inbound_only`). */
const INBOUND_ONLY: readonly string[] = ["button_reply", "list_reply", "system", "unknown"];

/** The kinds a member may send: the model's kinds but those only received. */
export const OUTBOUND_KINDS = CONTENT_KINDS.filter((kind) => !INBOUND_ONLY.includes(kind));

/** One error of an Ajv validator (the fields this module reads). */
interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** `/buttons/1/title` as the model's paths are written: `buttons[1].title`. */
function pathOf(pointer: string, child?: string): string {
  const parts = pointer.split("/").slice(1).map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (child !== undefined) parts.push(child);
  let path = "";
  for (const part of parts) {
    path += /^\d+$/.test(part) ? `[${part}]` : path === "" ? part : `.${part}`;
  }
  return path;
}

/** The shape problems of content of a known kind, one per field, in the schema's order. */
function shapeProblems(validate: Validator, content: unknown): ContentProblem[] {
  if (validate(content)) return [];
  const seen = new Set<string>();
  const problems: ContentProblem[] = [];
  for (const error of validate.errors ?? []) {
    // allOf/oneOf wrappers repeat what their branches said.
    if (error.keyword === "allOf" || error.keyword === "oneOf" || error.keyword === "anyOf") continue;
    const missing = error.keyword === "required" ? String(error.params.missingProperty) : undefined;
    const path = pathOf(error.instancePath, missing);
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push({
      path,
      code: missing === undefined ? "invalid" : "missing",
      message: missing === undefined
        ? `${path || "the content"} ${error.message ?? "is invalid"}`
        : `${path} is required`,
    });
  }
  return problems;
}

/**
 * Checks content about to be sent; an empty list means it has the model's
 * shape and meets WhatsApp's documented limits.
 */
export function checkOutbound(content: unknown): ContentProblem[] {
  if (typeof content !== "object" || content === null || Array.isArray(content)) {
    return [{ path: "", code: "invalid", message: "the content must be a JSON object with a kind" }];
  }
  const kind = (content as Record<string, unknown>).kind;
  if (typeof kind !== "string") {
    return [{
      path: "kind",
      code: "missing",
      message: `kind is required: one of ${OUTBOUND_KINDS.join(", ")}`,
    }];
  }
  const validate = (validators as Record<string, Validator | undefined>)[`validate_${kind}`];
  if (validate === undefined) {
    return [{
      path: "kind",
      code: "invalid",
      message: `unknown kind ${JSON.stringify(kind)}: one of ${OUTBOUND_KINDS.join(", ")}`,
    }];
  }
  const shape = shapeProblems(validate, content);
  return shape.length > 0 ? shape : checkContent(content);
}
