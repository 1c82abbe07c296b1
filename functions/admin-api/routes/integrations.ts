/**
 * Integrations, for admins: API keys of the messaging API (create, shown
 * once; list; read; revoke) and event-webhook subscriptions (create with
 * their secret, change, pause and resume, rotate the secret, test-send,
 * the delivery log, replays).
 *
 * @module
 */

import { generateApiKey } from "../../messages-api/auth.ts";
import {
  type Context,
  isUuid,
  onlyFields,
  optionalInteger,
  PAGE_PARAMETERS,
  pageRequest,
  queryChoice,
  type RouteDefinition,
  text,
  toPage,
  uuidParam,
} from "../api.ts";
import { invalid, notFound } from "../errors.ts";
import { object, pageOf, ref } from "../schemas.ts";
import {
  createSubscription,
  deleteSubscription,
  DELIVERY_STATUSES,
  getDelivery,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  replayDelivery,
  replayRange,
  rotateSecret,
  sendTestEvent,
  updateSubscription,
  WEBHOOK_EVENT_TYPES,
  type WebhookActor,
} from "../webhooks.ts";

const SCOPES = [
  "messages:send",
  "messages:read",
  "contacts:read",
  "webhooks:manage",
  "conversations:override_handoff",
] as const;

const API_KEY_COLUMNS = [
  "id",
  "name",
  "prefix",
  "scopes",
  "number_ids",
  "rate_limit_per_minute",
  "expires_at",
  "revoked_at",
  "revoked_by",
  "created_by",
  "created_at",
  "last_used_at",
];

/** A key's status, computed from its columns. */
function keyStatus(context: Context) {
  return context.tx`case when revoked_at is not null then 'revoked'
                         when expires_at is not null and expires_at <= now() then 'expired'
                         else 'active' end as status`;
}

async function readApiKey(context: Context, id: string): Promise<Record<string, unknown>> {
  const [row] = await context.tx`
    select ${context.tx(API_KEY_COLUMNS)}, ${keyStatus(context)} from public.api_keys where id = ${id}`;
  if (row === undefined) throw notFound(`API key ${id}`);
  return row;
}

function readScopes(body: Record<string, unknown>): string[] {
  const scopes = body.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > SCOPES.length) {
    throw invalid(`scopes must list 1 to ${SCOPES.length} of ${SCOPES.join(", ")}`, "scopes");
  }
  scopes.forEach((scope, index) => {
    if (typeof scope !== "string" || !(SCOPES as readonly string[]).includes(scope)) {
      throw invalid(`scopes[${index}] must be one of ${SCOPES.join(", ")}`, `scopes[${index}]`);
    }
  });
  return [...new Set(scopes as string[])];
}

function readKeyNumbers(body: Record<string, unknown>): string[] | null {
  const ids = body.number_ids;
  if (ids === undefined || ids === null) return null;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000) {
    throw invalid("number_ids must be null (every number) or list 1 to 1000 number UUIDs", "number_ids");
  }
  ids.forEach((id, index) => {
    if (!isUuid(id)) throw invalid(`number_ids[${index}] must be a UUID`, `number_ids[${index}]`);
  });
  return [...new Set((ids as string[]).map((id) => id.toLowerCase()))];
}

function readExpiry(body: Record<string, unknown>): string | null {
  const value = body.expires_at;
  if (value === undefined || value === null) return null;
  if (
    typeof value !== "string" ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw invalid("expires_at must be an ISO 8601 date-time with a time zone, or null", "expires_at");
  }
  if (Date.parse(value) <= Date.now()) throw invalid("expires_at must be in the future", "expires_at");
  return new Date(Date.parse(value)).toISOString();
}

function actorOf(context: Context): WebhookActor {
  return { tx: context.tx, apiKeyId: null };
}

const apiKeyIdParameter = { api_key_id: { type: "string", format: "uuid" } };
const webhookIdParameter = { webhook_id: { type: "string", format: "uuid" } };
const deliveryParameters = {
  webhook_id: { type: "string", format: "uuid" },
  delivery_id: { type: "integer", minimum: 1 },
};

