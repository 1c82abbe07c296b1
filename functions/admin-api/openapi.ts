/**
 * The admin API's OpenAPI 3.1 document, built from the route table, so the
 * served document and the implemented routes cannot drift apart. It is
 * served at `GET /admin-api/openapi.json` and checked in as
 * `docs/openapi.json`; a test fails when the two differ. Regenerate the
 * file with:
 *
 * ```sh
 * deno run --config functions/deno.json --allow-env --allow-read --allow-write --allow-net \
 *   functions/admin-api/openapi.ts --write
 * ```
 *
 * @module
 */

import { ROLES, type RouteDefinition, type Schema } from "./api.ts";
import { COMPONENT_SCHEMAS, ref } from "./schemas.ts";

/** The route serving the document itself, described in the document too. */
export const OPENAPI_PATH = "/openapi.json";

const ERROR_RESPONSES: Record<string, { description: string }> = {
  "400": { description: "Malformed input (`invalid_request`)." },
  "401": {
    description:
      "No valid token: the platform's router refuses it (`GatewayError`) or the function does (`unauthorized`).",
  },
  "403": { description: "The caller's role may not do this (`forbidden`)." },
  "404": { description: "No such row visible to the caller (`not_found`)." },
  "409": { description: "The change contradicts the current state (`conflict`)." },
  "413": {
    description:
      "The body is larger than 512 KiB, or an uploaded file larger than its kind allows (`payload_too_large`).",
  },
  "415": {
    description:
      "The file's type is not one WhatsApp accepts for its kind, or its bytes are not of the declared type (`unsupported_media_type`).",
  },
  "422": {
    description:
      "The content breaks WhatsApp's rules (`invalid_content`, `window_closed`, `template_not_approved`, `template_parameters`); `details.field` is its JSON path.",
  },
  "502": { description: "The Graph API refused or could not be reached (`upstream_error`)." },
  "503": { description: "Media storage is not configured or not reachable (`storage_unavailable`)." },
};

function errorResponse(description: string): Record<string, unknown> {
  return { description, content: { "application/json": { schema: ref("Error") } } };
}

/** The 401 answer: the router's refusal or the function's own. */
function unauthorizedResponse(): Record<string, unknown> {
  return {
    description: ERROR_RESPONSES["401"].description,
    content: { "application/json": { schema: { oneOf: [ref("Error"), ref("GatewayError")] } } },
  };
}

/** Which error statuses a route can answer. */
function errorStatuses(route: RouteDefinition): string[] {
  const statuses = ["400", "401"];
  if (route.minRole !== null) statuses.push("403");
  if (route.path.includes("{") || route.extraErrorStatuses?.includes("404")) statuses.push("404");
  if (route.method !== "GET") statuses.push("409");
  if (route.requestBody !== undefined || route.rawRequestBody !== undefined) statuses.push("413");
  for (const extra of route.extraErrorStatuses ?? []) {
    if (!statuses.includes(extra)) statuses.push(extra);
  }
  return statuses;
}

