/**
 * Delivery: sending planned notifications to their channels and recording
 * every attempt in `alert_deliveries`.
 *
 * | channel | how | success |
 * |---|---|---|
 * | `webhook` | `POST <target>`, the plan's JSON body byte for byte, signed (below) | a 2xx answer |
 * | `slack` | `POST <target>` with the Slack message `{"text", "blocks"}` as JSON | a 2xx answer |
 * | `whatsapp` | a queued outbound `messages` row to `<target>` on the channel's sender number (or a connected one), which the session daemon sends | the row is written |
 *
 * **Signing.** A webhook request carries `x-wabot-timestamp: <unix
 * seconds>` and `x-wabot-signature: v1=<hex HMAC-SHA256>` of
 * `"<timestamp>.<body>"` under the channel's secret
 * (`alert_channel_secrets`), plus `x-wabot-notification-id`. The first
 * attempt signs the plan's own `signing_input`; a retry signs the same body
 * with the time of the retry, so receivers that reject timestamps older
 * than five minutes (as they should, against replays) accept retries too.
 *
 * **Exactly one sender per notification.** A notification is claimed
 * (`claimed_until`) before it is sent, so two dispatches of one event never
 * send it twice at the same time; a WhatsApp message and its "delivered"
 * mark are written in one transaction.
 *
 * A notification that cannot ever be delivered (its channel was deleted, a
 * webhook channel has no signing secret, the outbound-URL guard refuses
 * its target: `_shared/outbound-url.ts`) is abandoned (`skipped` in the
 * log); any other failure is left pending and reported, so the caller
 * answers non-2xx and the outbox retries it with backoff.
 *
 * @module
 */

import { type Tx, withServiceRole } from "../_shared/db.ts";
import { guardedFetch, OutboundUrlError } from "../_shared/outbound-url.ts";
import type { Payload } from "./plan.ts";

/** How long one webhook or Slack request may take. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How long a claimed notification is reserved for its sender. */
const CLAIM_LEASE = "60 seconds";

/**
 * How much of a failed answer's body is kept in the error (one line,
 * control characters removed). Short, so an answer cannot carry much out of
 * a service behind the receiver; `alert_deliveries.error` is readable by
 * admins only.
 */
export const ERROR_BODY_CHARACTERS = 100;

/** A failed answer's body, cut to {@link ERROR_BODY_CHARACTERS} on one line. */
export function shortBody(text: string): string {
  // deno-lint-ignore no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
  return line.length > ERROR_BODY_CHARACTERS ? `${line.slice(0, ERROR_BODY_CHARACTERS)}…` : line;
}

/** A claimed notification with what sending it needs. */
interface ClaimedNotification {
  notification_id: string;
  channel_id: string | null;
  channel_kind: string;
  alert_ids: string[];
  payload: Payload;
  attempts: number;
  target: string | null;
  sender_number_id: string | null;
  signing_secret: string | null;
}

/** The outcome of one attempt. */
interface Attempt {
  notification: ClaimedNotification;
  status: "sent" | "failed" | "skipped";
  responseCode: number | null;
  error: string | null;
}

/** What {@link deliverPending} did. */
export interface DeliveryReport {
  sent: number;
  failed: number;
  skipped: number;
  /** The errors of the failed attempts, by notification id. */
  failures: Array<{ notification_id: string; channel_id: string | null; error: string }>;
}

/** Lowercase hex of HMAC-SHA256(secret, message). */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(signature)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Posts `body` to `url` through the outbound-URL guard (never following a
 * redirect); resolves to the attempt's status, code and error. A URL the
 * guard refuses is never fetched: `refused` is then set.
 */
async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ ok: boolean; code: number | null; error: string | null; refused?: boolean }> {
  try {
    const response = await guardedFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "wabot-alert-dispatch", ...headers },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const text = await response.text().catch(() => "");
    if (response.status >= 200 && response.status < 300) {
      return { ok: true, code: response.status, error: null };
    }
    return {
      ok: false,
      code: response.status,
      error: `http ${response.status}${text ? `: ${shortBody(text)}` : ""}`,
    };
  } catch (error) {
    if (error instanceof OutboundUrlError) {
      return { ok: false, code: null, error: `refused: ${error.message}`, refused: true };
    }
    const reason = error instanceof DOMException && error.name === "TimeoutError"
      ? `timed out after ${DELIVERY_TIMEOUT_MS} ms`
      : error instanceof Error
      ? error.message
      : String(error);
    return { ok: false, code: null, error: shortBody(`request failed: ${reason}`) };
  }
}

/** Sends one webhook or Slack notification over HTTP. */
async function sendOverHttp(notification: ClaimedNotification): Promise<Attempt> {
  const { payload, target } = notification;
  const give = (status: Attempt["status"], responseCode: number | null, error: string | null): Attempt => ({
    notification,
    status,
    responseCode,
    error,
  });
  if (target === null) return give("skipped", null, "the channel no longer exists");
  if (notification.channel_kind === "webhook" && payload.format === "webhook") {
    if (notification.signing_secret === null) {
      return give("skipped", null, "the webhook channel has no signing secret");
    }
    const timestamp = notification.attempts <= 1 ? payload.timestamp : String(Math.floor(Date.now() / 1000));
    const signingInput = notification.attempts <= 1 ? payload.signing_input : `${timestamp}.${payload.body}`;
    const signature = await hmacSha256Hex(notification.signing_secret, signingInput);
    const result = await post(target, payload.body, {
      "x-wabot-timestamp": timestamp,
      "x-wabot-signature": `v1=${signature}`,
      "x-wabot-notification-id": notification.notification_id,
    });
    return give(result.ok ? "sent" : result.refused ? "skipped" : "failed", result.code, result.error);
  }
  if (notification.channel_kind === "slack" && payload.format === "slack") {
    const result = await post(target, JSON.stringify(payload.message), {});
    return give(result.ok ? "sent" : result.refused ? "skipped" : "failed", result.code, result.error);
  }
  return give(
    "skipped",
    null,
    `cannot send a ${payload.format} payload to a ${notification.channel_kind} channel`,
  );
}

