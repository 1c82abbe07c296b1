/**
 * The caller's identity.
 *
 * Two kinds of helpers live here:
 *
 * - {@link readClaims} and {@link requireServiceRole} **decode** the bearer
 *   JWT without verifying its signature. They are only safe in functions
 *   deployed with `verify_jwt = true`, where the router in front of the
 *   function (Supabase's on hosted projects, the local
 *   `supabase/local/gateway.ts` otherwise) has already rejected any token
 *   that is unsigned, wrongly signed or expired before the function runs.
 * - {@link verifyJwt} **verifies** a token itself: HS256 with the legacy
 *   `SUPABASE_JWT_SECRET`, or the asymmetric signing keys through a JWKS
 *   (`SUPABASE_JWKS`, `JWKS_URL`, else `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`). The admin API uses it as a
 *   second line behind the router, and {@link authenticateWorkerCall} uses
 *   it (with the outbox relay's shared secret) for the worker functions,
 *   which run with `verify_jwt = false`.
 *
 * @module
 */

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
} from "npm:jose@5.10.0";

import { json } from "./http.ts";

/** The claims of a Supabase JWT that the functions look at. */
export interface SupabaseClaims extends JWTPayload {
  /** The Postgres role the token acts as: `anon`, `authenticated` or `service_role`. */
  role?: string;
  /** The user's email, for tokens issued to a signed-in user. */
  email?: string;
}

/** Returns the token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  if (header === null) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match === null ? null : match[1];
}

/**
 * Returns the claims of the request's bearer JWT, or null when there is no
 * bearer token or it is not a decodable JWT. The signature is not checked
 * (see the module documentation).
 */
export function readClaims(req: Request): SupabaseClaims | null {
  const token = bearerToken(req);
  if (token === null) return null;
  try {
    return decodeJwt(token) as SupabaseClaims;
  } catch {
    return null;
  }
}

/**
 * Allows only callers whose JWT has `role = service_role`.
 *
 * Returns null when the caller may proceed; otherwise the response to send:
 * 401 `{"error": …}` when there is no decodable bearer JWT, 403
 * `{"error": "this function requires the service_role role"}` when the token
 * acts as any other role.
 */
export function requireServiceRole(req: Request): Response | null {
  const claims = readClaims(req);
  if (claims === null) {
    return json(401, { error: "missing or malformed bearer token" });
  }
  if (claims.role !== "service_role") {
    return json(403, { error: "this function requires the service_role role" });
  }
  return null;
}

// ---------------------------------------------------------------------------
// Verifying tokens (functions that check the caller themselves)
// ---------------------------------------------------------------------------

/** Why a token was refused by {@link verifyJwt}. */
export class JwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwtError";
  }
}

/** The symmetric algorithm of Supabase's legacy JWT secret. */
const SYMMETRIC_ALGORITHMS = ["HS256"];

/** The algorithms of Supabase's asymmetric signing keys. */
const ASYMMETRIC_ALGORITHMS = ["ES256", "RS256", "EdDSA"];

type KeySet = ReturnType<typeof createLocalJWKSet>;

let cachedKeySet: { source: string; keySet: KeySet } | null = null;

/**
 * The key set asymmetric tokens are checked against, first found of:
 *
 * 1. `SUPABASE_JWKS`: the JSON of a JWKS, `{"keys": [...]}`, as hosted
 *    Supabase injects it on some projects;
 * 2. `JWKS_URL`: a key set fetched from that URL;
 * 3. `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`: the project's own
 *    published key set, which every hosted project serves and whose
 *    `SUPABASE_URL` the runtime always injects, so verifying works on
 *    projects that do not inject `SUPABASE_JWKS`.
 *
 * Null when none is configured. A fetched key set is cached per isolate
 * (jose's `createRemoteJWKSet`: keys kept, refetched at most every 30 s
 * when a token names an unknown key). The variables are read on each call,
 * so tests and secret rotations take effect without a restart.
 */
function configuredKeySet(): KeySet | null {
  const inline = Deno.env.get("SUPABASE_JWKS")?.trim();
  const explicitUrl = Deno.env.get("JWKS_URL")?.trim();
  const projectUrl = Deno.env.get("SUPABASE_URL")?.trim().replace(/\/+$/, "");
  const url = explicitUrl || (projectUrl ? `${projectUrl}/auth/v1/.well-known/jwks.json` : "");
  const source = inline ? `inline:${inline}` : url ? `url:${url}` : null;
  if (source === null) return null;
  if (cachedKeySet?.source === source) return cachedKeySet.keySet;
  let keySet: KeySet;
  if (inline) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(inline);
    } catch {
      throw new JwtError("SUPABASE_JWKS is not valid JSON");
    }
    const jwks = Array.isArray(parsed) ? { keys: parsed } : parsed as { keys?: unknown };
    if (!Array.isArray(jwks?.keys)) {
      throw new JwtError('SUPABASE_JWKS must be a JSON Web Key Set: {"keys": [...]}');
    }
    keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  } else {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new JwtError(`the JWKS URL ${explicitUrl ? "(JWKS_URL)" : "(from SUPABASE_URL)"} is not a URL`);
    }
    keySet = createRemoteJWKSet(parsedUrl, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }
  cachedKeySet = { source, keySet };
  return keySet;
}

