/**
 * `admin-api`: the admin UI's API, one function with routes under
 * `/admin-api/...` (`/functions/v1/admin-api/...` through the gateway).
 *
 * Deployed with `verify_jwt = true`, so the platform's router rejects
 * requests without a valid token; the function verifies the token again
 * itself (defence in depth: HS256 with `SUPABASE_JWT_SECRET`, or the
 * asymmetric signing keys through `SUPABASE_JWKS` / `JWKS_URL`;
 * `alg: none`, wrong keys and expired tokens are 401) and requires a
 * signed-in user's token: `role: authenticated` (403 for other roles),
 * `aud` including `authenticated` and a UUID `sub` (401 otherwise).
 *
 * Each request then runs in one transaction as the caller (`withUser`):
 * the caller's role is read from `members`, checked against the route's
 * minimum (403 otherwise), and the handler's queries run under row-level
 * security. The routes are in `routes/`, their table in `routes.ts`, and
 * the OpenAPI document built from that table is served at
 * `GET /admin-api/openapi.json` (checked in as `docs/openapi.json`).
 *
 * Every error is `{"error": {"code", "message", "details"}}` (see
 * `errors.ts`); every answer carries CORS headers for the admin UI's origin
 * (`ADMIN_UI_ORIGIN`, comma-separated, default `http://localhost:3000`),
 * and `OPTIONS` preflights are answered here.
 *
 * @module
 */

import { WasmTrapError } from "../_shared/wasm-instance.ts";
import { bearerToken, JwtError, verifyJwt } from "../_shared/auth.ts";
import { withUser } from "../_shared/db.ts";
import { type Context, readObjectBody, type Reply, type Role, roleAtLeast, type UserClaims } from "./api.ts";
import { ApiError, fromPostgresError } from "./errors.ts";
import { buildOpenApiDocument, OPENAPI_PATH } from "./openapi.ts";
import { ROUTES } from "./routes.ts";

/** The function's path prefix, as the runtime hands requests to it. */
const PREFIX = "/admin-api";

const DEFAULT_ADMIN_UI_ORIGIN = "http://localhost:3000";

const ALLOWED_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS";
const ALLOWED_HEADERS = "authorization, x-client-info, apikey, content-type";

/** The OpenAPI document, built once per isolate. */
export const OPENAPI_DOCUMENT = buildOpenApiDocument(ROUTES);

interface CompiledRoute {
  pattern: RegExp;
  names: string[];
  route: (typeof ROUTES)[number];
}

const COMPILED: CompiledRoute[] = ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { pattern: new RegExp(`^${source}$`), names, route };
});

/** The origins allowed to call the API from a browser. */
function allowedOrigins(): string[] {
  return (Deno.env.get("ADMIN_UI_ORIGIN") ?? DEFAULT_ADMIN_UI_ORIGIN)
    .split(",").map((origin) => origin.trim().replace(/\/$/, "")).filter((origin) => origin !== "");
}

/** The CORS headers for a request: its origin when allowed, else the first allowed one. */
function corsHeaders(req: Request): Record<string, string> {
  const origins = allowedOrigins();
  const origin = req.headers.get("origin");
  return {
    "access-control-allow-origin": origin !== null && origins.includes(origin)
      ? origin
      : origins[0] ?? "null",
    vary: "Origin",
  };
}

function respond(
  req: Request,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...corsHeaders(req),
      ...headers,
    },
  });
}

function errorReply(req: Request, error: ApiError, headers: Record<string, string> = {}): Response {
  return respond(req, error.status, error.body(), headers);
}