/** Builds the OpenAPI document for `routes`. */
export function buildOpenApiDocument(routes: RouteDefinition[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const pathItem = paths[`/admin-api${route.path}`] ??= {};
    const parameters: Record<string, unknown>[] = [];
    for (const match of route.path.matchAll(/\{([a-z_]+)\}/g)) {
      const name = match[1];
      parameters.push({
        name,
        in: "path",
        required: true,
        schema: route.pathParameters?.[name] ?? { type: "string", format: "uuid" },
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
    const responses: Record<string, unknown> = {
      [String(route.response.status)]: route.rawResponse === undefined
        ? {
          description: route.response.description,
          content: { "application/json": { schema: route.response.schema } },
        }
        : {
          description: route.rawResponse.description,
          content: { [route.rawResponse.mediaType]: { schema: { type: "string", format: "binary" } } },
        },
    };
    for (const status of errorStatuses(route)) {
      responses[status] = status === "401"
        ? unauthorizedResponse()
        : errorResponse(ERROR_RESPONSES[status].description);
    }
    if (route.operationId === "createBotVersion") {
      responses["422"] = errorResponse(
        "The definition has errors (`invalid_definition`); `details.errors` lists each with its JSON path.",
      );
    }
    const roleNote = route.minRole === null
      ? "Any signed-in user."
      : `Requires the ${route.minRole} role or higher.`;
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      description: route.description === undefined ? roleNote : `${route.description}\n\n${roleNote}`,
      tags: [route.tag],
      "x-min-role": route.minRole,
      parameters,
      responses,
    };
    if (route.rawRequestBody !== undefined) {
      operation.requestBody = {
        required: true,
        description: route.rawRequestBody.description,
        content: Object.fromEntries(
          route.rawRequestBody.mediaTypes.map((
            type,
          ) => [type, { schema: { type: "string", format: "binary" } }]),
        ),
      };
    } else if (route.requestBody !== undefined) {
      operation.requestBody = {
        required: route.bodyRequired ?? false,
        content: { "application/json": { schema: route.requestBody } },
      };
    }
    pathItem[route.method.toLowerCase()] = operation;
  }
  paths[`/admin-api${OPENAPI_PATH}`] = {
    get: {
      operationId: "getOpenApiDocument",
      summary: "This document",
      description: "Any signed-in user.",
      tags: ["meta"],
      "x-min-role": null,
      parameters: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document.",
          content: { "application/json": { schema: { type: "object" } } },
        },
        "401": unauthorizedResponse(),
      },
    },
  };
  const schemas: Record<string, Schema> = { ...COMPONENT_SCHEMAS };
  return {
    openapi: "3.1.0",
    info: {
      title: "wabot admin API",
      version: "1.0.0",
      description: [
        "The admin API of the WhatsApp bot platform: one Supabase Edge Function (`admin-api`) with routes under `/functions/v1/admin-api/...`.",
        "",
        "Every request carries a signed-in user's Supabase JWT (`Authorization: Bearer <access token>`), verified by the platform and again by the function (HS256 with the project's JWT secret, or the asymmetric signing keys through the JWKS). Every query runs as that user under row-level security; roles come from `members`: " +
        ROLES.join(" < ") + ".",
        "",
        'Errors always have the shape `{"error": {"code", "message", "details"}}`. Lists are paginated with `limit` and an opaque `cursor` (`next_cursor` of the previous page). Bodies are JSON, at most 512 KiB. See docs/api.md for examples.',
      ].join("\n"),
    },
    servers: [
      { url: "http://127.0.0.1:54321/functions/v1", description: "The local stack's gateway" },
      {
        url: "https://{project_ref}.supabase.co/functions/v1",
        variables: { project_ref: { default: "your-project" } },
      },
    ],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "dashboard" },
      { name: "bots" },
      { name: "numbers" },
      { name: "conversations" },
      { name: "media" },
      { name: "templates" },
      { name: "alerts" },
      { name: "alert-channels" },
      { name: "members" },
      { name: "audit" },
      { name: "integrations" },
      { name: "meta" },
    ],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas,
    },
  };
}

if (import.meta.main) {
  // The routes' modules open a (lazy) database pool when they load.
  if (!Deno.env.get("SUPABASE_DB_URL")) {
    Deno.env.set("SUPABASE_DB_URL", "postgresql://unused@127.0.0.1:1/unused");
  }
  const { ROUTES } = await import("./routes.ts");
  const text = JSON.stringify(buildOpenApiDocument(ROUTES), null, 2) + "\n";
  if (Deno.args.includes("--write")) {
    const target = new URL("../../docs/openapi.json", import.meta.url);
    await Deno.writeTextFile(target, text);
    console.log(`wrote ${target.pathname}`);
  } else {
    console.log(text);
  }
}
