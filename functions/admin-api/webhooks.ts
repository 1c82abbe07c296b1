/**
 * Event-webhook subscriptions, their deliveries and replays: the
 * operations the admin API (`/webhooks…`, admins) and the messaging API
 * (`/v1/webhooks…`, keys with `webhooks:manage`, their own subscriptions)
 * share. The caller's transaction decides what is visible: the admin API's
 * runs as the signed-in member under row-level security, the messaging
 * API's as the service role, narrowed here to the key's subscriptions.
 *
 * @module
 */

import type { Tx } from "../_shared/db.ts";
import { checkOutboundUrl, OutboundUrlError } from "../_shared/outbound-url.ts";
import { generateWebhookSecret } from "../_shared/standard-webhooks.ts";
import { isUuid, onlyFields, optionalChoice, optionalText, type PageRequest, text, toPage } from "./api.ts";
import { ApiError, invalid, notFound } from "./errors.ts";

/** The event types a subscription can ask for (`private.webhook_event_types()`). */
export const WEBHOOK_EVENT_TYPES = [
  "message.received",
  "message.sent",
  "message.delivered",
  "message.read",
  "message.failed",
  "conversation.handoff",
  "conversation.closed",
  "session.status_changed",
  "alert.opened",
  "alert.resolved",
] as const;

/** The columns of a subscription. */
export const SUBSCRIPTION_COLUMNS = [
  "id",
  "name",
  "url",
  "events",
  "number_ids",
  "status",
  "paused_reason",
  "paused_at",
  "consecutive_failures",
  "failing_since",
  "api_key_id",
  "created_by",
  "created_at",
  "updated_at",
];

/** The columns of a delivery in the log. */
const DELIVERY_COLUMNS = [
  "id",
  "subscription_id",
  "event_id",
  "status",
  "attempts",
  "next_attempt_at",
  "last_response_status",
  "last_error",
  "replay_of",
  "created_at",
  "delivered_at",
  "dead_at",
];

/** Who acts: the admin API (a member) or an API key (its own subscriptions only). */
export interface WebhookActor {
  tx: Tx;
  /** The API key acting, or null for a member. */
  apiKeyId: string | null;
}

/** Runs `fn` as the service role, then returns to the caller's role. */
async function asServiceRole<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  const [{ role }] = await tx`select current_user as role`;
  if (role === "service_role") return await fn();
  await tx`set local role service_role`;
  const result = await fn();
  await tx`set local role authenticated`;
  return result;
}

/** The key's own subscriptions only, when a key acts. */
function ownedBy(actor: WebhookActor) {
  return actor.apiKeyId === null ? actor.tx`true` : actor.tx`api_key_id = ${actor.apiKeyId}::uuid`;
}

/** Checks a subscription URL with the outbound-URL guard (DNS included): 400 naming `url`. */
async function checkUrl(url: string): Promise<void> {
  try {
    await checkOutboundUrl(url);
  } catch (error) {
    if (error instanceof OutboundUrlError) throw invalid(`url: ${error.message}`, "url");
    throw error;
  }
}

function readEvents(body: Record<string, unknown>): string[] {
  const events = body.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > WEBHOOK_EVENT_TYPES.length) {
    throw invalid(`events must list 1 to ${WEBHOOK_EVENT_TYPES.length} event types`, "events");
  }
  events.forEach((event, index) => {
    if (typeof event !== "string" || !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event)) {
      throw invalid(`events[${index}] must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`, `events[${index}]`);
    }
  });
  return [...new Set(events as string[])];
}

function readNumberIds(body: Record<string, unknown>): string[] | null {
  const numberIds = body.number_ids;
  if (numberIds === null || numberIds === undefined) return null;
  if (!Array.isArray(numberIds) || numberIds.length === 0 || numberIds.length > 1000) {
    throw invalid("number_ids must be null (every number) or list 1 to 1000 number UUIDs", "number_ids");
  }
  numberIds.forEach((id, index) => {
    if (!isUuid(id)) throw invalid(`number_ids[${index}] must be a UUID`, `number_ids[${index}]`);
  });
  return [...new Set((numberIds as string[]).map((id) => id.toLowerCase()))];
}

