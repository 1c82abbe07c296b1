/**
 * The admin API's building blocks: route definitions (which also describe
 * the route for the OpenAPI document), the request context handlers get,
 * input validation, and keyset pagination.
 *
 * Every handler runs inside one transaction as the caller
 * (`withUser(claims, …)`: role `authenticated`, `request.jwt.claims` set),
 * so row-level security and column grants decide what it may read and
 * write, exactly as they would for PostgREST. The router checks the
 * caller's role (from `members`) against the route's minimum first, to
 * answer 403 with a clear message rather than an empty result.
 *
 * @module
 */

import type { SupabaseClaims } from "../_shared/auth.ts";
import type { Tx } from "../_shared/db.ts";
import { HttpError, readJson } from "../_shared/http.ts";
import { ApiError, invalid } from "./errors.ts";

/** Members' roles, lowest first. */
export const ROLES = ["viewer", "operator", "admin", "owner"] as const;

/** A member's role. */
export type Role = typeof ROLES[number];

/** Whether `role` is at least `minimum`. */
export function roleAtLeast(role: Role | null, minimum: Role): boolean {
  return role !== null && ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** The largest request body the admin API reads (a bot definition is the big one). */
export const MAX_BODY_BYTES = 512 * 1024;

/** A JSON Schema object, as embedded in the OpenAPI document. */
export type Schema = Record<string, unknown>;

/** A query parameter, for validation and the OpenAPI document. */
export interface QueryParameter {
  name: string;
  description: string;
  schema: Schema;
}

/**
 * What a handler answers: a status (default 200) and a JSON body, or a
 * ready response (a streamed file) that gets the CORS headers added.
 */
export type Reply = { status?: number; body: unknown } | { response: Response };

/** The claims of a verified, signed-in user's token. */
export type UserClaims = SupabaseClaims & { sub: string };

/** What a handler gets. */
export interface Context {
  req: Request;
  url: URL;
  /** The path parameters, by name. */
  params: Record<string, string>;
  /** The caller's verified claims. */
  claims: UserClaims;
  /** The caller's role, or null when they are not a member. */
  role: Role | null;
  /** The transaction, as the caller. */
  tx: Tx;
  /** The JSON body: an object; `{}` when the request has no body. */
  body(): Promise<Record<string, unknown>>;
}

/** One route of the admin API. */
export interface RouteDefinition {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** The path below `/admin-api`, with `{name}` parameters, e.g. `/bots/{bot_id}`. */
  path: string;
  /** The OpenAPI operation id. */
  operationId: string;
  summary: string;
  description?: string;
  /** The OpenAPI tag. */
  tag: string;
  /** The lowest role allowed; null for any signed-in user (members or not). */
  minRole: Role | null;
  /** The schema of each path parameter; `uuid` unless named here. */
  pathParameters?: Record<string, Schema>;
  query?: QueryParameter[];
  /** The JSON body's schema, if the route takes one. */
  requestBody?: Schema;
  /** Whether the request body is required. */
  bodyRequired?: boolean;
  /**
   * A raw (not JSON) request body, for the OpenAPI document: the media
   * types accepted, each with its schema (a file upload).
   */
  rawRequestBody?: { description: string; mediaTypes: string[] };
  /** A raw (not JSON) success body, for the OpenAPI document (a streamed file). */
  rawResponse?: { description: string; mediaType: string };
  /** The success status and the schema of its body. */
  response: { status: number; description: string; schema: Schema };
  /**
   * Error statuses the route answers beyond those its shape implies (see
   * `errorStatuses` in `openapi.ts`), e.g. a 404 for a row named in the body.
   */
  extraErrorStatuses?: Array<"404" | "413" | "415" | "422" | "502" | "503">;
  handler(context: Context): Promise<Reply>;
}

// ---------------------------------------------------------------------------
// Reading the body
// ---------------------------------------------------------------------------

/** Reads the request's JSON object body (bounded); `{}` when there is none. */
export async function readObjectBody(req: Request): Promise<Record<string, unknown>> {
  if (req.body === null || req.headers.get("content-length") === "0") return {};
  let body: unknown;
  try {
    body = await readJson(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof HttpError) {
      if (error.status === 413) {
        throw new ApiError(413, "payload_too_large", error.message, { max_bytes: MAX_BODY_BYTES });
      }
      if (/empty/.test(error.message)) return {};
      throw invalid(error.message);
    }
    throw error;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("the request body must be a JSON object");
  }
  checkBodyShape(body);
  return body as Record<string, unknown>;
}

/** How deep a request body may nest (no operation needs more than 12). */
export const MAX_BODY_DEPTH = 32;

/** `parent.key`, or `parent["key"]` when the key is not a plain identifier. */
function childPath(parent: string, key: string): string {
  return /^[A-Za-z0-9_]+$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Refuses, before any handler reads it, a body nested deeper than
 * {@link MAX_BODY_DEPTH} or holding a NUL character (`\u0000`) in any string
 * or key, which no text column, `jsonb` value or WhatsApp message can carry:
 * 400 naming the JSON path (`definition.nodes[0].text`). The walk uses its
 * own stack, so a body of any depth is safe to check.
 */
export function checkBodyShape(body: unknown): void {
  const pending: Array<[unknown, string, number]> = [[body, "", 0]];
  while (pending.length > 0) {
    const [value, path, depth] = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) {
        throw invalid(`${path || "the body"} must not contain the NUL character (\\u0000)`, path);
      }
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) {
      const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
      throw invalid(`the body nests deeper than ${MAX_BODY_DEPTH} levels at ${shown}`, shown);
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${path}[${index}]`, depth + 1]));
    } else {
      for (const [key, item] of Object.entries(value)) {
        const child = path === "" && /^[A-Za-z0-9_]+$/.test(key) ? key : childPath(path, key);
        if (key.includes("\u0000")) {
          throw invalid(`the key at ${child} must not contain the NUL character (\\u0000)`, child);
        }
        pending.push([item, child, depth + 1]);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_PATTERN.test(value);
}

/** Options of {@link text}. */
interface TextOptions {
  min?: number;
  max?: number;
  pattern?: RegExp;
  patternHint?: string;
}

/** Reads a required string field. */
export function text(body: Record<string, unknown>, field: string, options: TextOptions = {}): string {
  const value = body[field];
  if (typeof value !== "string") throw invalid(`${field} is required and must be a string`, field);
  return checkText(value, field, options);
}

/** Reads an optional string field: undefined when absent. */
export function optionalText(
  body: Record<string, unknown>,
  field: string,
  options: TextOptions = {},
): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(`${field} must be a string`, field);
  return checkText(value, field, options);
}

function checkText(value: string, field: string, options: TextOptions): string {
  const length = [...value].length;
  if (options.min !== undefined && length < options.min) {
    throw invalid(`${field} must be at least ${options.min} character(s) long`, field);
  }
  if (options.max !== undefined && length > options.max) {
    throw invalid(`${field} must be at most ${options.max} characters long`, field);
  }
  if (options.pattern !== undefined && !options.pattern.test(value)) {
    throw invalid(`${field} ${options.patternHint ?? `must match ${options.pattern}`}`, field);
  }
  return value;
}

/** Reads an optional boolean field. */
export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw invalid(`${field} must be true or false`, field);
  return value;
}

/** Reads an optional integer field within bounds. */
export function optionalInteger(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}`, field);
  }
  return value as number;
}

