/**
 * The messaging API's routes (`/messages-api/v1/...`), each with the scope
 * it needs and what the OpenAPI document says of it.
 *
 * @module
 */

import type { Tx } from "../_shared/db.ts";
import {
  afterCursor,
  isUuid,
  PAGE_PARAMETERS,
  pageRequest,
  queryChoice,
  type QueryParameter,
  queryUuid,
  type Schema,
  toPage,
} from "../admin-api/api.ts";
import { ApiError, fromPostgresError, invalid, notFound } from "../admin-api/errors.ts";
import { object, pageOf, ref } from "../admin-api/schemas.ts";
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
  updateSubscription,
  WEBHOOK_EVENT_TYPES,
  type WebhookActor,
} from "../admin-api/webhooks.ts";
import { type ApiKeyInfo, type ApiScope, chargeApiKey, numberAllowed } from "./auth.ts";
import { claimIdempotencyKey, idempotencyKeyOf, MAX_BULK_MESSAGES, rememberAnswer, sendOne } from "./send.ts";

/** What a handler gets. */
export interface V1Context {
  req: Request;
  url: URL;
  params: Record<string, string>;
  key: ApiKeyInfo;
  /** The key's SHA-256, to count a bulk call's messages. */
  keyHash: string;
  /** The transaction, as the service role (narrowed to the key's numbers by the handlers). */
  tx: Tx;
  body(): Promise<Record<string, unknown>>;
}