/** A delivery id in the path. */
function deliveryParam(context: Context): number {
  const raw = context.params.delivery_id;
  if (!/^[1-9][0-9]{0,17}$/.test(raw)) {
    throw invalid("delivery_id in the path must be a positive integer", "delivery_id");
  }
  return Number(raw);
}

const subscriptionBody = object({
  name: { type: "string", minLength: 1, maxLength: 200 },
  url: {
    type: "string",
    minLength: 1,
    maxLength: 2048,
    description: "An http(s) URL that passes the outbound-URL guard (no internal addresses).",
  },
  events: {
    type: "array",
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] },
  },
  number_ids: {
    type: ["array", "null"],
    minItems: 1,
    maxItems: 1000,
    items: { type: "string", format: "uuid" },
    description: "Only these numbers' events; null or absent for every number.",
  },
}, ["number_ids"]);

export const integrationRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/api-keys",
    operationId: "listApiKeys",
    summary: "API keys of the messaging API, newest first (never the keys themselves)",
    tag: "integrations",
    minRole: "admin",
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of API keys.", schema: pageOf("ApiKey") },
    async handler(context) {
      const { tx } = context;
      const page = pageRequest(context.url, ["timestamp", "uuid"]);
      const time = page.after?.[0] ?? null;
      const after = page.after?.[1] ?? null;
      const rows = await tx`
        select ${tx(API_KEY_COLUMNS)}, ${keyStatus(context)}, json_build_array(created_at, id)::text as _key
        from public.api_keys
        where (${time}::text is null or (created_at, id) < (${time}::text::timestamptz, ${after}::uuid))
        order by created_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/api-keys",
    operationId: "createApiKey",
    summary: "Create an API key; the answer holds the key, shown this once",
    description:
      "Only the key's SHA-256 is stored. `scopes` are messages:send, messages:read, contacts:read, webhooks:manage and conversations:override_handoff (send into conversations an agent took over). `number_ids` limits the key to some numbers (null for all); `rate_limit_per_minute` defaults to 600; `expires_at` is optional. Audited as `api_keys.insert` (the hash redacted).",
    tag: "integrations",
    minRole: "admin",
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      scopes: {
        type: "array",
        minItems: 1,
        maxItems: SCOPES.length,
        items: { type: "string", enum: [...SCOPES] },
      },
      number_ids: {
        type: ["array", "null"],
        minItems: 1,
        maxItems: 1000,
        items: { type: "string", format: "uuid" },
      },
      rate_limit_per_minute: { type: "integer", minimum: 1, maximum: 100000 },
      expires_at: { type: ["string", "null"], format: "date-time" },
    }, ["number_ids", "rate_limit_per_minute", "expires_at"]),
    bodyRequired: true,
    response: { status: 201, description: "The key, with `key` shown once.", schema: ref("ApiKeyCreated") },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, ["name", "scopes", "number_ids", "rate_limit_per_minute", "expires_at"]);
      const name = text(body, "name", { min: 1, max: 200 });
      const scopes = readScopes(body);
      const numberIds = readKeyNumbers(body);
      const rateLimit = optionalInteger(body, "rate_limit_per_minute", 1, 100000) ?? 600;
      const expiresAt = readExpiry(body);
      if (numberIds !== null) {
        const found = await context.tx`select id from public.numbers where id = any(${numberIds}::uuid[])`;
        const known = new Set(found.map((row) => row.id as string));
        const missing = numberIds.findIndex((id) => !known.has(id));
        if (missing >= 0) {
          throw invalid(`number_ids[${missing}]: no number ${numberIds[missing]}`, `number_ids[${missing}]`);
        }
      }
      const generated = await generateApiKey();
      const [{ id }] = await context.tx`
        select private.create_api_key(${name}, ${generated.prefix}, ${generated.sha256}, ${scopes}::text[],
                                      ${numberIds}::uuid[], ${rateLimit}, ${expiresAt}::timestamptz) as id`;
      return { status: 201, body: { ...await readApiKey(context, id as string), key: generated.key } };
    },
  },
  {
    method: "GET",
    path: "/api-keys/{api_key_id}",
    operationId: "getApiKey",
    summary: "Read an API key (its prefix, scopes, limits and last use)",
    tag: "integrations",
    minRole: "admin",
    pathParameters: apiKeyIdParameter,
    response: { status: 200, description: "The API key.", schema: ref("ApiKey") },
    async handler(context) {
      return { body: await readApiKey(context, uuidParam(context, "api_key_id")) };
    },
  },
  {
    method: "POST",
    path: "/api-keys/{api_key_id}/revoke",
    operationId: "revokeApiKey",
    summary: "Revoke an API key: every later request with it is 401",
    description: "Revoking twice is harmless. Audited as `api_keys.update` (revoked_at, revoked_by).",
    tag: "integrations",
    minRole: "admin",
    pathParameters: apiKeyIdParameter,
    response: { status: 200, description: "The revoked key.", schema: ref("ApiKey") },
    async handler(context) {
      const id = uuidParam(context, "api_key_id");
      await readApiKey(context, id);
      await context.tx`select private.revoke_api_key(${id}::uuid)`;
      return { body: await readApiKey(context, id) };
    },
  },
  {
    method: "GET",
    path: "/webhooks",
    operationId: "listWebhooks",
    summary: "Event-webhook subscriptions, newest first",
    tag: "integrations",
    minRole: "admin",
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of subscriptions.", schema: pageOf("WebhookSubscription") },
    async handler(context) {
      return {
        body: await listSubscriptions(actorOf(context), pageRequest(context.url, ["timestamp", "uuid"])),
      };
    },
  },
  {
    method: "POST",
    path: "/webhooks",
    operationId: "createWebhook",
    summary: "Subscribe a URL to events; the answer holds the signing secret, shown this once",
    description:
      "Events are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the `whsec_` secret. The URL must pass the outbound-URL guard (400 naming `url`). See docs/integration.md for the payloads.",
    tag: "integrations",
    minRole: "admin",
    requestBody: subscriptionBody,
    bodyRequired: true,
    response: {
      status: 201,
      description: "The subscription, with `secret` shown once.",
      schema: ref("WebhookSubscriptionWithSecret"),
    },
    async handler(context) {
      return { status: 201, body: await createSubscription(actorOf(context), await context.body()) };
    },
  },
  {
    method: "GET",
    path: "/webhooks/{webhook_id}",
    operationId: "getWebhook",
    summary: "Read a subscription",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    response: { status: 200, description: "The subscription.", schema: ref("WebhookSubscription") },
    async handler(context) {
      return { body: await getSubscription(actorOf(context), uuidParam(context, "webhook_id")) };
    },
  },
  {
    method: "PATCH",
    path: "/webhooks/{webhook_id}",
    operationId: "updateWebhook",
    summary: "Change a subscription; `status` pauses it or resumes it",
    description:
      "Resuming (`status: active`) delivers every event queued while it was paused, oldest first per conversation, and resolves its `webhook_paused` alert.",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    requestBody: {
      type: "object",
      properties: {
        ...(subscriptionBody.properties as Record<string, unknown>),
        status: { type: "string", enum: ["active", "paused"] },
      },
    },
    bodyRequired: true,
    response: { status: 200, description: "The subscription.", schema: ref("WebhookSubscription") },
    async handler(context) {
      const id = uuidParam(context, "webhook_id");
      return { body: await updateSubscription(actorOf(context), id, await context.body()) };
    },
  },
  {
    method: "DELETE",
    path: "/webhooks/{webhook_id}",
    operationId: "deleteWebhook",
    summary: "Delete a subscription and its delivery log",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    response: { status: 200, description: "The deleted subscription.", schema: ref("WebhookSubscription") },
    async handler(context) {
      const id = uuidParam(context, "webhook_id");
      const subscription = await getSubscription(actorOf(context), id);
      await deleteSubscription(actorOf(context), id);
      return { body: subscription };
    },
  },
  {
    method: "POST",
    path: "/webhooks/{webhook_id}/rotate-secret",
    operationId: "rotateWebhookSecret",
    summary: "Replace the signing secret; the answer holds the new one, shown once",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    response: {
      status: 200,
      description: "The subscription with its new secret.",
      schema: ref("WebhookSubscriptionWithSecret"),
    },
    async handler(context) {
      return { body: await rotateSecret(actorOf(context), uuidParam(context, "webhook_id")) };
    },
  },
  {
    method: "POST",
    path: "/webhooks/{webhook_id}/test",
    operationId: "testWebhook",
    summary: "Send a `webhook.test` event to this subscription",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    response: { status: 202, description: "The queued delivery.", schema: ref("WebhookDelivery") },
    async handler(context) {
      return { status: 202, body: await sendTestEvent(actorOf(context), uuidParam(context, "webhook_id")) };
    },
  },
  {
    method: "GET",
    path: "/webhooks/{webhook_id}/deliveries",
    operationId: "listWebhookDeliveries",
    summary: "The delivery log of a subscription, newest first",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    query: [
      {
        name: "status",
        description: "Only deliveries in this status: pending, delivered or dead (dead letters).",
        schema: { type: "string", enum: [...DELIVERY_STATUSES] },
      },
      {
        name: "event_type",
        description: "Only deliveries of this event type.",
        schema: { type: "string" },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of deliveries.", schema: pageOf("WebhookDelivery") },
    async handler(context) {
      const id = uuidParam(context, "webhook_id");
      const status = queryChoice(context.url, "status", DELIVERY_STATUSES);
      const eventType = queryChoice(context.url, "event_type", [...WEBHOOK_EVENT_TYPES, "webhook.test"]);
      return {
        body: await listDeliveries(actorOf(context), id, pageRequest(context.url, ["integer"]), {
          status,
          eventType,
        }),
      };
    },
  },
  {
    method: "GET",
    path: "/webhooks/{webhook_id}/deliveries/{delivery_id}",
    operationId: "getWebhookDelivery",
    summary: "A delivery with its event and every attempt",
    tag: "integrations",
    minRole: "admin",
    pathParameters: deliveryParameters,
    response: { status: 200, description: "The delivery.", schema: ref("WebhookDeliveryDetail") },
    async handler(context) {
      return {
        body: await getDelivery(actorOf(context), uuidParam(context, "webhook_id"), deliveryParam(context)),
      };
    },
  },
  {
    method: "POST",
    path: "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    operationId: "replayWebhookDelivery",
    summary: "Deliver a delivery's event again (a dead letter, or any other)",
    tag: "integrations",
    minRole: "admin",
    pathParameters: deliveryParameters,
    response: { status: 202, description: "The new delivery.", schema: ref("WebhookDelivery") },
    async handler(context) {
      return {
        status: 202,
        body: await replayDelivery(
          actorOf(context),
          uuidParam(context, "webhook_id"),
          deliveryParam(context),
        ),
      };
    },
  },
  {
    method: "POST",
    path: "/webhooks/{webhook_id}/replay",
    operationId: "replayWebhookEvents",
    summary: "Deliver again every event of a time range the subscription got",
    description:
      "`since` (required) and `until` (default now) bound the events' times; `event_types` narrows them.",
    tag: "integrations",
    minRole: "admin",
    pathParameters: webhookIdParameter,
    requestBody: object({
      since: { type: "string", format: "date-time" },
      until: { type: "string", format: "date-time" },
      event_types: { type: "array", minItems: 1, items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] } },
    }, ["until", "event_types"]),
    bodyRequired: true,
    response: { status: 202, description: "How many deliveries were queued.", schema: ref("ReplayResult") },
    async handler(context) {
      const id = uuidParam(context, "webhook_id");
      return { status: 202, body: await replayRange(actorOf(context), id, await context.body()) };
    },
  },
];
