/**
 * JSON Schemas of the admin API's resources, for the OpenAPI document, and
 * small builders the route definitions use.
 *
 * @module
 */

import type { Schema } from "./api.ts";
import { ERROR_CODES } from "./errors.ts";
import { CONTENT_KINDS } from "../_shared/message-content.ts";
import { MEDIA_KINDS } from "../_shared/whatsapp-limits.ts";

/** A reference to a component schema. */
export function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

/** A page of items of a component schema. */
export function pageOf(name: string): Schema {
  return {
    type: "object",
    required: ["data", "next_cursor"],
    properties: {
      data: { type: "array", items: ref(name) },
      next_cursor: {
        type: ["string", "null"],
        description: "Pass as `cursor` for the next page; null on the last page.",
      },
    },
  };
}

/** An object with the given properties, all required unless listed in `optional`. */
export function object(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return {
    type: "object",
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    properties,
  };
}

const uuid: Schema = { type: "string", format: "uuid" };
const nullableUuid: Schema = { type: ["string", "null"], format: "uuid" };
const timestamp: Schema = { type: "string", format: "date-time" };
const nullableTimestamp: Schema = { type: ["string", "null"], format: "date-time" };
const severity: Schema = { type: "string", enum: ["info", "warning", "critical"] };
const role: Schema = { type: "string", enum: ["viewer", "operator", "admin", "owner"] };

