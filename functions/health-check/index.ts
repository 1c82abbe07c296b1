/**
 * `health-check`: judges session health with the Wasm health evaluator and
 * keeps the alerts in step (see `check.ts` for how).
 *
 * Deployed with `verify_jwt = false`; callers authenticate with
 * `Authorization: Bearer <OUTBOX_RELAY_SECRET>` (the outbox relay, the
 * hosted doorbell) or the service role (the session daemon's local relay).
 * Outbox rows of topic `health-check` arrive as:
 *
 * - `{"outbox_id": n, "sweep": true}`: every number, plus a probe of every
 *   live runtime's `/status` (pg_cron enqueues one a minute);
 * - `{"outbox_id": n, "number_id": "<uuid>", "reason": "connection_event"}`:
 *   one number, right after a connection event.
 *
 * Answers 200 with a report `{"scope", "numbers", "runtimes", "conditions",
 * "changes", "restarts", "timings_ms"}` (a number that no longer exists
 * gives `{"skipped": "unknown_number"}`), 400 for a malformed body, 401
 * without a valid secret.
 *
 * @module
 */

import { withServiceRole } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import { objectBody, outboxIdOf, outcomeOf, workerFunction, type WorkerOutcome } from "../_shared/worker.ts";
import { probeRuntime, probeTargets, runCheck } from "./check.ts";

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The validated request: a sweep, or one number. */
type HealthCheckRequest = { sweep: true; numberId: null } | { sweep: false; numberId: string };

function parseRequest(body: unknown): HealthCheckRequest {
  const fields = objectBody(body);
  outboxIdOf(fields);
  if (fields.sweep === true) {
    if (fields.number_id !== undefined) {
      throw new HttpError(400, "give either sweep: true or number_id, not both");
    }
    return { sweep: true, numberId: null };
  }
  if (fields.sweep !== undefined && fields.sweep !== false) {
    throw new HttpError(400, "sweep must be true or false when present");
  }
  const numberId = fields.number_id;
  if (typeof numberId !== "string" || !UUID_PATTERN.test(numberId)) {
    throw new HttpError(400, 'expected {"sweep": true} or {"number_id": "<uuid>"}');
  }
  return { sweep: false, numberId: numberId.toLowerCase() };
}

/**
 * The topic handler for `health-check` outbox rows, called by the
 * `outbox-relay` function in-process and by this function's `fetch`.
 */
export function handleHealthCheck(body: unknown): Promise<WorkerOutcome> {
  return outcomeOf(async () => {
    const request = parseRequest(body);
    const started = performance.now();
    const targets = request.sweep ? await withServiceRole((tx) => probeTargets(tx)) : [];
    const probes = await Promise.all(targets.map(probeRuntime));
    const report = await withServiceRole((tx) => runCheck(tx, request.numberId, probes));
    const totalMs = Math.round(performance.now() - started);
    if (!request.sweep && report.numbers === 0) {
      return { status: 200, body: { skipped: "unknown_number", number_id: request.numberId } };
    }
    return { status: 200, body: { ...report, total_ms: totalMs } };
  });
}

export default workerFunction("health-check", handleHealthCheck);
