/**
 * `alert-dispatch`: tells the configured channels about alert changes.
 *
 * Deployed with `verify_jwt = false`; callers authenticate with
 * `Authorization: Bearer <OUTBOX_RELAY_SECRET>` (the outbox relay) or the
 * service role (the session daemon's local relay, or a Supabase database
 * webhook configured with the service-role key). Bodies:
 *
 * - a Supabase database-webhook payload for `public.alerts`,
 *   `{"type": "INSERT" | "UPDATE", "table": "alerts", "schema": "public",
 *   "record": {…}, "old_record": null | {…}}` (with `outbox_id` when it
 *   comes through the outbox, as the `alerts` triggers enqueue it);
 * - `{"flush": true}`: send what waits in the channels' digests (scheduled
 *   through the outbox when a plan leaves something waiting).
 *
 * Planning (`plan.ts`) runs the Wasm alerting core over the event and the
 * stored digest state; delivery (`deliver.ts`) sends the planned
 * notifications and logs each attempt in `alert_deliveries`. The same event
 * delivered twice is planned once and each notification is sent once.
 *
 * Answers 200 `{"duplicate", "planned", "sent", "skipped", "next_flush_at"}`
 * when every notification went out (or can never go out), and 502
 * `{"error", "failures": [...]}` when some delivery failed: the outbox then
 * retries the row with backoff, re-sending only what failed, and
 * dead-letters it after the last attempt. 400 for a malformed body, 401
 * without a valid secret.
 *
 * @module
 */

import { withServiceRole } from "../_shared/db.ts";
import { objectBody, outboxIdOf, outcomeOf, workerFunction, type WorkerOutcome } from "../_shared/worker.ts";
import { deliverPending } from "./deliver.ts";
import { type AlertEvent, eventKey, parseAlertEvent, planEvent } from "./plan.ts";

/**
 * The topic handler for `alert-dispatch` outbox rows, called by the
 * `outbox-relay` function in-process and by this function's `fetch`.
 */
export function handleAlertDispatch(body: unknown): Promise<WorkerOutcome> {
  return outcomeOf(async () => {
    const fields = objectBody(body);
    const outboxId = outboxIdOf(fields);
    let event: AlertEvent | null = null;
    let key: string | null = null;
    let sourceKey: string;
    if (fields.flush === true) {
      sourceKey = outboxId === null ? `flush:${crypto.randomUUID()}` : `flush:${outboxId}`;
      key = outboxId === null ? null : sourceKey;
    } else {
      event = parseAlertEvent(fields);
      if (event.type === "DELETE") {
        return { status: 200, body: { skipped: "delete events are not notified" } };
      }
      key = await eventKey(event);
      sourceKey = key;
    }
    const planned = await withServiceRole((tx) => planEvent(tx, event, sourceKey, key, outboxId));
    const delivered = await deliverPending(sourceKey, outboxId);
    const summary = {
      duplicate: planned.duplicate,
      planned: planned.planned,
      sent: delivered.sent,
      skipped: delivered.skipped,
      failed: delivered.failed,
      next_flush_at: planned.nextFlushAt,
    };
    if (delivered.failed > 0) {
      return {
        status: 502,
        body: {
          error: `${delivered.failed} notification(s) could not be delivered`,
          ...summary,
          failures: delivered.failures,
        },
      };
    }
    return { status: 200, body: summary };
  });
}

export default workerFunction("alert-dispatch", handleAlertDispatch);