/** Every component schema, by name. */
export const COMPONENT_SCHEMAS: Record<string, Schema> = {
  Error: object({
    error: object({
      code: {
        type: "string",
        enum: [...ERROR_CODES],
      },
      message: { type: "string" },
      details: { type: ["object", "null"], additionalProperties: true },
    }),
  }),
  ApiKey: object({
    id: uuid,
    name: { type: "string" },
    prefix: { type: "string", pattern: "^wbk_[0-9a-f]{8}$", description: "The key's public part." },
    scopes: {
      type: "array",
      items: {
        type: "string",
        enum: [
          "messages:send",
          "messages:read",
          "contacts:read",
          "webhooks:manage",
          "conversations:override_handoff",
        ],
      },
    },
    number_ids: {
      type: ["array", "null"],
      items: uuid,
      description: "The numbers it may use; null for all.",
    },
    rate_limit_per_minute: { type: "integer" },
    expires_at: nullableTimestamp,
    revoked_at: nullableTimestamp,
    revoked_by: nullableUuid,
    created_by: nullableUuid,
    created_at: timestamp,
    last_used_at: nullableTimestamp,
    status: { type: "string", enum: ["active", "expired", "revoked"] },
  }),
  ApiKeyCreated: {
    allOf: [
      { $ref: "#/components/schemas/ApiKey" },
      object({
        key: {
          type: "string",
          pattern: "^wbk_[0-9a-f]{8}_[0-9a-f]{48}$",
          description: "The whole key, shown this once; only its hash is stored.",
        },
      }),
    ],
  },
  WebhookSubscription: object({
    id: uuid,
    name: { type: "string" },
    url: { type: "string" },
    events: { type: "array", items: { type: "string" } },
    number_ids: { type: ["array", "null"], items: uuid },
    status: { type: "string", enum: ["active", "paused"] },
    paused_reason: { type: ["string", "null"] },
    paused_at: nullableTimestamp,
    consecutive_failures: { type: "integer" },
    failing_since: nullableTimestamp,
    api_key_id: nullableUuid,
    created_by: nullableUuid,
    created_at: timestamp,
    updated_at: timestamp,
  }),
  WebhookSubscriptionWithSecret: {
    allOf: [
      { $ref: "#/components/schemas/WebhookSubscription" },
      object({
        secret: {
          type: "string",
          pattern: "^whsec_[A-Za-z0-9+/]{43}=$",
          description: "The Standard Webhooks signing secret, shown this once.",
        },
      }),
    ],
  },
  WebhookDelivery: object({
    id: { type: "integer" },
    subscription_id: uuid,
    event_id: { type: "string" },
    event_type: { type: "string" },
    status: { type: "string", enum: ["pending", "delivered", "dead"] },
    attempts: { type: "integer" },
    next_attempt_at: timestamp,
    last_response_status: { type: ["integer", "null"] },
    last_error: { type: ["string", "null"] },
    replay_of: { type: ["integer", "null"] },
    created_at: timestamp,
    delivered_at: nullableTimestamp,
    dead_at: nullableTimestamp,
  }, ["event_type"]),
  WebhookDeliveryDetail: {
    allOf: [
      { $ref: "#/components/schemas/WebhookDelivery" },
      object({
        event: object({ id: { type: "string" }, type: { type: "string" }, created_at: timestamp, data: {} }),
        attempts: {
          type: "array",
          items: object({
            id: { type: "integer" },
            attempt: { type: "integer" },
            started_at: timestamp,
            duration_ms: { type: "integer" },
            response_status: { type: ["integer", "null"] },
            error: { type: ["string", "null"] },
            response_excerpt: { type: ["string", "null"] },
          }),
        },
      }),
    ],
  },
  ReplayResult: object({ replayed: { type: "integer", description: "How many deliveries were queued." } }),
  GatewayError: {
    ...object({ code: { type: "integer", enum: [401] }, message: { type: "string" } }),
    description:
      'The platform\'s own refusal, before the function runs: Supabase\'s router (and the local gateway) answer `{"code": 401, "message": "Missing authorization header" | "Invalid JWT"}`.',
  },
  Me: object({
    user_id: uuid,
    email: { type: ["string", "null"] },
    role: { type: ["string", "null"], enum: ["viewer", "operator", "admin", "owner", null] },
  }),
  Bot: object({
    id: uuid,
    name: { type: "string" },
    description: { type: "string" },
    archived_at: nullableTimestamp,
    canary_version_id: nullableUuid,
    canary_share_percent: { type: "integer", minimum: 0, maximum: 100 },
    published_version: {
      type: ["object", "null"],
      properties: { id: uuid, version: { type: "integer" }, published_at: nullableTimestamp },
    },
    number_count: { type: "integer" },
    created_at: timestamp,
    updated_at: timestamp,
  }),
  BotVersion: object({
    id: uuid,
    bot_id: uuid,
    version: { type: "integer" },
    status: { type: "string", enum: ["draft", "published", "archived"] },
    checksum: { type: "string", description: "SHA-256 (hex) of the definition's canonical JSON." },
    created_by: nullableUuid,
    created_at: timestamp,
    published_at: nullableTimestamp,
    updated_at: timestamp,
    definition: {
      type: "object",
      description: "The bot definition (docs/bot-definition.md); only when one version is read.",
    },
    warnings: { type: "array", items: ref("DefinitionProblem") },
  }, ["definition", "warnings"]),
  DefinitionProblem: object({
    path: {
      type: "string",
      description: "Where in the definition, as a JSON path such as `$.nodes[2].next`.",
    },
    code: { type: "string" },
    message: { type: "string" },
  }),
  ValidationReport: object({
    valid: { type: "boolean" },
    errors: { type: "array", items: ref("DefinitionProblem") },
    warnings: { type: "array", items: ref("DefinitionProblem") },
  }),
  Number: object({
    id: uuid,
    phone_number: { type: "string", description: "E.164, such as +15551234567." },
    label: { type: "string" },
    transport: { type: "string", enum: ["simulator", "web", "cloud"] },
    bot_id: nullableUuid,
    session_status: {
      type: "string",
      enum: [
        "stopped",
        "starting",
        "pairing",
        "connecting",
        "connected",
        "disconnected",
        "logged_out",
        "banned",
        "rate_limited",
        "degraded",
        "failed",
      ],
    },
    session_status_changed_at: timestamp,
    last_heartbeat_at: nullableTimestamp,
    lease_holder: { type: ["string", "null"], description: "The session daemon holding the number." },
    lease_expires_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  }),
  SessionCommand: object({
    id: { type: "integer" },
    number_id: uuid,
    command: { type: "string", enum: ["start", "stop", "restart"] },
    requested_by: nullableUuid,
    requested_at: timestamp,
    status: { type: "string", enum: ["pending", "claimed", "done", "failed"] },
    claimed_by: { type: ["string", "null"] },
    claimed_at: nullableTimestamp,
    completed_at: nullableTimestamp,
    error: { type: ["string", "null"] },
  }),
  SessionCommandResult: object({
    command: ref("SessionCommand"),
    delivery: {
      type: "string",
      enum: ["queued", "direct"],
      description:
        "`queued`: the daemon holding the number's lease picks the command up (woken by NOTIFY). `direct`: the daemon was also called at once and answered.",
    },
    daemon: {
      type: ["object", "null"],
      description: "The daemon's answer to the direct call, or why it was not made.",
    },
  }),
  Pairing: object({
    number_id: uuid,
    session_status: { type: "string" },
    pairing: {
      type: ["object", "null"],
      properties: {
        method: { type: "string", enum: ["qr", "pair_code"] },
        qr: { type: ["string", "null"] },
        pair_code: { type: ["string", "null"] },
        expires_at: nullableTimestamp,
        shown_at: timestamp,
      },
    },
  }),
  ConnectionEvent: object({
    id: { type: "integer" },
    number_id: uuid,
    event: { type: "string" },
    reason: { type: ["string", "null"] },
    code: { type: ["string", "null"] },
    detail: { type: "object" },
    occurred_at: timestamp,
  }),
  Runtime: object({
    id: { type: "string" },
    version: { type: "string" },
    started_at: timestamp,
    last_heartbeat_at: timestamp,
    status_url: { type: ["string", "null"] },
    leased_numbers: { type: "integer" },
  }),
  RuntimeProbe: object({
    runtime_id: { type: "string" },
    status_url: { type: ["string", "null"] },
    ok: { type: "boolean" },
    http_status: { type: ["integer", "null"] },
    latency_ms: { type: ["integer", "null"] },
    body: {},
    error: { type: ["string", "null"] },
  }),
  Conversation: object({
    id: uuid,
    number_id: uuid,
    contact_wa_id: { type: "string" },
    contact_name: { type: ["string", "null"] },
    contact_id: nullableUuid,
    bot_version_id: nullableUuid,
    mode: { type: "string", enum: ["bot", "human", "closed"] },
    assigned_to: nullableUuid,
    opted_out: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
    flow_state: { type: "object" },
    last_activity_at: timestamp,
    last_inbound_at: {
      ...nullableTimestamp,
      description: "When the contact last wrote; the Cloud API's 24-hour window runs from here.",
    },
    window_applies: {
      type: "boolean",
      description: "Whether the 24-hour customer-service window applies (Cloud API numbers only).",
    },
    window_open: {
      type: "boolean",
      description: "Whether a free-form message may be sent now (always true where no window applies).",
    },
    window_closes_at: {
      ...nullableTimestamp,
      description: "When the window closes or closed (null when the contact never wrote).",
    },
    created_at: timestamp,
    updated_at: timestamp,
  }),
  Message: object({
    id: uuid,
    number_id: uuid,
    conversation_id: nullableUuid,
    direction: { type: "string", enum: ["inbound", "outbound"] },
    wa_message_id: {
      type: ["string", "null"],
      description: "WhatsApp's id of the message (what a quote or a reaction names); null until sent.",
    },
    type: { type: "string", description: "The content's kind." },
    body: { type: "string", description: "The words a person reads (the content's summary)." },
    content: ref("Content"),
    context_wa_message_id: {
      type: ["string", "null"],
      description: "The WhatsApp id of the message this one quotes.",
    },
    payload: { type: "object" },
    status: { type: "string" },
    author_id: nullableUuid,
    in_reply_to: nullableUuid,
    created_at: timestamp,
    sent_at: nullableTimestamp,
    delivered_at: nullableTimestamp,
    read_at: nullableTimestamp,
    failed_at: nullableTimestamp,
    error: { type: ["string", "null"] },
  }),
  Content: {
    type: "object",
    required: ["kind"],
    additionalProperties: true,
    description:
      "A message's content, as the message model defines it (crates/message-model, docs/messages.md): `kind` is text, image, video, audio, voice, document, sticker, location, contacts, reaction, buttons, list or template (to send), and button_reply, list_reply, system or unknown (received only); the other fields depend on the kind.",
    properties: {
      kind: {
        type: "string",
        enum: [...CONTENT_KINDS],
      },
    },
  },
  MediaUpload: object({
    kind: { type: "string", enum: [...MEDIA_KINDS] },
    storage_key: { type: "string", description: "The object's key in the media bucket (`uploads/<uuid>`)." },
    mime_type: { type: "string" },
    size_bytes: { type: "integer" },
    sha256: { type: "string", description: "SHA-256 of the bytes, hex." },
    filename: { type: ["string", "null"] },
  }),
  MessageTemplate: object({
    id: uuid,
    number_id: uuid,
    waba_id: { type: "string" },
    template_id: { type: "string", description: "The Graph API's id of the template." },
    name: { type: "string" },
    language: { type: "string" },
    status: {
      type: "string",
      description: "APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … as Meta names them.",
    },
    category: { type: ["string", "null"] },
    components: { type: "array", items: { type: "object" }, description: "As the Graph API returns them." },
    parameter_spec: {
      type: "array",
      description: "What a send fills: per component (header, body, button), its parameter count.",
      items: { type: "object" },
    },
    status_reason: { type: ["string", "null"] },
    synced_at: timestamp,
    updated_at: timestamp,
  }),
  Alert: object({
    id: uuid,
    kind: { type: "string" },
    severity,
    number_id: nullableUuid,
    runtime_instance_id: { type: ["string", "null"] },
    dedupe_key: { type: "string" },
    status: { type: "string", enum: ["open", "acknowledged", "resolved"] },
    title: { type: "string" },
    details: { type: "object" },
    summary: { type: ["string", "null"] },
    acknowledged_by: nullableUuid,
    acknowledged_at: nullableTimestamp,
    escalated_at: nullableTimestamp,
    resolved_by: nullableUuid,
    resolved_at: nullableTimestamp,
    healthy_since: nullableTimestamp,
    flap_count: { type: "integer" },
    flapping: { type: "boolean" },
    created_at: timestamp,
    updated_at: timestamp,
  }),
  AlertDelivery: object({
    id: { type: "integer" },
    alert_id: uuid,
    channel_id: nullableUuid,
    outbox_id: { type: ["integer", "null"] },
    status: { type: "string", enum: ["sent", "failed", "skipped"] },
    attempt: { type: "integer" },
    response_code: { type: ["integer", "null"] },
    error: { type: ["string", "null"] },
    attempted_at: timestamp,
  }),
  AlertChannel: object({
    id: uuid,
    name: { type: "string" },
    kind: { type: "string", enum: ["webhook", "slack", "whatsapp"] },
    target: { type: "string", description: "A URL (webhook, slack) or an E.164 number (whatsapp)." },
    min_severity: severity,
    enabled: { type: "boolean" },
    kinds: { type: "array", items: { type: "string" }, description: "Alert kinds heard; empty = all." },
    sender_number_id: nullableUuid,
    has_signing_secret: { type: "boolean" },
    signing_secret: {
      type: "string",
      description: "Only in the answer that set it (creation or rotation); never readable again.",
    },
    created_at: timestamp,
    updated_at: timestamp,
  }, ["signing_secret"]),
  DeadLetter: object({
    id: { type: "integer" },
    topic: { type: "string" },
    target: { type: "string" },
    payload: { type: "object" },
    attempts: { type: "integer" },
    last_error: { type: ["string", "null"] },
    created_at: timestamp,
    dead_at: timestamp,
  }),
  AuditEntry: object({
    id: { type: "integer" },
    occurred_at: timestamp,
    actor_id: nullableUuid,
    actor_role: { type: "string" },
    action: { type: "string" },
    target_table: { type: ["string", "null"] },
    target_id: { type: ["string", "null"] },
    details: { type: "object" },
  }),
  Member: object({
    user_id: uuid,
    email: { type: ["string", "null"] },
    role,
    invited_by: nullableUuid,
    created_at: timestamp,
    updated_at: timestamp,
  }),
  Dashboard: object({
    generated_at: timestamp,
    messages_per_hour: {
      type: "array",
      description: "The last 24 hours, oldest first, one entry per hour (UTC).",
      items: object({ hour: timestamp, inbound: { type: "integer" }, outbound: { type: "integer" } }),
    },
    sessions_by_state: { type: "object", additionalProperties: { type: "integer" } },
    numbers_total: { type: "integer" },
    open_alerts: object({
      total: { type: "integer" },
      by_severity: object({
        info: { type: "integer" },
        warning: { type: "integer" },
        critical: { type: "integer" },
      }),
      latest: { type: "array", items: ref("Alert") },
    }),
  }),
};
