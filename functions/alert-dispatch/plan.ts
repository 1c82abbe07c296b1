/**
 * Planning: from one alert event (a database-webhook payload) to the
 * notifications each channel gets, through the Wasm alerting core's `plan`.
 *
 * The event becomes alert changes by comparing `record` with `old_record`
 * ({@link changesFromEvent}); `plan` decides, per channel, what to send now
 * and what waits in the channel's digest. The digest state lives in
 * `private.alert_digest_state`, locked `for update` while planning, so
 * concurrent dispatches plan one after the other from the latest state.
 * The planned notifications are stored in `private.alert_notifications`
 * before anything is sent, and the event's key in
 * `private.alert_dispatch_events`, all in the same transaction: an event
 * delivered twice is planned once, and a failed delivery is retried from
 * the stored notification rather than planned again.
 *
 * When something waits in a digest, a `{"flush": true}` outbox row is
 * scheduled for the time the plan names, so the digest goes out even when
 * no further alert event comes.
 *
 * @module
 */

import { alerting } from "../_shared/alerting.ts";
import type { Tx } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";

type Severity = "info" | "warning" | "critical";

/** An `alerts` row as the webhook payload carries it (`to_jsonb(row)`). */
export interface AlertRecord {
  id: string;
  kind: string;
  severity: Severity;
  number_id: string | null;
  runtime_instance_id: string | null;
  dedupe_key: string;
  status: "open" | "acknowledged" | "resolved";
  title: string;
  details: Record<string, unknown> | null;
  escalated_at: string | null;
  created_at: string;
  updated_at: string;
  healthy_since?: string | null;
  flap_count?: number;
  last_flap_at?: string | null;
  flapping?: boolean;
}

/** A database-webhook payload for the `alerts` table. */
export interface AlertEvent {
  type: "INSERT" | "UPDATE" | "DELETE";
  table: string;
  schema: string;
  record: AlertRecord | null;
  old_record: AlertRecord | null;
}

/** A rendered payload (crates/alerting/src/render.rs). */
export type Payload =
  | { format: "text"; subject: string; text: string }
  | { format: "slack"; message: unknown }
  | { format: "webhook"; timestamp: string; body: string; signing_input: string };

/** One planned notification (crates/alerting/src/notify.rs). */
export interface Notification {
  notification_id: string;
  channel_id: string;
  channel_kind: "whatsapp" | "email" | "slack" | "webhook";
  severity: Severity;
  dedupe_keys: string[];
  payload: Payload;
}

interface NotificationPlan {
  notifications: Notification[];
  state: { channels?: Record<string, unknown> };
  next_flush_at_ms: number | null;
}

/** Milliseconds of a Postgres timestamp in JSON (microseconds are cut to milliseconds). */
export function timestampMs(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.replace(/(\.\d{3})\d+/, "$1").replace(/([+-]\d{2})$/, "$1:00");
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) throw new HttpError(400, `not a timestamp: ${value}`);
  return ms;
}

/** Sorts object keys recursively, so equal JSON documents serialise alike. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>).sort().map((key) => [
        key,
        canonical((value as Record<string, unknown>)[key]),
      ]),
    );
  }
  return value;
}

/** Lowercase hex of SHA-256 over a string's UTF-8 bytes. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The key that makes an event idempotent: the alert id and a hash of the
 * canonical payload, so the same event notifies once however often (and
 * through whichever relay) it is delivered.
 */
export async function eventKey(event: AlertEvent): Promise<string> {
  const hash = await sha256Hex(JSON.stringify(canonical([event.type, event.record, event.old_record])));
  return `alert:${event.record?.id}:${hash.slice(0, 32)}`;
}

