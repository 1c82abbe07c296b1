/**
 * API keys: their format, hashing, and authenticating a request with one.
 *
 * A key is `wbk_<8 hex>_<48 hex>` (`wbk_<8 hex>` is its public prefix). The
 * database keeps only its SHA-256; `private.api_key_request` finds the key
 * by that hash and, in the same statement, counts the request against the
 * key's per-minute limit.
 *
 * @module
 */

import { bearerToken } from "../_shared/auth.ts";
import { withServiceRole } from "../_shared/db.ts";
import { ApiError } from "../admin-api/errors.ts";

/** The scopes a key can hold. */
export const API_SCOPES = [
  "messages:send",
  "messages:read",
  "contacts:read",
  "webhooks:manage",
  "conversations:override_handoff",
] as const;

/** A scope. */
export type ApiScope = typeof API_SCOPES[number];

/** The shape of a whole key. */
export const API_KEY_PATTERN = /^wbk_[0-9a-f]{8}_[0-9a-f]{48}$/;

/** A new key and what the database stores of it. */
export interface NewApiKey {
  key: string;
  prefix: string;
  sha256: string;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a text, hex. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** Makes a key from 28 random bytes. */
export async function generateApiKey(): Promise<NewApiKey> {
  const bytes = crypto.getRandomValues(new Uint8Array(28));
  const prefix = `wbk_${hex(bytes.slice(0, 4))}`;
  const key = `${prefix}_${hex(bytes.slice(4))}`;
  return { key, prefix, sha256: await sha256Hex(key) };
}

/** An authenticated key, as a request sees it. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  /** The numbers the key may act on; null for all. */
  numberIds: string[] | null;
  rateLimitPerMinute: number;
}

/** 401 with the reason; the answer carries `WWW-Authenticate`. */
function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message);
}

/** 429 `rate_limited` with the seconds to wait (sent as `Retry-After`). */
export function rateLimited(retryAfter: number, limit: number): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    `this API key may make ${limit} requests a minute (a bulk send counts each message); retry in ${retryAfter} s`,
    { retry_after: retryAfter, limit_per_minute: limit },
  );
}

/**
 * Authenticates a request by its `Authorization: Bearer <key>` and counts
 * `cost` requests (0: authenticate only). 401 for a missing, malformed,
 * unknown, revoked or expired key; 429 over the limit.
 */
export async function authenticateApiKey(req: Request, cost: number): Promise<ApiKeyInfo> {
  const token = bearerToken(req);
  if (token === null) {
    throw unauthorized("missing API key: send Authorization: Bearer <API key>");
  }
  if (!API_KEY_PATTERN.test(token)) {
    throw unauthorized("the bearer token is not an API key of this platform (wbk_…)");
  }
  return await chargeApiKey(await sha256Hex(token), cost);
}

/** Counts `cost` requests against the key with this hash (see {@link authenticateApiKey}). */
export async function chargeApiKey(sha256: string, cost: number): Promise<ApiKeyInfo> {
  const [row] = await withServiceRole((tx) =>
    tx`
    select id, name, prefix, scopes, number_ids, rate_limit_per_minute, state, retry_after
    from private.api_key_request(${sha256}, ${cost})`
  );
  switch (row?.state) {
    case "active":
      break;
    case "revoked":
      throw unauthorized(`the API key ${row.prefix} was revoked`);
    case "expired":
      throw unauthorized(`the API key ${row.prefix} has expired`);
    default:
      throw unauthorized("unknown API key");
  }
  if (row.retry_after > 0) throw rateLimited(row.retry_after as number, row.rate_limit_per_minute as number);
  return {
    id: row.id as string,
    name: row.name as string,
    prefix: row.prefix as string,
    scopes: row.scopes as ApiScope[],
    numberIds: row.number_ids as string[] | null,
    rateLimitPerMinute: row.rate_limit_per_minute as number,
  };
}

/** 403 `insufficient_scope` unless the key holds `scope`. */
export function requireScope(key: ApiKeyInfo, scope: ApiScope): void {
  if (!key.scopes.includes(scope)) {
    throw new ApiError(403, "insufficient_scope", `this API key lacks the scope ${scope}`, {
      required_scope: scope,
      scopes: key.scopes,
    });
  }
}

/** Whether the key may act on the number. */
export function numberAllowed(key: ApiKeyInfo, numberId: string): boolean {
  return key.numberIds === null || key.numberIds.includes(numberId);
}

/** 403 `number_not_allowed` unless the key may act on the number. */
export function requireNumber(key: ApiKeyInfo, numberId: string, field = "number_id"): void {
  if (!numberAllowed(key, numberId)) {
    throw new ApiError(403, "number_not_allowed", `this API key may not use the number ${numberId}`, {
      field,
      number_ids: key.numberIds,
    });
  }
}