/** 400 unless every number exists (and, for a key, is one it may use). */
async function checkNumbers(
  actor: WebhookActor,
  numberIds: string[] | null,
  allowed: string[] | null,
): Promise<void> {
  if (numberIds === null) {
    if (allowed !== null) {
      throw new ApiError(
        403,
        "number_not_allowed",
        "this API key is limited to some numbers: name them in number_ids",
        {
          field: "number_ids",
          number_ids: allowed,
        },
      );
    }
    return;
  }
  for (const [index, id] of numberIds.entries()) {
    if (allowed !== null && !allowed.includes(id)) {
      throw new ApiError(403, "number_not_allowed", `this API key may not use the number ${id}`, {
        field: `number_ids[${index}]`,
        number_ids: allowed,
      });
    }
  }
  const found = await actor.tx`select id from public.numbers where id = any(${numberIds}::uuid[])`;
  const known = new Set(found.map((row) => row.id as string));
  const missing = numberIds.findIndex((id) => !known.has(id));
  if (missing >= 0) {
    throw invalid(`number_ids[${missing}]: no number ${numberIds[missing]}`, `number_ids[${missing}]`);
  }
}

const NAME = { min: 1, max: 200 };

/** Creates a subscription and its secret; the secret is in the answer, once. */
export async function createSubscription(
  actor: WebhookActor,
  body: Record<string, unknown>,
  allowedNumbers: string[] | null = null,
): Promise<Record<string, unknown>> {
  onlyFields(body, ["name", "url", "events", "number_ids"]);
  const name = text(body, "name", NAME);
  const url = text(body, "url", { min: 1, max: 2048 });
  const events = readEvents(body);
  const numberIds = readNumberIds(body);
  await checkUrl(url);
  await checkNumbers(actor, numberIds, allowedNumbers);
  const id = crypto.randomUUID();
  await actor.tx`
    insert into public.webhook_subscriptions (id, name, url, events, number_ids)
    values (${id}, ${name}, ${url}, ${events}::text[], ${numberIds}::uuid[])`;
  const secret = generateWebhookSecret();
  await asServiceRole(actor.tx, async () => {
    if (actor.apiKeyId !== null) {
      await actor.tx`update public.webhook_subscriptions set api_key_id = ${actor.apiKeyId} where id = ${id}`;
    }
    await actor.tx`insert into private.webhook_secrets (subscription_id, secret) values (${id}, ${secret})`;
  });
  return { ...await getSubscription(actor, id), secret };
}

/** A subscription visible to the actor; 404 otherwise. */
export async function getSubscription(actor: WebhookActor, id: string): Promise<Record<string, unknown>> {
  const [row] = await actor.tx`
    select ${actor.tx(SUBSCRIPTION_COLUMNS)} from public.webhook_subscriptions
    where id = ${id} and ${ownedBy(actor)}`;
  if (row === undefined) throw notFound(`webhook subscription ${id}`);
  return row;
}