/** Validates a webhook payload for the alerts table. */
export function parseAlertEvent(fields: Record<string, unknown>): AlertEvent {
  const { type, table, schema, record } = fields;
  if (type !== "INSERT" && type !== "UPDATE" && type !== "DELETE") {
    throw new HttpError(400, "type must be INSERT, UPDATE or DELETE");
  }
  if (table !== "alerts" || schema !== "public") {
    throw new HttpError(400, `expected an event of public.alerts, got ${String(schema)}.${String(table)}`);
  }
  const isRecord = (value: unknown) =>
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as Record<string, unknown>).id === "string" &&
    typeof (value as Record<string, unknown>).dedupe_key === "string" &&
    typeof (value as Record<string, unknown>).kind === "string" &&
    ["info", "warning", "critical"].includes((value as Record<string, unknown>).severity as string);
  if (type !== "DELETE" && !isRecord(record)) {
    throw new HttpError(400, "record must be an alerts row with id, dedupe_key, kind and severity");
  }
  const oldRecord = fields.old_record ?? null;
  if (type === "UPDATE" && !isRecord(oldRecord)) {
    throw new HttpError(400, "old_record must be the alerts row before the update");
  }
  return {
    type,
    table,
    schema,
    record: (record ?? null) as AlertRecord | null,
    old_record: oldRecord as AlertRecord | null,
  };
}

/** What a notification calls an alert: its stored subject, else the number or runtime. */
function subjectOf(record: AlertRecord, phoneNumbers: Map<string, string>): string {
  const stored = record.details?.subject;
  if (typeof stored === "string" && stored !== "") return stored;
  if (record.number_id !== null) return phoneNumbers.get(record.number_id) ?? record.number_id;
  return record.runtime_instance_id ?? record.dedupe_key;
}

function detailOf(record: AlertRecord): string {
  const detail = record.details?.detail;
  return typeof detail === "string" ? detail : record.title ?? "";
}

/**
 * The alert changes an event stands for (crates/alerting/src/reconcile.rs
 * `AlertChange`): an insert opens; an update resolves, changes the kind or
 * severity, marks flapping or escalates. Acknowledging changes nothing a
 * channel hears about.
 */
export function changesFromEvent(
  event: AlertEvent,
  phoneNumbers: Map<string, string>,
  nowMs: number,
): Record<string, unknown>[] {
  const record = event.record;
  if (record === null || event.type === "DELETE") return [];
  const subject = subjectOf(record, phoneNumbers);
  const detail = detailOf(record);
  const common = { dedupe_key: record.dedupe_key, kind: record.kind, severity: record.severity, subject };
  if (event.type === "INSERT") {
    if (record.status === "resolved") return [];
    return [{
      change: "open",
      ...common,
      detail,
      flap_count: record.flap_count ?? 0,
      last_flap_at_ms: timestampMs(record.last_flap_at),
      flapping: record.flapping ?? false,
    }];
  }
  const old = event.old_record!;
  if (record.status === "resolved") {
    if (old.status === "resolved") return [];
    return [{
      change: "resolve",
      alert_id: record.id,
      ...common,
      reason: record.details?.resolve_reason === "duplicate" ? "duplicate" : "healthy",
      healthy_since_ms: timestampMs(record.healthy_since),
    }];
  }
  const changes: Record<string, unknown>[] = [];
  if (record.kind !== old.kind || record.severity !== old.severity) {
    changes.push({
      change: "update",
      alert_id: record.id,
      ...common,
      previous_kind: old.kind,
      previous_severity: old.severity,
      detail,
    });
  }
  if (record.flapping === true && old.flapping !== true) {
    changes.push({
      change: "relapsed",
      alert_id: record.id,
      ...common,
      detail,
      flap_count: record.flap_count ?? 0,
      last_flap_at_ms: timestampMs(record.last_flap_at) ?? nowMs,
      flapping: true,
      became_flapping: true,
    });
  }
  if (record.escalated_at !== null && old.escalated_at === null) {
    changes.push({
      change: "escalate",
      alert_id: record.id,
      ...common,
      detail,
      opened_at_ms: timestampMs(record.created_at),
      escalated_at_ms: timestampMs(record.escalated_at),
    });
  }
  return changes;
}

/** What {@link planEvent} did. */
export interface PlanResult {
  /** True when the event was planned before; nothing new was planned. */
  duplicate: boolean;
  /** How many notifications were planned now. */
  planned: number;
  /** When the next digest flush is due, if something waits. */
  nextFlushAt: string | null;
}

/**
 * Plans one event (or, with `event` null, a flush of what waits) inside the
 * caller's service-role transaction and stores the notifications under
 * `sourceKey`. `eventKeyValue` makes it idempotent (null plans always).
 */
