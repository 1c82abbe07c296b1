/**
 * `webhook-dispatch`: delivers event webhooks, signed per Standard
 * Webhooks, with retries, dead letters and a delivery log.
 *
 * Woken through the outbox (topic `webhook-dispatch`: one row per event,
 * per replay, and a pg_cron tick every minute while deliveries are due),
 * by the outbox relay in-process or by the session daemon's relay over
 * HTTP; `verify_jwt = false`, authenticated like the other workers (the
 * relay secret or the service role). The payload does not matter: a call
 * delivers whatever is due.
 *
 * One call loops until nothing is due or its budget is spent (200
 * deliveries, no new round after 3 s): `private.claim_webhook_deliveries` claims due
 * deliveries of active subscriptions, only the oldest pending one of each
 * (subscription, conversation), with FOR UPDATE SKIP LOCKED and a lease;
 * each is POSTed (through the outbound-URL guard, no redirects, 5 s
 * timeout) as
 *
 * ```json
 * {"id": "evt_…", "type": "message.received", "api_version": "v1",
 *  "timestamp": "2026-12-04T12:00:00.000Z", "data": {…}}
 * ```
 *
 * with `webhook-id`, `webhook-timestamp` and `webhook-signature`; a 2xx
 * answer delivers it, anything else is a failed attempt that
 * `private.record_webhook_attempt` schedules again (5 s, 30 s, 2 min, …
 * 8 h) or dead-letters after the last attempt. Every attempt is logged in
 * `webhook_delivery_attempts`.
 *
 * @module
 */

import { withServiceRole } from "../_shared/db.ts";
import { guardedFetch, OutboundUrlError } from "../_shared/outbound-url.ts";
import { signWebhook } from "../_shared/standard-webhooks.ts";
import { objectBody, outcomeOf, workerFunction, type WorkerOutcome } from "../_shared/worker.ts";

/** The envelope's version. */
export const API_VERSION = "v1";

/** Deliveries claimed per round. */
const BATCH_SIZE = 20;

/** Deliveries per call at most. */
const MAX_DELIVERIES = 200;

/**
 * Wall-clock time after which no new round starts. With the request
 * timeout below, a call answers within about 8.5 s: inside the session
 * daemon's relay timeout (10 s, `DELIVERY_TIMEOUT` in
 * crates/session-daemon/src/outbox_relay.rs). What is left is due at once
 * and taken by the next call (the next event's outbox row, or the
 * `webhook-tick` job's).
 */
const TIME_BUDGET_MS = 3_000;

/** How long one request may take: receivers should answer 2xx at once and work afterwards. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** How long a claimed delivery is reserved for this call. */
const LEASE = "60 seconds";

/** How much of a response is kept in the log. */
const EXCERPT_CHARACTERS = 500;

/** A claimed delivery. */
interface ClaimedDelivery {
  delivery_id: string | number;
  subscription_id: string;
  url: string;
  secret: string | null;
  event_id: string;
  event_type: string;
  event_created_at: string | Date;
  event_data: unknown;
  attempt: number;
}

/** The body of an event's request. */
export function envelope(
  id: string,
  type: string,
  createdAt: string | Date,
  data: unknown,
): string {
  return JSON.stringify({
    id,
    type,
    api_version: API_VERSION,
    timestamp: new Date(createdAt).toISOString(),
    data,
  });
}

/** One attempt's outcome. */
interface Outcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  excerpt: string | null;
  durationMs: number;
}

async function attempt(delivery: ClaimedDelivery): Promise<Outcome> {
  const started = performance.now();
  const done = (ok: boolean, status: number | null, error: string | null, excerpt: string | null) => ({
    ok,
    status,
    error,
    excerpt,
    durationMs: Math.round(performance.now() - started),
  });
  if (delivery.secret === null) return done(false, null, "the subscription has no signing secret", null);
  const body = envelope(
    delivery.event_id,
    delivery.event_type,
    delivery.event_created_at,
    delivery.event_data,
  );
  const headers = await signWebhook(delivery.secret, delivery.event_id, Math.floor(Date.now() / 1000), body);
  try {
    const response = await guardedFetch(delivery.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "wabot-webhooks/1" },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = (await response.text().catch(() => "")).slice(0, EXCERPT_CHARACTERS);
    if (response.status >= 200 && response.status < 300) return done(true, response.status, null, text);
    const redirect = response.status >= 300 && response.status < 400
      ? ` (redirects are not followed${
        response.headers.get("location") ? `: ${response.headers.get("location")}` : ""
      })`
      : "";
    return done(false, response.status, `HTTP ${response.status}${redirect}`, text);
  } catch (error) {
    if (error instanceof OutboundUrlError) {
      return done(false, null, `refused by the outbound-URL guard: ${error.message}`, null);
    }
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return done(false, null, `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`, null);
    }
    return done(
      false,
      null,
      `could not connect: ${(error as Error)?.message ?? String(error)}`.slice(0, 500),
      null,
    );
  }
}

/** What one call did. */
export interface DispatchReport {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
  more: boolean;
}

/** Delivers what is due, within the call's budget. */
export async function dispatchDueDeliveries(
  options: { maxDeliveries?: number; timeBudgetMs?: number } = {},
): Promise<DispatchReport> {
  const maxDeliveries = options.maxDeliveries ?? MAX_DELIVERIES;
  const deadline = Date.now() + (options.timeBudgetMs ?? TIME_BUDGET_MS);
  const report: DispatchReport = { claimed: 0, delivered: 0, failed: 0, dead: 0, more: false };
  while (true) {
    if (report.claimed >= maxDeliveries || Date.now() >= deadline) {
      report.more = true;
      break;
    }
    const batch = Math.min(BATCH_SIZE, maxDeliveries - report.claimed);
    const claimed = await withServiceRole((tx) =>
      tx<ClaimedDelivery[]>`
      select delivery_id, subscription_id, url, secret, event_id, event_type, event_created_at, event_data,
             attempt
      from private.claim_webhook_deliveries(${batch}, ${LEASE}::interval)`
    );
    if (claimed.length === 0) break;
    report.claimed += claimed.length;
    await Promise.all(claimed.map(async (delivery) => {
      const outcome = await attempt(delivery);
      const [row] = await withServiceRole((tx) =>
        tx`
        select private.record_webhook_attempt(${
          Number(delivery.delivery_id)
        }, ${outcome.ok}, ${outcome.status},
                                              ${outcome.error}, ${outcome.durationMs}, ${outcome.excerpt}) as status`
      );
      if (row?.status === "delivered") report.delivered++;
      else if (row?.status === "dead") report.dead++;
      else report.failed++;
    }));
  }
  return report;
}

/** The topic handler: delivers what is due (the payload only says why it was called). */
export function handleWebhookDispatch(body: unknown): Promise<WorkerOutcome> {
  return outcomeOf(async () => {
    objectBody(body);
    const report = await dispatchDueDeliveries();
    return { status: 200, body: { ...report } };
  });
}

export default workerFunction("webhook-dispatch", handleWebhookDispatch);