/**
 * Queues one WhatsApp notification as an outbound message inside `tx`
 * (which also records its outcome), from the channel's sender number or,
 * without one, a connected number.
 */
async function queueWhatsApp(tx: Tx, notification: ClaimedNotification): Promise<Attempt> {
  const give = (status: Attempt["status"], error: string | null): Attempt => ({
    notification,
    status,
    responseCode: null,
    error,
  });
  if (notification.target === null) return give("skipped", "the channel no longer exists");
  if (notification.payload.format !== "text") {
    return give("skipped", `cannot send a ${notification.payload.format} payload to a whatsapp channel`);
  }
  const [sender] = notification.sender_number_id !== null
    ? await tx`select id from public.numbers where id = ${notification.sender_number_id}`
    : await tx`
      select id from public.numbers where session_status = 'connected'
      order by last_heartbeat_at desc nulls last, id limit 1`;
  if (sender === undefined) {
    return give("failed", "no number can send the WhatsApp notification (none is connected)");
  }
  await tx`
    insert into public.messages (number_id, direction, contact_wa_id, type, body, payload, status)
    values (${sender.id}, 'outbound', ${notification.target}, 'text', ${notification.payload.text},
            ${
    tx.json({ alert_notification_id: notification.notification_id, alert_ids: notification.alert_ids })
  },
            'queued')`;
  return give("sent", null);
}

/** Records one attempt: the notification's state and a delivery-log row per alert. */
async function recordAttempt(tx: Tx, attempt: Attempt, outboxId: number | null): Promise<void> {
  const { notification } = attempt;
  await tx`
    update private.alert_notifications
    set claimed_until = null,
        last_error = ${attempt.error},
        delivered_at = case when ${attempt.status} = 'sent' then now() else delivered_at end,
        abandoned_at = case when ${attempt.status} = 'skipped' then now() else abandoned_at end
    where notification_id = ${notification.notification_id}`;
  if (notification.alert_ids.length > 0) {
    await tx`
      insert into public.alert_deliveries
        (alert_id, channel_id, outbox_id, status, attempt, response_code, error)
      select a.id, (select c.id from public.alert_channels as c where c.id = ${notification.channel_id}),
             ${outboxId}, ${attempt.status}, ${Math.max(notification.attempts, 1)},
             ${attempt.responseCode}, ${attempt.error}
      from public.alerts as a
      where a.id = any(${notification.alert_ids}::uuid[])`;
  }
}

/**
 * Claims and delivers every pending notification planned under
 * `sourceKey`, recording each attempt. Notifications another dispatch is
 * sending right now are left to it.
 */
export async function deliverPending(sourceKey: string, outboxId: number | null): Promise<DeliveryReport> {
  const claimed = await withServiceRole((tx) =>
    tx<ClaimedNotification[]>`
      with claimed as (
        update private.alert_notifications as n
        set claimed_until = now() + ${CLAIM_LEASE}::interval, attempts = n.attempts + 1
        where n.source_key = ${sourceKey}
          and n.delivered_at is null and n.abandoned_at is null
          and (n.claimed_until is null or n.claimed_until < now())
        returning n.notification_id, n.channel_id, n.channel_kind, n.alert_ids, n.payload, n.attempts
      )
      select k.notification_id, k.channel_id, k.channel_kind, k.alert_ids, k.payload, k.attempts,
             c.target, c.sender_number_id, s.signing_secret
      from claimed as k
      left join public.alert_channels as c on c.id = k.channel_id
      left join public.alert_channel_secrets as s on s.channel_id = k.channel_id
      order by k.notification_id`
  );
  const report: DeliveryReport = { sent: 0, failed: 0, skipped: 0, failures: [] };
  const tally = (attempt: Attempt) => {
    report[attempt.status]++;
    if (attempt.status === "failed") {
      report.failures.push({
        notification_id: attempt.notification.notification_id,
        channel_id: attempt.notification.channel_id,
        error: attempt.error ?? "failed",
      });
    }
  };

  const overHttp = claimed.filter((notification) => notification.channel_kind !== "whatsapp");
  const attempts = await Promise.all(overHttp.map(sendOverHttp));
  if (attempts.length > 0) {
    await withServiceRole(async (tx) => {
      for (const attempt of attempts) await recordAttempt(tx, attempt, outboxId);
    });
    attempts.forEach(tally);
  }
  for (const notification of claimed.filter((notification) => notification.channel_kind === "whatsapp")) {
    const attempt = await withServiceRole(async (tx) => {
      const attempt = await queueWhatsApp(tx, notification);
      await recordAttempt(tx, attempt, outboxId);
      return attempt;
    });
    tally(attempt);
  }
  return report;
}