/** Reads an optional UUID field; null stays null (to clear a reference). */
export function optionalUuid(body: Record<string, unknown>, field: string): string | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value as null | undefined;
  if (!isUuid(value)) throw invalid(`${field} must be a UUID or null`, field);
  return value.toLowerCase();
}

/** Reads a field that must be one of `choices`. */
export function optionalChoice<T extends string>(
  body: Record<string, unknown>,
  field: string,
  choices: readonly T[],
): T | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !choices.includes(value as T)) {
    throw invalid(`${field} must be one of ${choices.join(", ")}`, field);
  }
  return value as T;
}

/** Refuses fields the route does not know, so typos do not pass silently. */
export function onlyFields(body: Record<string, unknown>, allowed: string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ApiError(400, "invalid_request", `unknown field(s): ${unknown.join(", ")}`, {
      unknown_fields: unknown,
      allowed_fields: allowed,
    });
  }
}

/** A path parameter that must be a UUID (lowercased). */
export function uuidParam(context: Context, name: string): string {
  const value = context.params[name];
  if (!isUuid(value)) throw invalid(`${name} in the path must be a UUID`, name);
  return value.toLowerCase();
}

// ---------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------

/** A query parameter that must be one of `choices`, or undefined. */
export function queryChoice<T extends string>(url: URL, name: string, choices: readonly T[]): T | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  if (!choices.includes(value as T)) {
    throw invalid(`query parameter ${name} must be one of ${choices.join(", ")}`, name);
  }
  return value as T;
}

/** A comma-separated query parameter whose items must be in `choices`. */
export function queryChoices<T extends string>(
  url: URL,
  name: string,
  choices: readonly T[],
): T[] | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  const items = value.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!choices.includes(item as T)) {
      throw invalid(`query parameter ${name} must list values among ${choices.join(", ")}`, name);
    }
  }
  return items as T[];
}

/** A UUID query parameter, or undefined. */
export function queryUuid(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  if (!isUuid(value)) throw invalid(`query parameter ${name} must be a UUID`, name);
  return value.toLowerCase();
}

/** A boolean query parameter (`true` or `false`), or undefined. */
export function queryBoolean(url: URL, name: string): boolean | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  if (value !== "true" && value !== "false") {
    throw invalid(`query parameter ${name} must be true or false`, name);
  }
  return value === "true";
}