/** A handler's answer. */
export interface V1Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One route. */
export interface V1Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Below `/messages-api`, e.g. `/v1/messages/{message_id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  scope: ApiScope;
  pathParameters?: Record<string, Schema>;
  query?: QueryParameter[];
  requestBody?: Schema;
  /** Request headers the route reads. */
  headers?: Array<{ name: string; description: string; schema: Schema }>;
  response: { status: number; description: string; schema: Schema };
  /** Error statuses beyond 400, 401, 403 and 429. */
  errorStatuses: string[];
  handler(context: V1Context): Promise<V1Reply>;
}

/** The columns of a message the API answers with. */
export const MESSAGE_COLUMNS = [
  "id",
  "number_id",
  "conversation_id",
  "direction",
  "contact_wa_id",
  "wa_message_id",
  "type",
  "body",
  "content",
  "context_wa_message_id",
  "status",
  "api_key_id",
  "created_at",
  "sent_at",
  "delivered_at",
  "read_at",
  "failed_at",
  "error",
];

const CONVERSATION_COLUMNS = [
  "id",
  "number_id",
  "contact_wa_id",
  "contact_name",
  "contact_id",
  "mode",
  "opted_out",
  "last_activity_at",
  "last_inbound_at",
  "created_at",
];

function uuidPath(context: V1Context, name: string): string {
  const value = context.params[name];
  if (!isUuid(value)) throw invalid(`${name} in the path must be a UUID`, name);
  return value.toLowerCase();
}

/** The key's numbers as a SQL condition on `column`. */
function keyNumbers(context: V1Context, column: string) {
  const ids = context.key.numberIds;
  return ids === null ? context.tx`true` : context.tx`${context.tx(column)} = any(${ids}::uuid[])`;
}

function actorOf(context: V1Context): WebhookActor {
  return { tx: context.tx, apiKeyId: context.key.id };
}

const sendBody = object({
  number_id: { type: "string", format: "uuid", description: "The number to send from." },
  to: {
    type: "string",
    pattern: "^\\+?[1-9][0-9]{6,14}$",
    description: "The contact's phone number, E.164 (`+15551234567`).",
  },
  content: ref("Content"),
  reply_to: { type: "string", format: "uuid", description: "A message of the conversation to quote." },
}, ["reply_to"]);

const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  description:
    "Makes the send safe to retry: the same key with the same body answers the first send's result (with `Idempotent-Replayed: true`) and sends nothing new, for 24 hours; with another body, 422 `idempotency_key_reused`.",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
};

const webhookIdParameter = { webhook_id: { type: "string", format: "uuid" } };

/** Every route. */
export const V1_ROUTES: V1Route[] = [
  {
    method: "POST",
    path: "/v1/messages",
    operationId: "sendMessage",
    summary: "Send a message from a number to a contact",
    description:
      "Queues one message of any kind (text, image, video, audio, voice, document, sticker, location, contacts, reaction, buttons, list, template); the session daemon sends it with the same queue, pacing and ban-risk rules as the bot's replies. Media come from `content.url` (fetched through the outbound-URL guard and stored) or `content.storage_key`. Refused: an unknown number (404 `unknown_number`), a number whose session is not connected (409 `number_not_connected`), an opted-out contact (422 `opted_out`), a free-form message outside the Cloud API's 24-hour window (422 `window_closed`), a conversation an agent took over (409 `conversation_taken_over`, unless the key has `conversations:override_handoff`). Follow the message with `GET /v1/messages/{id}` or the `message.*` webhooks.",
    tag: "messages",
    scope: "messages:send",
    headers: [IDEMPOTENCY_HEADER],
    requestBody: sendBody,
    response: { status: 202, description: "The queued message.", schema: ref("SendAccepted") },
    errorStatuses: ["404", "409", "413", "415", "422", "503"],
    async handler(context) {
      const body = await context.body();
      const idempotencyKey = idempotencyKeyOf(context.req);
      if (idempotencyKey !== null) {
        const replayed = await claimIdempotencyKey(context.tx, context.key, idempotencyKey, {
          path: "/v1/messages",
          body,
        });
        if (replayed !== null) {
          return { status: replayed.status, body: replayed.body, headers: { "idempotent-replayed": "true" } };
        }
      }
      const accepted = await sendOne(context.tx, context.key, body);
      if (idempotencyKey !== null) {
        await rememberAnswer(context.tx, context.key, idempotencyKey, 202, accepted);
      }
      return { status: 202, body: accepted };
    },
  },
  {
    method: "POST",
    path: "/v1/messages/bulk",
    operationId: "sendMessages",
    summary: `Send up to ${MAX_BULK_MESSAGES} messages in one call, each reported on its own`,
    description:
      `Each item is a send like \`POST /v1/messages\` (plus an optional \`idempotency_key\`), checked and queued on its own: one refused item does not stop the others. The daemon paces them per number. Each message counts against the key's rate limit (429 for the whole call when they do not fit).`,
    tag: "messages",
    scope: "messages:send",
    requestBody: object({
      messages: {
        type: "array",
        minItems: 1,
        maxItems: MAX_BULK_MESSAGES,
        items: {
          ...sendBody,
          properties: {
            ...(sendBody.properties as Record<string, unknown>),
            idempotency_key: IDEMPOTENCY_HEADER.schema,
          },
        },
      },
    }),
    response: { status: 202, description: "One result per message, in order.", schema: ref("BulkResult") },
    errorStatuses: ["413"],
    async handler(context) {
      const body = await context.body();
      const unknown = Object.keys(body).filter((key) => key !== "messages");
      if (unknown.length > 0) {
        throw new ApiError(400, "invalid_request", `unknown field(s): ${unknown.join(", ")}`, {
          unknown_fields: unknown,
          allowed_fields: ["messages"],
        });
      }
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BULK_MESSAGES) {
        throw invalid(`messages must list 1 to ${MAX_BULK_MESSAGES} messages`, "messages");
      }
      // The first message was counted when the key was checked.
      if (messages.length > 1) await chargeApiKey(context.keyHash, messages.length - 1);
      const results: Array<Record<string, unknown>> = [];
      for (const [index, item] of messages.entries()) {
        const path = `messages[${index}].`;
        try {
          if (typeof item !== "object" || item === null || Array.isArray(item)) {
            throw invalid(`messages[${index}] must be an object`, `messages[${index}]`);
          }
          const fields = { ...item as Record<string, unknown> };
          const itemKey = fields.idempotency_key;
          delete fields.idempotency_key;
          if (
            itemKey !== undefined && (typeof itemKey !== "string" || !/^[\x21-\x7e]{1,255}$/.test(itemKey))
          ) {
            throw invalid(
              `${path}idempotency_key must be 1 to 255 printable ASCII characters`,
              `${path}idempotency_key`,
            );
          }
          const accepted = await context.tx.savepoint(async (sp) => {
            if (typeof itemKey === "string") {
              const replayed = await claimIdempotencyKey(sp, context.key, itemKey, {
                path: "/v1/messages",
                body: fields,
              });
              if (replayed !== null) return { ...replayed.body, replayed: true };
            }
            const sent = await sendOne(sp, context.key, fields, path);
            if (typeof itemKey === "string") await rememberAnswer(sp, context.key, itemKey, 202, sent);
            return sent;
          });
          const { status: _, ...queued } = accepted;
          results.push({ index, status: "queued", ...queued });
        } catch (error) {
          const refused = error instanceof ApiError ? error : fromPostgresError(error);
          if (refused === null) throw error;
          results.push({
            index,
            status: "refused",
            error: refused.body().error,
            http_status: refused.status,
          });
        }
      }
      return {
        status: 202,
        body: {
          queued: results.filter((result) => result.status === "queued").length,
          refused: results.filter((result) => result.status === "refused").length,
          results,
        },
      };
    },
  },
  {
    method: "GET",
    path: "/v1/messages/{message_id}",
    operationId: "getMessage",
    summary:
      "A message and its status (queued, sending, sent, delivered, read, failed; received for inbound)",
    tag: "messages",
    scope: "messages:read",
    pathParameters: { message_id: { type: "string", format: "uuid" } },
    response: { status: 200, description: "The message.", schema: ref("ApiMessage") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "message_id");
      const [message] = await context.tx`
        select ${context.tx(MESSAGE_COLUMNS)} from public.messages
        where id = ${id} and ${keyNumbers(context, "number_id")}`;
      if (message === undefined) throw notFound(`message ${id}`);
      return { body: message };
    },
  },
  {
    method: "GET",
    path: "/v1/conversations/{conversation_id}",
    operationId: "getConversation",
    summary: "A conversation",
    tag: "conversations",
    scope: "messages:read",
    pathParameters: { conversation_id: { type: "string", format: "uuid" } },
    response: { status: 200, description: "The conversation.", schema: ref("ApiConversation") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "conversation_id");
      const [conversation] = await context.tx`
        select ${context.tx(CONVERSATION_COLUMNS)} from public.conversations
        where id = ${id} and ${keyNumbers(context, "number_id")}`;
      if (conversation === undefined) throw notFound(`conversation ${id}`);
      return { body: conversation };
    },
  },
  {
    method: "GET",
    path: "/v1/conversations/{conversation_id}/messages",
    operationId: "listConversationMessages",
    summary: "A conversation's messages, newest first (keyset pagination)",
    tag: "conversations",
    scope: "messages:read",
    pathParameters: { conversation_id: { type: "string", format: "uuid" } },
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of messages.", schema: pageOf("ApiMessage") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "conversation_id");
      const page = pageRequest(context.url, ["timestamp", "uuid"]);
      const [conversation] = await context.tx`
        select id from public.conversations where id = ${id} and ${keyNumbers(context, "number_id")}`;
      if (conversation === undefined) throw notFound(`conversation ${id}`);
      const { tx } = context;
      const rows = await tx`
        select ${tx(MESSAGE_COLUMNS)}, json_build_array(created_at, id)::text as _key
        from public.messages
        where conversation_id = ${id} and ${afterCursor(tx, page, "created_at", "id")}
        order by created_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/v1/contacts/{contact}",
    operationId: "getContact",
    summary: "A contact, by phone number (E.164) or WhatsApp id, with its conversations on the key's numbers",
    tag: "contacts",
    scope: "contacts:read",
    pathParameters: {
      contact: {
        type: "string",
        pattern: "^\\+?[0-9]{5,20}$",
        description: "`+15551234567` or `15551234567`.",
      },
    },
    query: [{
      name: "number_id",
      description: "Only the conversation with this number.",
      schema: { type: "string", format: "uuid" },
    }],
    response: { status: 200, description: "The contact.", schema: ref("ApiContact") },
    errorStatuses: ["404"],
    async handler(context) {
      const raw = context.params.contact;
      if (!/^\+?[0-9]{5,20}$/.test(raw)) {
        throw invalid(
          "contact in the path must be a phone number (+15551234567) or a WhatsApp id (digits)",
          "contact",
        );
      }
      const digits = raw.replace(/^\+/, "");
      const numberId = queryUuid(context.url, "number_id");
      if (numberId !== undefined && !numberAllowed(context.key, numberId)) {
        throw new ApiError(403, "number_not_allowed", `this API key may not use the number ${numberId}`, {
          field: "number_id",
        });
      }
      const { tx } = context;
      const [contact] = await tx`
        select id, phone_number, wa_id, display_name, created_at, updated_at from public.contacts
        where wa_id = ${digits} or phone_number = ${`+${digits}`}
        order by created_at limit 1`;
      const conversations = contact === undefined ? [] : await tx`
        select ${tx(CONVERSATION_COLUMNS)} from public.conversations
        where contact_id = ${contact.id} and ${keyNumbers(context, "number_id")}
          and (${numberId ?? null}::uuid is null or number_id = ${numberId ?? null}::uuid)
        order by last_activity_at desc limit 100`;
      // A contact is visible to a key only through a conversation on its numbers.
      if (contact === undefined || (context.key.numberIds !== null && conversations.length === 0)) {
        throw notFound(`contact ${raw}`);
      }
      return { body: { ...contact, conversations } };
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks",
    operationId: "listWebhooks",
    summary: "This key's webhook subscriptions, newest first",
    tag: "webhooks",
    scope: "webhooks:manage",
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of subscriptions.", schema: pageOf("WebhookSubscription") },
    errorStatuses: [],
    async handler(context) {
      return {
        body: await listSubscriptions(actorOf(context), pageRequest(context.url, ["timestamp", "uuid"])),
      };
    },
  },
  {
    method: "POST",
    path: "/v1/webhooks",
    operationId: "createWebhook",
    summary: "Subscribe a URL to events; the answer holds the signing secret, shown this once",
    description:
      "A key limited to some numbers must name some of them in `number_ids`. Signed per Standard Webhooks; see docs/integration.md.",
    tag: "webhooks",
    scope: "webhooks:manage",
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      url: { type: "string", minLength: 1, maxLength: 2048 },
      events: { type: "array", minItems: 1, items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] } },
      number_ids: { type: ["array", "null"], minItems: 1, items: { type: "string", format: "uuid" } },
    }, ["number_ids"]),
    response: {
      status: 201,
      description: "The subscription with its secret.",
      schema: ref("WebhookSubscriptionWithSecret"),
    },
    errorStatuses: [],
    async handler(context) {
      return {
        status: 201,
        body: await createSubscription(actorOf(context), await context.body(), context.key.numberIds),
      };
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks/{webhook_id}",
    operationId: "getWebhook",
    summary: "One of this key's subscriptions",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: webhookIdParameter,
    response: { status: 200, description: "The subscription.", schema: ref("WebhookSubscription") },
    errorStatuses: ["404"],
    async handler(context) {
      return { body: await getSubscription(actorOf(context), uuidPath(context, "webhook_id")) };
    },
  },
  {
    method: "PATCH",
    path: "/v1/webhooks/{webhook_id}",
    operationId: "updateWebhook",
    summary: "Change a subscription; `status` pauses or resumes it",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: webhookIdParameter,
    requestBody: {
      type: "object",
      properties: {
        name: { type: "string", minLength: 1, maxLength: 200 },
        url: { type: "string", minLength: 1, maxLength: 2048 },
        events: { type: "array", minItems: 1, items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] } },
        number_ids: { type: ["array", "null"], minItems: 1, items: { type: "string", format: "uuid" } },
        status: { type: "string", enum: ["active", "paused"] },
      },
    },
    response: { status: 200, description: "The subscription.", schema: ref("WebhookSubscription") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "webhook_id");
      return {
        body: await updateSubscription(actorOf(context), id, await context.body(), context.key.numberIds),
      };
    },
  },
  {
    method: "DELETE",
    path: "/v1/webhooks/{webhook_id}",
    operationId: "deleteWebhook",
    summary: "Delete a subscription",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: webhookIdParameter,
    response: { status: 200, description: "The deleted subscription.", schema: ref("WebhookSubscription") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "webhook_id");
      const subscription = await getSubscription(actorOf(context), id);
      await deleteSubscription(actorOf(context), id);
      return { body: subscription };
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks/{webhook_id}/deliveries",
    operationId: "listWebhookDeliveries",
    summary: "A subscription's delivery log, newest first",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: webhookIdParameter,
    query: [
      {
        name: "status",
        description: "pending, delivered or dead.",
        schema: { type: "string", enum: [...DELIVERY_STATUSES] },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of deliveries.", schema: pageOf("WebhookDelivery") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "webhook_id");
      const status = queryChoice(context.url, "status", DELIVERY_STATUSES);
      return {
        body: await listDeliveries(actorOf(context), id, pageRequest(context.url, ["integer"]), { status }),
      };
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}",
    operationId: "getWebhookDelivery",
    summary: "A delivery with its event and attempts",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: { ...webhookIdParameter, delivery_id: { type: "integer", minimum: 1 } },
    response: { status: 200, description: "The delivery.", schema: ref("WebhookDeliveryDetail") },
    errorStatuses: ["404"],
    async handler(context) {
      return {
        body: await getDelivery(actorOf(context), uuidPath(context, "webhook_id"), deliveryId(context)),
      };
    },
  },
  {
    method: "POST",
    path: "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    operationId: "replayWebhookDelivery",
    summary: "Deliver a delivery's event again",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: { ...webhookIdParameter, delivery_id: { type: "integer", minimum: 1 } },
    response: { status: 202, description: "The new delivery.", schema: ref("WebhookDelivery") },
    errorStatuses: ["404"],
    async handler(context) {
      return {
        status: 202,
        body: await replayDelivery(actorOf(context), uuidPath(context, "webhook_id"), deliveryId(context)),
      };
    },
  },
  {
    method: "POST",
    path: "/v1/webhooks/{webhook_id}/replay",
    operationId: "replayWebhookEvents",
    summary: "Deliver again every event of a time range",
    tag: "webhooks",
    scope: "webhooks:manage",
    pathParameters: webhookIdParameter,
    requestBody: object({
      since: { type: "string", format: "date-time" },
      until: { type: "string", format: "date-time" },
      event_types: { type: "array", minItems: 1, items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] } },
    }, ["until", "event_types"]),
    response: { status: 202, description: "How many were queued.", schema: ref("ReplayResult") },
    errorStatuses: ["404"],
    async handler(context) {
      const id = uuidPath(context, "webhook_id");
      return { status: 202, body: await replayRange(actorOf(context), id, await context.body()) };
    },
  },
];

function deliveryId(context: V1Context): number {
  const raw = context.params.delivery_id;
  if (!/^[1-9][0-9]{0,17}$/.test(raw)) {
    throw invalid("delivery_id in the path must be a positive integer", "delivery_id");
  }
  return Number(raw);
}

/** The messaging API's own component schemas (beside the admin API's it refers to). */
export const V1_SCHEMAS: Record<string, Schema> = {
  SendAccepted: object({
    id: { type: "string", format: "uuid" },
    status: { type: "string", enum: ["queued", "sending", "sent", "delivered", "read", "failed"] },
    number_id: { type: "string", format: "uuid" },
    conversation_id: { type: "string", format: "uuid" },
    to: { type: "string" },
    created_at: { type: "string", format: "date-time" },
  }),
  BulkResult: object({
    queued: { type: "integer" },
    refused: { type: "integer" },
    results: {
      type: "array",
      items: object({
        index: { type: "integer" },
        status: { type: "string", enum: ["queued", "refused"] },
        id: { type: "string", format: "uuid" },
        error: { type: "object" },
        http_status: { type: "integer" },
      }, ["id", "error", "http_status"]),
    },
  }),
  ApiMessage: object({
    id: { type: "string", format: "uuid" },
    number_id: { type: "string", format: "uuid" },
    conversation_id: { type: ["string", "null"], format: "uuid" },
    direction: { type: "string", enum: ["inbound", "outbound"] },
    contact_wa_id: { type: "string" },
    wa_message_id: { type: ["string", "null"] },
    type: { type: "string" },
    body: { type: "string" },
    content: ref("Content"),
    context_wa_message_id: { type: ["string", "null"] },
    status: { type: "string" },
    api_key_id: { type: ["string", "null"], format: "uuid" },
    created_at: { type: "string", format: "date-time" },
    sent_at: { type: ["string", "null"], format: "date-time" },
    delivered_at: { type: ["string", "null"], format: "date-time" },
    read_at: { type: ["string", "null"], format: "date-time" },
    failed_at: { type: ["string", "null"], format: "date-time" },
    error: { type: ["string", "null"] },
  }),
  ApiConversation: object({
    id: { type: "string", format: "uuid" },
    number_id: { type: "string", format: "uuid" },
    contact_wa_id: { type: "string" },
    contact_name: { type: ["string", "null"] },
    contact_id: { type: ["string", "null"], format: "uuid" },
    mode: { type: "string", enum: ["bot", "human", "closed"] },
    opted_out: { type: "boolean" },
    last_activity_at: { type: "string", format: "date-time" },
    last_inbound_at: { type: ["string", "null"], format: "date-time" },
    created_at: { type: "string", format: "date-time" },
  }),
  ApiContact: object({
    id: { type: "string", format: "uuid" },
    phone_number: { type: ["string", "null"] },
    wa_id: { type: ["string", "null"] },
    display_name: { type: ["string", "null"] },
    created_at: { type: "string", format: "date-time" },
    updated_at: { type: "string", format: "date-time" },
    conversations: { type: "array", items: ref("ApiConversation") },
  }),
};