export async function planEvent(
  tx: Tx,
  event: AlertEvent | null,
  sourceKey: string,
  eventKeyValue: string | null,
  outboxId: number | null,
): Promise<PlanResult> {
  const [stateRow] = await tx`
    select state, (extract(epoch from now()) * 1000)::float8 as now_ms
    from private.alert_digest_state where id for update`;
  if (stateRow === undefined) throw new Error("private.alert_digest_state has no row");
  const nowMs = Math.round(stateRow.now_ms);
  if (eventKeyValue !== null) {
    const [seen] = await tx`
      select 1 from private.alert_dispatch_events where event_key = ${eventKeyValue}`;
    if (seen !== undefined) return { duplicate: true, planned: 0, nextFlushAt: null };
  }

  const phoneNumbers = new Map<string, string>();
  const numberId = event?.record?.number_id ?? null;
  if (numberId !== null && typeof event?.record?.details?.subject !== "string") {
    const [number] = await tx`
      select phone_number, label from public.numbers where id = ${numberId}`;
    if (number !== undefined) {
      phoneNumbers.set(
        numberId,
        number.label ? `${number.phone_number} (${number.label})` : number.phone_number,
      );
    }
  }
  const changes = event === null ? [] : changesFromEvent(event, phoneNumbers, nowMs);

  const channels = await tx`
    select id, kind, min_severity, enabled, kinds from public.alert_channels order by created_at, id`;
  const state = stateRow.state as { channels?: Record<string, unknown> };
  const knownChannels = new Set(channels.map((channel) => channel.id as string));
  // Digests of deleted channels are dropped.
  const channelStates = Object.fromEntries(
    Object.entries(state.channels ?? {}).filter(([channelId]) => knownChannels.has(channelId)),
  );
  const plan = alerting<NotificationPlan>("plan", {
    changes,
    channels: channels.map((channel) => ({
      id: channel.id,
      kind: channel.kind,
      min_severity: channel.min_severity,
      enabled: channel.enabled,
      kinds: channel.kinds,
    })),
    state: { channels: channelStates },
    now_ms: nowMs,
  });

  if (plan.notifications.length > 0) {
    const rows = plan.notifications.map((notification) => ({
      notification_id: notification.notification_id,
      channel_id: notification.channel_id,
      channel_kind: notification.channel_kind,
      severity: notification.severity,
      dedupe_keys: notification.dedupe_keys,
      payload: notification.payload,
    }));
    await tx`
      insert into private.alert_notifications
        (notification_id, channel_id, channel_kind, severity, dedupe_keys, alert_ids, payload,
         source_key, outbox_id)
      select r.notification_id, r.channel_id, r.channel_kind, r.severity, r.dedupe_keys,
             coalesce((
               select array_agg(latest.id)
               from (
                 select distinct on (a.dedupe_key) a.id
                 from public.alerts as a
                 where a.dedupe_key = any(r.dedupe_keys)
                 order by a.dedupe_key, a.created_at desc
               ) as latest
             ), '{}'),
             r.payload, ${sourceKey}, ${outboxId}
      from jsonb_to_recordset(${tx.json(rows as never)}::jsonb) as r(
        notification_id text, channel_id uuid, channel_kind text, severity text,
        dedupe_keys text[], payload jsonb)
      on conflict (notification_id) do nothing`;
  }

  const nextFlushAt = plan.next_flush_at_ms === null ? null : new Date(plan.next_flush_at_ms).toISOString();
  await tx`
    update private.alert_digest_state
    set state = ${tx.json(plan.state as never)}, next_flush_at = ${nextFlushAt}
    where id`;
  if (eventKeyValue !== null) {
    await tx`
      insert into private.alert_dispatch_events (event_key, outbox_id)
      values (${eventKeyValue}, ${outboxId})`;
  }
  if (nextFlushAt !== null) {
    // One pending flush at or before the due time is enough.
    await tx`
      insert into public.outbox (topic, payload, next_attempt_at)
      select 'alert-dispatch', '{"flush": true}'::jsonb, ${nextFlushAt}::timestamptz
      where not exists (
        select 1 from public.outbox as o
        where o.topic = 'alert-dispatch' and o.payload = '{"flush": true}'::jsonb
          and o.delivered_at is null and o.dead_at is null
          and o.next_attempt_at <= ${nextFlushAt}::timestamptz)`;
  }
  return { duplicate: false, planned: plan.notifications.length, nextFlushAt };
}
