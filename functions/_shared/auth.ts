/**
 * Reading the caller's identity from the bearer JWT.
 *
 * These helpers **decode** the token; they do not verify its signature. They
 * are only safe in functions deployed with `verify_jwt = true`, where the
 * router in front of the function (Supabase's on hosted projects, the local
 * `supabase/local/gateway.ts` otherwise) has already rejected any token that
 * is unsigned, wrongly signed or expired before the function runs.
 *
 * @module
 */

import { decodeJwt, type JWTPayload } from "npm:jose@5";

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