/** Verifies the bearer token and requires a signed-in user's claims. */
/** A user id as Supabase Auth writes it into `sub`. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function authenticate(req: Request): Promise<UserClaims> {
  const token = bearerToken(req);
  if (token === null) {
    throw new ApiError(
      401,
      "unauthorized",
      "missing bearer token: send Authorization: Bearer <access token>",
    );
  }
  let claims;
  try {
    claims = await verifyJwt(token);
  } catch (error) {
    if (error instanceof JwtError) throw new ApiError(401, "unauthorized", error.message);
    throw error;
  }
  if (claims.role !== "authenticated") {
    throw new ApiError(
      403,
      "forbidden",
      `the admin API needs a signed-in user's token, not one of role ${claims.role ?? "none"}`,
    );
  }
  // Supabase Auth issues user tokens for the audience `authenticated` with
  // the user's id as `sub`; a token for another audience, or without a user,
  // was not issued to a signed-in user of this project.
  const audience = (claims as { aud?: unknown }).aud;
  const audiences = Array.isArray(audience) ? audience : [audience];
  if (!audiences.includes("authenticated")) {
    throw new ApiError(401, "unauthorized", "the token's audience (aud) is not authenticated");
  }
  if (typeof claims.sub !== "string" || !UUID.test(claims.sub)) {
    throw new ApiError(401, "unauthorized", "the token names no user (sub must be the user's UUID)");
  }
  return claims as UserClaims;
}

/** Finds the route for a method and path; throws 404 or 405. */
function match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } {
  const allowed: string[] = [];
  for (const compiled of COMPILED) {
    const found = compiled.pattern.exec(path);
    if (found === null) continue;
    if (compiled.route.method === method) {
      const params = Object.fromEntries(
        compiled.names.map((name, index) => {
          try {
            return [name, decodeURIComponent(found[index + 1])];
          } catch {
            throw new ApiError(400, "invalid_request", `${name} in the path is not valid percent-encoding`, {
              field: name,
            });
          }
        }),
      );
      return { route: compiled, params };
    }
    allowed.push(compiled.route.method);
  }
  if (allowed.length > 0) {
    throw new ApiError(
      405,
      "method_not_allowed",
      `${method} is not allowed here; use ${allowed.join(", ")}`,
      {
        allow: allowed,
      },
    );
  }
  throw new ApiError(404, "not_found", `no route ${method} ${PREFIX}${path}`);
}

/** Handles one request (everything but CORS preflights). */
async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  let path = url.pathname;
  if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) {
    throw new ApiError(404, "not_found", `not an admin API path: ${path}`);
  }
  path = path.slice(PREFIX.length).replace(/\/+$/, "") || "/";

  const claims = await authenticate(req);
  if (path === OPENAPI_PATH) {
    if (req.method !== "GET") {
      throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed here; use GET`, {
        allow: ["GET"],
      });
    }
    return respond(req, 200, OPENAPI_DOCUMENT);
  }
  const { route, params } = match(req.method, path);

  let bodyPromise: Promise<Record<string, unknown>> | null = null;
  const reply: Reply = await withUser(claims, async (tx) => {
    const [{ role }] = await tx`select private.member_role() as role`;
    const minRole = route.route.minRole;
    if (minRole !== null && !roleAtLeast(role as Role | null, minRole)) {
      throw new ApiError(
        403,
        "forbidden",
        role === null
          ? "you are not a member of this project"
          : `this needs the ${minRole} role or higher; you are ${role}`,
        { required_role: minRole, role },
      );
    }
    const context: Context = {
      req,
      url,
      params,
      claims,
      role: role as Role | null,
      tx,
      body: () => bodyPromise ??= readObjectBody(req),
    };
    return await route.route.handler(context);
  });
  if ("response" in reply) {
    const headers = new Headers(reply.response.headers);
    for (const [name, value] of Object.entries(corsHeaders(req))) headers.set(name, value);
    return new Response(reply.response.body, { status: reply.response.status, headers });
  }
  return respond(req, reply.status ?? 200, reply.body);
}

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...corsHeaders(req),
          "access-control-allow-methods": ALLOWED_METHODS,
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": "86400",
        },
      });
    }
    try {
      return await handle(req);
    } catch (error) {
      if (error instanceof ApiError) {
        const headers: Record<string, string> = {};
        if (error.status === 401) headers["www-authenticate"] = "Bearer";
        if (error.status === 405) headers.allow = (error.details?.allow as string[]).join(", ");
        return errorReply(req, error, headers);
      }
      const mapped = fromPostgresError(error);
      if (mapped !== null) return errorReply(req, mapped);
      if (error instanceof WasmTrapError) {
        // Logged and counted by the guard; the next call gets a fresh instance.
        return errorReply(req, new ApiError(500, "internal", error.message));
      }
      console.error(`admin-api ${req.method} ${new URL(req.url).pathname} failed:`, error);
      return errorReply(req, new ApiError(500, "internal", "internal error"));
    }
  },
};
