/**
 * The messaging API's OpenAPI 3.1 document, built from its route table.
 * Served at `GET /messages-api/v1/openapi.json` and checked in as
 * `docs/openapi-messages.json` (a test fails when they differ). Regenerate
 * with:
 *
 * ```sh
 * deno run --config functions/deno.json -A functions/messages-api/openapi.ts --write
 * ```
 *
 * @module
 */

import { COMPONENT_SCHEMAS, ref } from "../admin-api/schemas.ts";
import type { V1Route } from "./routes.ts";

/** The document's own path. */
export const OPENAPI_PATH = "/v1/openapi.json";

const ERRORS: Record<string, string> = {
  "400": "Malformed input (`invalid_request`); `details.field` names the field.",
  "401": "No API key, or one that is unknown, revoked or expired (`unauthorized`).",
  "403": "The key lacks the scope (`insufficient_scope`) or may not use the number (`number_not_allowed`).",
  "404": "No such thing visible to the key (`not_found`, `unknown_number`).",
  "409":
    "The number's session is not connected (`number_not_connected`) or an agent took the conversation over (`conversation_taken_over`).",
  "413": "The body is over 512 KiB, or a fetched file over its kind's limit (`payload_too_large`).",
  "415": "A fetched file's type is not one WhatsApp accepts for its kind (`unsupported_media_type`).",
  "422":
    "Refused content: `invalid_content` (WhatsApp's limits), `opted_out`, `window_closed`, `template_not_approved`, `template_parameters`, `idempotency_key_reused`; `details.field` is its JSON path.",
  "429": "Over the key's rate limit (`rate_limited`); wait `Retry-After` seconds.",
  "503": "Media storage is not reachable (`storage_unavailable`).",
};

function errorResponse(status: string): Record<string, unknown> {
  const response: Record<string, unknown> = {
    description: ERRORS[status],
    content: { "application/json": { schema: ref("Error") } },
  };
  if (status === "429") {
    response.headers = {
      "Retry-After": { description: "Seconds until the key's window resets.", schema: { type: "integer" } },
    };
  }
  if (status === "401") {
    response.headers = { "WWW-Authenticate": { schema: { type: "string" } } };
  }
  return response;
}

/** Builds the document. */
export function buildMessagesOpenApi(
  routes: V1Route[],
  schemas: Record<string, unknown>,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = paths[`/messages-api${route.path}`] ??= {};
    const parameters: Record<string, unknown>[] = [];
    for (const match of route.path.matchAll(/\{([a-z_]+)\}/g)) {
      parameters.push({
        name: match[1],
        in: "path",
        required: true,
        schema: route.pathParameters?.[match[1]] ?? { type: "string", format: "uuid" },
      });
    }
    for (const query of route.query ?? []) {
      parameters.push({
        name: query.name,
        in: "query",
        required: false,
        description: query.description,
        schema: query.schema,
      });
    }
    for (const header of route.headers ?? []) {
      parameters.push({
        name: header.name,
        in: "header",
        required: false,
        description: header.description,
        schema: header.schema,
      });
    }
    const responses: Record<string, unknown> = {
      [String(route.response.status)]: {
        description: route.response.description,
        content: { "application/json": { schema: route.response.schema } },
      },
    };
    for (const status of ["400", "401", "403", "429", ...route.errorStatuses].sort()) {
      responses[status] = errorResponse(status);
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      description: `${
        route.description === undefined ? "" : `${route.description}\n\n`
      }Needs the scope \`${route.scope}\`.`,
      tags: [route.tag],
      "x-scope": route.scope,
      parameters,
      responses,
    };
    if (route.requestBody !== undefined) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: route.requestBody } },
      };
    }
    item[route.method.toLowerCase()] = operation;
  }
  paths[`/messages-api${OPENAPI_PATH}`] = {
    get: {
      operationId: "getOpenApiDocument",
      summary: "This document (no key needed)",
      tags: ["meta"],
      security: [],
      parameters: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document.",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "wabot messaging API",
      version: "1.0.0",
      description: [
        "The messaging API of the WhatsApp bot platform, for other systems (a CRM, an order system, an n8n workflow): one Supabase Edge Function (`messages-api`), versioned under `/messages-api/v1/...`.",
        "",
        "Authenticate with an API key made by an admin in the console: `Authorization: Bearer wbk_...`. Each key has scopes, may be limited to some numbers, and has a rate limit per minute (429 with `Retry-After` over it).",
        "",
        'Errors have the shape `{"error": {"code", "message", "details"}}`; `details.field` names the field. Lists use keyset pagination (`limit`, `cursor` = the previous page\'s `next_cursor`). Events come as Standard Webhooks; see docs/integration.md.',
      ].join("\n"),
    },
    servers: [
      { url: "http://127.0.0.1:54321/functions/v1", description: "The local stack's gateway" },
      {
        url: "https://{project_ref}.supabase.co/functions/v1",
        variables: { project_ref: { default: "your-project" } },
      },
    ],
    security: [{ apiKey: [] }],
    tags: [{ name: "messages" }, { name: "conversations" }, { name: "contacts" }, { name: "webhooks" }, {
      name: "meta",
    }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", bearerFormat: "wbk_<8 hex>_<48 hex>" },
      },
      schemas,
    },
  };
}

/** The component schemas the document needs: the messaging API's and the admin API's it refers to. */
export function messagesSchemas(own: Record<string, unknown>): Record<string, unknown> {
  const names = [
    "Error",
    "Content",
    "WebhookSubscription",
    "WebhookSubscriptionWithSecret",
    "WebhookDelivery",
    "WebhookDeliveryDetail",
    "ReplayResult",
  ];
  return { ...Object.fromEntries(names.map((name) => [name, COMPONENT_SCHEMAS[name]])), ...own };
}

if (import.meta.main) {
  if (!Deno.env.get("SUPABASE_DB_URL")) {
    Deno.env.set("SUPABASE_DB_URL", "postgresql://unused@127.0.0.1:1/unused");
  }
  const { V1_ROUTES, V1_SCHEMAS } = await import("./routes.ts");
  const text = JSON.stringify(buildMessagesOpenApi(V1_ROUTES, messagesSchemas(V1_SCHEMAS)), null, 2) + "\n";
  if (Deno.args.includes("--write")) {
    const target = new URL("../../docs/openapi-messages.json", import.meta.url);
    await Deno.writeTextFile(target, text);
    console.log(`wrote ${target.pathname}`);
  } else {
    console.log(text);
  }
}