/**
 * An ISO 8601 date or date-time: `Date.parse` alone also takes free text
 * such as `' or '1'='1` (as the year 1). A `+` of an unencoded offset
 * arrives as a space and is read as `+`.
 */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+\- ]\d{2}(?::?\d{2})?)?)?$/i;

/** A timestamp query parameter (ISO 8601), as an ISO string, or undefined. */
export function queryTimestamp(url: URL, name: string): string | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return undefined;
  if (!ISO_8601.test(raw)) throw invalid(`query parameter ${name} must be an ISO 8601 timestamp`, name);
  const value = raw.replace(/ (\d{2}(?::?\d{2})?)$/, "+$1");
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`query parameter ${name} must be an ISO 8601 timestamp`, name);
  return new Date(ms).toISOString();
}

/** A free-text query parameter, bounded, or undefined. */
export function queryText(url: URL, name: string, max = 200): string | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  if (value.length > max) throw invalid(`query parameter ${name} must be at most ${max} characters`, name);
  return value;
}

/** Escapes `%`, `_` and `\` for a LIKE pattern. */
export function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

// ---------------------------------------------------------------------------
// Keyset pagination
// ---------------------------------------------------------------------------

/** The default and largest page sizes. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** The query parameters every list takes. */
export const PAGE_PARAMETERS: QueryParameter[] = [
  {
    name: "limit",
    description: `How many items to return, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`,
    schema: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
  {
    name: "cursor",
    description: "The `next_cursor` of the previous page; absent for the first page.",
    schema: { type: "string" },
  },
];

/** A page request: the size and the decoded cursor (the last row's sort key). */
export interface PageRequest {
  limit: number;
  /** The sort key of the last item of the previous page, or null. */
  after: Array<string | number> | null;
}

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): string {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - text.length % 4) % 4);
  const binary = atob(padded);
  return new TextDecoder().decode(Uint8Array.from(binary, (character) => character.charCodeAt(0)));
}

/**
 * Reads `limit` and `cursor`. `keyShape` says what the sort key holds, in
 * order: `timestamp`, `uuid`, `integer` or `text`.
 */
export function pageRequest(
  url: URL,
  keyShape: Array<"timestamp" | "uuid" | "integer" | "text">,
): PageRequest {
  const limitText = url.searchParams.get("limit");
  let limit = DEFAULT_LIMIT;
  if (limitText !== null && limitText !== "") {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw invalid(`query parameter limit must be an integer from 1 to ${MAX_LIMIT}`, "limit");
    }
  }
  const cursor = url.searchParams.get("cursor");
  if (cursor === null || cursor === "") return { limit, after: null };
  let after: unknown;
  try {
    after = JSON.parse(fromBase64url(cursor));
  } catch {
    throw invalid("query parameter cursor is not a cursor this API issued", "cursor");
  }
  const valid = Array.isArray(after) && after.length === keyShape.length &&
    keyShape.every((shape, index) => {
      const value = (after as unknown[])[index];
      switch (shape) {
        case "timestamp":
          return typeof value === "string" && !Number.isNaN(Date.parse(value));
        case "uuid":
          return isUuid(value);
        case "integer":
          return (typeof value === "number" && Number.isSafeInteger(value)) ||
            (typeof value === "string" && /^[0-9]{1,19}$/.test(value));
        case "text":
          return typeof value === "string";
      }
    });
  if (!valid) throw invalid("query parameter cursor is not a cursor this API issued", "cursor");
  return { limit, after: after as Array<string | number> };
}

/**
 * The keyset condition of a page sorted by (`timeColumn`, `idColumn`), a
 * timestamp and a uuid: the rows after the cursor's key, newest first (or
 * oldest first with `order: "ascending"`); every row on the first page.
 *
 * The cursor's timestamp goes to Postgres as text and is cast there: a
 * parameter typed timestamptz is serialised by postgres.js through a JS Date,
 * which keeps milliseconds only, so the cursor fell before its own row (an
 * ascending list returned the same row forever, a descending one skipped rows
 * in the same millisecond).
 */
export function afterCursor(
  tx: Tx,
  page: PageRequest,
  timeColumn: string,
  idColumn: string,
  order: "descending" | "ascending" = "descending",
) {
  const time = page.after?.[0] ?? null;
  const id = page.after?.[1] ?? null;
  const key = tx`(${tx(timeColumn)}, ${tx(idColumn)})`;
  const cursor = tx`(${time}::text::timestamptz, ${id}::uuid)`;
  return order === "descending"
    ? tx`(${time}::text is null or ${key} < ${cursor})`
    : tx`(${time}::text is null or ${key} > ${cursor})`;
}

/** A page of a list. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * Builds a page from rows fetched with `limit + 1` that carry their sort
 * key as JSON text in `_key`; the key is removed from the items.
 */
export function toPage<T extends Record<string, unknown>>(rows: T[], limit: number): Page<Omit<T, "_key">> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? base64url(String(last._key)) : null;
  return {
    data: items.map(({ _key: _, ...item }) => item),
    next_cursor: nextCursor,
  };
}