/** A page of subscriptions, newest first. */
export async function listSubscriptions(actor: WebhookActor, page: PageRequest) {
  const time = page.after?.[0] ?? null;
  const after = page.after?.[1] ?? null;
  const rows = await actor.tx`
    select ${actor.tx(SUBSCRIPTION_COLUMNS)}, json_build_array(created_at, id)::text as _key
    from public.webhook_subscriptions
    where ${ownedBy(actor)}
      and (${time}::text is null or (created_at, id) < (${time}::text::timestamptz, ${after}::uuid))
    order by created_at desc, id desc
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit);
}

/**
 * Changes a subscription: name, url, events, number_ids, and status
 * (`paused` pauses it; `active` resumes it, delivering what was queued
 * meanwhile and resolving its `webhook_paused` alert).
 */
export async function updateSubscription(
  actor: WebhookActor,
  id: string,
  body: Record<string, unknown>,
  allowedNumbers: string[] | null = null,
): Promise<Record<string, unknown>> {
  onlyFields(body, ["name", "url", "events", "number_ids", "status"]);
  const current = await getSubscription(actor, id);
  const name = optionalText(body, "name", NAME);
  const url = optionalText(body, "url", { min: 1, max: 2048 });
  const events = body.events === undefined ? undefined : readEvents(body);
  const numberIds = body.number_ids === undefined ? undefined : readNumberIds(body);
  const status = optionalChoice(body, "status", ["active", "paused"] as const);
  if (url !== undefined) await checkUrl(url);
  if (numberIds !== undefined) await checkNumbers(actor, numberIds, allowedNumbers);
  const { tx } = actor;
  await tx`
    update public.webhook_subscriptions set
      name = coalesce(${name ?? null}::text, name),
      url = coalesce(${url ?? null}::text, url),
      events = coalesce(${events ?? null}::text[], events),
      number_ids = case when ${numberIds !== undefined} then ${numberIds ?? null}::uuid[] else number_ids end
    where id = ${id}`;
  if (status === "paused" && current.status !== "paused") {
    await tx`
      update public.webhook_subscriptions
      set status = 'paused', paused_at = now(), paused_reason = 'paused by hand'
      where id = ${id}`;
  } else if (status === "active" && current.status !== "active") {
    await asServiceRole(tx, async () => {
      await tx`select private.resume_webhook_subscription(${id}::uuid)`;
    });
  }
  return await getSubscription(actor, id);
}

/** Deletes a subscription (its deliveries go with it). */
export async function deleteSubscription(actor: WebhookActor, id: string): Promise<void> {
  await getSubscription(actor, id);
  await actor.tx`delete from public.webhook_subscriptions where id = ${id}`;
}

/** A new secret for a subscription, in the answer once; the old one stops signing at once. */
export async function rotateSecret(actor: WebhookActor, id: string): Promise<Record<string, unknown>> {
  const subscription = await getSubscription(actor, id);
  const secret = generateWebhookSecret();
  await asServiceRole(actor.tx, async () => {
    await actor.tx`
      insert into private.webhook_secrets (subscription_id, secret) values (${id}, ${secret})
      on conflict (subscription_id) do update set secret = excluded.secret, created_at = now()`;
    await actor.tx`select private.write_audit('webhook_subscriptions.secret_rotated', 'webhook_subscriptions',
                                              ${id}, '{}'::jsonb)`;
  });
  return { ...subscription, secret };
}

/** Queues a `webhook.test` event for this subscription only; returns its delivery. */
export async function sendTestEvent(actor: WebhookActor, id: string): Promise<Record<string, unknown>> {
  const subscription = await getSubscription(actor, id);
  return await asServiceRole(actor.tx, async () => {
    const [event] = await actor.tx`
      insert into public.webhook_events (type, data)
      values ('webhook.test', ${
      actor.tx.json({
        subscription: { id, name: String(subscription.name) },
        message: "A test event from the WhatsApp bot platform.",
      })
    })
      returning id`;
    const [delivery] = await actor.tx`
      insert into public.webhook_deliveries (subscription_id, event_id, ordering_key)
      values (${id}, ${event.id}, ${`test:${id}`})
      returning ${actor.tx(DELIVERY_COLUMNS)}`;
    await actor.tx`
      insert into public.outbox (topic, payload)
      values ('webhook-dispatch', ${actor.tx.json({ event_id: event.id })})`;
    return { ...delivery, event_type: "webhook.test" };
  });
}

/** Delivery statuses. */
export const DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const;

/** A page of a subscription's deliveries, newest first. */
export async function listDeliveries(
  actor: WebhookActor,
  id: string,
  page: PageRequest,
  filters: { status?: string; eventType?: string },
) {
  await getSubscription(actor, id);
  const after = page.after?.[0] ?? null;
  const { tx } = actor;
  const rows = await tx`
    select ${tx(DELIVERY_COLUMNS.map((column) => `d.${column}`))}, e.type as event_type,
           e.created_at as event_created_at, json_build_array(d.id)::text as _key
    from public.webhook_deliveries as d join public.webhook_events as e on e.id = d.event_id
    where d.subscription_id = ${id}
      and (${filters.status ?? null}::text is null or d.status = ${filters.status ?? null}::text)
      and (${filters.eventType ?? null}::text is null or e.type = ${filters.eventType ?? null}::text)
      and (${after}::bigint is null or d.id < ${after}::bigint)
    order by d.id desc
    limit ${page.limit + 1}`;
  return toPage(
    rows.map((row) => ({ ...row, id: Number(row.id), replay_of: nullableNumber(row.replay_of) })),
    page.limit,
  );
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A delivery of the subscription with its event and every attempt. */
export async function getDelivery(
  actor: WebhookActor,
  id: string,
  deliveryId: number,
): Promise<Record<string, unknown>> {
  await getSubscription(actor, id);
  const { tx } = actor;
  const [delivery] = await tx`
    select ${tx(DELIVERY_COLUMNS.map((column) => `d.${column}`))},
           json_build_object('id', e.id, 'type', e.type, 'created_at', e.created_at, 'data', e.data) as event
    from public.webhook_deliveries as d join public.webhook_events as e on e.id = d.event_id
    where d.subscription_id = ${id} and d.id = ${deliveryId}`;
  if (delivery === undefined) throw notFound(`delivery ${deliveryId}`);
  const attempts = await tx`
    select id, attempt, started_at, duration_ms, response_status, error, response_excerpt
    from public.webhook_delivery_attempts where delivery_id = ${deliveryId} order by id`;
  return {
    ...delivery,
    id: Number(delivery.id),
    replay_of: nullableNumber(delivery.replay_of),
    attempts: attempts.map((row) => ({ ...row, id: Number(row.id) })),
  };
}

/** Queues the delivery's event again for its subscription; returns the new delivery. */
export async function replayDelivery(
  actor: WebhookActor,
  id: string,
  deliveryId: number,
): Promise<Record<string, unknown>> {
  const original = await getDelivery(actor, id, deliveryId);
  return await asServiceRole(actor.tx, async () => {
    const [delivery] = await actor.tx`
      insert into public.webhook_deliveries (subscription_id, event_id, ordering_key, replay_of)
      select subscription_id, event_id, ordering_key, id from public.webhook_deliveries where id = ${deliveryId}
      returning ${actor.tx(DELIVERY_COLUMNS)}`;
    await actor.tx`
      insert into public.outbox (topic, payload)
      values ('webhook-dispatch', ${actor.tx.json({ replay: deliveryId })})`;
    return {
      ...delivery,
      id: Number(delivery.id),
      replay_of: deliveryId,
      event_type: (original.event as Record<string, unknown>).type,
    };
  });
}

/** Replays every event of `[since, until)` the subscription got (optionally of some types). */
export async function replayRange(
  actor: WebhookActor,
  id: string,
  body: Record<string, unknown>,
): Promise<{ replayed: number }> {
  onlyFields(body, ["since", "until", "event_types"]);
  const since = readTimestamp(body, "since");
  const until = body.until === undefined ? new Date().toISOString() : readTimestamp(body, "until");
  if (Date.parse(until) <= Date.parse(since)) throw invalid("until must be after since", "until");
  let types: string[] | null = null;
  if (body.event_types !== undefined) {
    types = readEvents({ events: body.event_types });
  }
  await getSubscription(actor, id);
  return await asServiceRole(actor.tx, async () => {
    const [row] = await actor.tx`
      select private.replay_webhook_events(${id}::uuid, ${since}::timestamptz, ${until}::timestamptz,
                                           ${types}::text[]) as replayed`;
    return { replayed: Number(row.replayed) };
  });
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function readTimestamp(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(
      `${field} must be an ISO 8601 date-time with a time zone, such as 2026-12-04T10:00:00Z`,
      field,
    );
  }
  return new Date(Date.parse(value)).toISOString();
}
