/**
 * `messages-api`: the messaging API for other systems, versioned under
 * `/messages-api/v1/...` (`/functions/v1/messages-api/v1/...` through the
 * gateway).
 *
 * Deployed with `verify_jwt = false`: callers authenticate with an API key
 * (`Authorization: Bearer wbk_...`), which is not a JWT. The function
 * checks it (`auth.ts`): unknown, revoked or expired keys are 401 with
 * `WWW-Authenticate`, a missing scope or number 403, and every request
 * counts against the key's per-minute limit (429 with `Retry-After`).
 * Handlers then run in one transaction as the service role and narrow
 * every query to the key's numbers (and, for webhooks, to the key's own
 * subscriptions).
 *
 * The OpenAPI document is served at `GET /messages-api/v1/openapi.json`
 * (no key needed) and checked in as `docs/openapi-messages.json`. Errors
 * are `{"error": {"code", "message", "details"}}` like the admin API's.
 *
 * @module
 */

import { withServiceRole } from "../_shared/db.ts";
import { WasmTrapError } from "../_shared/wasm-instance.ts";
import { readObjectBody } from "../admin-api/api.ts";
import { ApiError, fromPostgresError } from "../admin-api/errors.ts";
import { API_KEY_PATTERN, authenticateApiKey, requireScope, sha256Hex } from "./auth.ts";
import { buildMessagesOpenApi, messagesSchemas, OPENAPI_PATH } from "./openapi.ts";
import { V1_ROUTES, V1_SCHEMAS, type V1Context, type V1Reply, type V1Route } from "./routes.ts";
import { bearerToken } from "../_shared/auth.ts";

const PREFIX = "/messages-api";

/** The document, built once per isolate. */
export const MESSAGES_OPENAPI_DOCUMENT = buildMessagesOpenApi(V1_ROUTES, messagesSchemas(V1_SCHEMAS));

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "retry-after, idempotent-replayed, www-authenticate",
};

interface CompiledRoute {
  pattern: RegExp;
  names: string[];
  route: V1Route;
}

const COMPILED: CompiledRoute[] = V1_ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { pattern: new RegExp(`^${source}$`), names, route };
});

function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...CORS_HEADERS,
      ...headers,
    },
  });
}

function errorResponse(error: ApiError): Response {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers["www-authenticate"] = 'Bearer realm="messages-api"';
  if (error.status === 405) headers.allow = (error.details?.allow as string[]).join(", ");
  if (error.status === 429) headers["retry-after"] = String(error.details?.retry_after ?? 60);
  return respond(error.status, error.body(), headers);
}

function match(method: string, path: string): { route: V1Route; params: Record<string, string> } {
  const allowed: string[] = [];
  for (const compiled of COMPILED) {
    const found = compiled.pattern.exec(path);
    if (found === null) continue;
    if (compiled.route.method !== method) {
      allowed.push(compiled.route.method);
      continue;
    }
    const params: Record<string, string> = {};
    compiled.names.forEach((name, index) => {
      try {
        params[name] = decodeURIComponent(found[index + 1]);
      } catch {
        throw new ApiError(400, "invalid_request", `${name} in the path is not valid percent-encoding`, {
          field: name,
        });
      }
    });
    return { route: compiled.route, params };
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

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  let path = url.pathname;
  if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) {
    throw new ApiError(404, "not_found", `not a messaging API path: ${path}`);
  }
  path = path.slice(PREFIX.length).replace(/\/+$/, "") || "/";
  if (path === OPENAPI_PATH) {
    if (req.method !== "GET") {
      throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed here; use GET`, {
        allow: ["GET"],
      });
    }
    return respond(200, MESSAGES_OPENAPI_DOCUMENT);
  }
  // The key first: an unauthenticated caller learns nothing of the routes.
  const key = await authenticateApiKey(req, 1);
  const { route, params } = match(req.method, path);
  requireScope(key, route.scope);
  const token = bearerToken(req) ?? "";
  const keyHash = API_KEY_PATTERN.test(token) ? await sha256Hex(token) : "";
  let bodyPromise: Promise<Record<string, unknown>> | null = null;
  const reply: V1Reply = await withServiceRole(async (tx) => {
    const context: V1Context = {
      req,
      url,
      params,
      key,
      keyHash,
      tx,
      body: () => bodyPromise ??= readObjectBody(req),
    };
    return await route.handler(context);
  });
  return respond(reply.status ?? 200, reply.body, reply.headers);
}

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS_HEADERS,
          "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers": "authorization, content-type, idempotency-key",
          "access-control-max-age": "86400",
        },
      });
    }
    try {
      return await handle(req);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(error);
      const mapped = fromPostgresError(error);
      if (mapped !== null) return errorResponse(mapped);
      if (error instanceof WasmTrapError) return errorResponse(new ApiError(500, "internal", error.message));
      console.error(`messages-api ${req.method} ${new URL(req.url).pathname} failed:`, error);
      return errorResponse(new ApiError(500, "internal", "internal error"));
    }
  },
};