/**
 * Verifies a Supabase JWT and returns its claims; throws {@link JwtError}
 * otherwise.
 *
 * - HS256 tokens are checked with the legacy JWT secret:
 *   `SUPABASE_JWT_SECRET` (the local stack) or `JWT_SECRET` (hosted, where
 *   the `SUPABASE_` prefix is reserved).
 * - ES256, RS256 and EdDSA tokens are checked against the JWKS configured
 *   by `SUPABASE_JWKS` or `JWKS_URL`, else the project's published
 *   `${SUPABASE_URL}/auth/v1/.well-known/jwks.json` (hosted Supabase's
 *   asymmetric signing keys).
 * - Anything else, `alg: none` included, is refused, as is a token without
 *   an expiry or past it.
 */
export async function verifyJwt(token: string): Promise<SupabaseClaims> {
  let algorithm: string | undefined;
  try {
    algorithm = decodeProtectedHeader(token).alg;
  } catch {
    throw new JwtError("the token is not a JWT");
  }
  try {
    if (algorithm !== undefined && SYMMETRIC_ALGORITHMS.includes(algorithm)) {
      // The local stack sets SUPABASE_JWT_SECRET; hosted projects reserve the
      // SUPABASE_ prefix, so there the legacy secret is set as JWT_SECRET.
      const secret = Deno.env.get("SUPABASE_JWT_SECRET") || Deno.env.get("JWT_SECRET");
      if (!secret) throw new JwtError("HS256 tokens are not accepted: no JWT secret is configured");
      const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
        algorithms: SYMMETRIC_ALGORITHMS,
        requiredClaims: ["exp"],
      });
      return payload as SupabaseClaims;
    }
    if (algorithm !== undefined && ASYMMETRIC_ALGORITHMS.includes(algorithm)) {
      const keySet = configuredKeySet();
      if (keySet === null) {
        throw new JwtError(`${algorithm} tokens are not accepted: no JWKS is configured`);
      }
      const { payload } = await jwtVerify(token, keySet, {
        algorithms: ASYMMETRIC_ALGORITHMS,
        requiredClaims: ["exp"],
      });
      return payload as SupabaseClaims;
    }
  } catch (error) {
    if (error instanceof JwtError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new JwtError(`invalid token: ${reason}`);
  }
  throw new JwtError(`tokens signed with ${algorithm ?? "no algorithm"} are not accepted`);
}

// ---------------------------------------------------------------------------
// Shared secrets (the outbox relay and the functions it calls)
// ---------------------------------------------------------------------------

/**
 * Compares two secrets in time that does not depend on where they differ:
 * both are hashed with SHA-256 first, so their lengths leak nothing either.
 */
export async function secretsMatch(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index] ^ right[index];
  return difference === 0 && expected.length > 0;
}

/** The service-role keys this project accepts as plain secrets. */
function serviceRoleKeys(): string[] {
  const keys: string[] = [];
  const legacy = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (legacy) keys.push(legacy);
  // Hosted projects with the new API keys inject them as a JSON object of
  // name -> `sb_secret_...` key.
  const secretKeys = Deno.env.get("SUPABASE_SECRET_KEYS");
  if (secretKeys) {
    try {
      const parsed = JSON.parse(secretKeys);
      if (typeof parsed === "string") keys.push(parsed);
      else if (parsed !== null && typeof parsed === "object") {
        for (const value of Object.values(parsed)) if (typeof value === "string") keys.push(value);
      }
    } catch {
      keys.push(secretKeys);
    }
  }
  return keys;
}

/** Who called a worker function: the outbox relay or the service role. */
export type WorkerCaller = "relay" | "service_role";

/**
 * Authenticates a call to a worker function (`health-check`,
 * `alert-dispatch`, `outbox-relay`), which runs with `verify_jwt = false`.
 *
 * Accepts `Authorization: Bearer <OUTBOX_RELAY_SECRET>` (the hosted pg_net
 * doorbell and the `outbox-relay` function) and, unless `relayOnly`, the
 * service role: a bearer equal to `SUPABASE_SERVICE_ROLE_KEY`
 * or one of `SUPABASE_SECRET_KEYS`, or a verified JWT whose role is
 * `service_role` (what the session daemon's local relay sends). Returns the
 * caller, or the 401 response to send.
 */
export async function authenticateWorkerCall(
  req: Request,
  options: { relayOnly?: boolean } = {},
): Promise<WorkerCaller | Response> {
  const refused = (message: string) =>
    json(401, { error: message }, { headers: { "www-authenticate": "Bearer" } });
  const token = bearerToken(req);
  const relaySecret = Deno.env.get("OUTBOX_RELAY_SECRET") ?? "";
  if (options.relayOnly && relaySecret === "") {
    return json(503, { error: "OUTBOX_RELAY_SECRET is not configured for this function" });
  }
  if (token === null) return refused("missing bearer token");
  if (relaySecret !== "" && await secretsMatch(token, relaySecret)) return "relay";
  if (options.relayOnly) return refused("invalid relay secret");

  for (const key of serviceRoleKeys()) {
    if (await secretsMatch(token, key)) return "service_role";
  }
  try {
    const claims = await verifyJwt(token);
    if (claims.role === "service_role") return "service_role";
    return refused("this function requires the relay secret or the service role");
  } catch {
    return refused("invalid bearer token");
  }
}
