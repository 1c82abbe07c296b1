/**
 * `outbox-relay`: delivers due outbox rows to the worker functions,
 * in-process.
 *
 * Deployed with `verify_jwt = false` and authenticated by a shared secret:
 * `Authorization: Bearer <OUTBOX_RELAY_SECRET>`, compared in constant time
 * (401 otherwise; 503 while the secret is not configured). On hosted
 * Supabase the pg_net doorbell calls it after every statement that inserts
 * outbox rows and once a minute (`20261125001000_outbox_doorbell.sql`), with
 * the same secret read from Vault; locally the session daemons relay
 * instead (`WABOT_RELAY=on`), and this function is called by hand or by
 * tests.
 *
 * One call loops until nothing is due or its budget is spent (250 rows,
 * 1 s of CPU, 25 s of wall time; see {@link DEFAULT_MAX_ROWS}):
 *
 * 1. `private.claim_outbox(batch_size, lease)` claims due rows with
 *    `FOR UPDATE SKIP LOCKED`, counts the attempt and leases each row, so
 *    two relays (two calls of this function, or this function and a
 *    daemon) never hold the same row;
 * 2. each row goes to the topic handler its `target` names
 *    (`route-message`, `health-check`, `alert-dispatch`, `webhook-dispatch`), imported from
 *    those functions and called directly with `{"outbox_id", ...payload}`,
 *    a few at a time;
 * 3. a 2xx outcome is recorded with `private.record_outbox_delivery`,
 *    anything else (or a thrown error, or a target without a handler) with
 *    `private.record_outbox_failure`, which backs off exponentially (2 s,
 *    4 s, … at most 5 minutes) and dead-letters the row after the last
 *    attempt (10).
 *
 * The request body is optional: `{"reason": "…"}` (what the doorbell
 * sends) and, within bounds, `max_rows` and `batch_size`. The answer is
 * 200 `{"claimed", "delivered", "failed", "dead", "more", "elapsed_ms",
 * "rows": [{"id", "topic", "attempts", "outcome", "status", "error"?}]}`;
 * `more` says the budget ran out with rows possibly still due.
 *
 * @module
 */

import process from "node:process";

import { authenticateWorkerCall } from "../_shared/auth.ts";
import { withServiceRole } from "../_shared/db.ts";
import { errorResponse, HttpError, json, readJson } from "../_shared/http.ts";
import type { TopicHandler, WorkerOutcome } from "../_shared/worker.ts";
import { handleAlertDispatch } from "../alert-dispatch/index.ts";
import { handleHealthCheck } from "../health-check/index.ts";
import { handleRouteMessage } from "../route-message/index.ts";
import { handleWebhookDispatch } from "../webhook-dispatch/index.ts";

/** The handler for each delivery target. */
export const TOPIC_HANDLERS: Readonly<Record<string, TopicHandler>> = {
  "route-message": handleRouteMessage,
  "health-check": handleHealthCheck,
  "alert-dispatch": handleAlertDispatch,
  "webhook-dispatch": handleWebhookDispatch,
};

/** Rows claimed per round. */
const DEFAULT_BATCH_SIZE = 20;

/**
 * Rows handled per call at most; the rest wait for the next call. Sized
 * against Supabase's 2 s CPU limit per invocation: measured at up to 2.3 ms
 * CPU per `route-message` row (scripts/bench/outbox-relay-cpu.ts,
 * docs/benchmarks.md "outbox-relay: CPU per call"), 250 rows are at most
 * about 0.57 s, plus 0.14 s in a cold isolate: 0.71 s, a 2.8x margin.
 */
export const DEFAULT_MAX_ROWS = 250;

/**
 * CPU time after which no new round starts, whatever `max_rows` asked for:
 * half the platform's 2 s limit, so one more round (20 rows, about 40 ms)
 * cannot reach it. Read with `process.cpuUsage()` (the whole process: at
 * least the isolate's own time) where the runtime has it.
 */
export const CPU_BUDGET_MS = 1000;

/** CPU milliseconds this process has used, or null where the runtime cannot tell. */
function cpuMs(): number | null {
  try {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  } catch {
    return null;
  }
}

/** Wall-clock time after which no new round starts. */
const TIME_BUDGET_MS = 25_000;

/** How long a claimed row is reserved for this relay; longer than any handler takes. */
const CLAIM_LEASE = "60 seconds";

/** Rows of one round handled at the same time. */
const CONCURRENCY = 4;

/** How much of a failed outcome's body is kept in `outbox.last_error`. */
const ERROR_BODY_CHARACTERS = 500;

/** A claimed outbox row. */
interface ClaimedRow {
  id: string | number;
  topic: string;
  target: string;
  payload: unknown;
  attempts: number;
}

/** What happened to one row. */
export interface RelayedRow {
  id: number;
  topic: string;
  attempts: number;
  outcome: "delivered" | "failed" | "dead";
  status: number | null;
  error?: string;
}

/** What one relay call did. */
export interface RelayReport {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
  more: boolean;
  elapsed_ms: number;
  rows: RelayedRow[];
}

/** The body a handler gets for a row, as the daemon's relay posts it. */
function requestBody(row: ClaimedRow): Record<string, unknown> {
  const payload = row.payload;
  if (payload !== null && typeof payload === "object" && !Array.isArray(payload)) {
    return { outbox_id: Number(row.id), ...(payload as Record<string, unknown>) };
  }
  return { outbox_id: Number(row.id), payload };
}

/** Runs one row's handler; never throws. */
async function handle(row: ClaimedRow): Promise<{ status: number | null; error: string | null }> {
  const handler = TOPIC_HANDLERS[row.target];
  if (handler === undefined) {
    return { status: null, error: `no handler for target ${row.target}` };
  }
  let outcome: WorkerOutcome;
  try {
    outcome = await handler(requestBody(row));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`outbox-relay: ${row.target} threw on outbox row ${row.id}:`, error);
    return { status: null, error: `${row.target} failed: ${reason}`.slice(0, 2000) };
  }
  if (outcome.status >= 200 && outcome.status < 300) return { status: outcome.status, error: null };
  const body = JSON.stringify(outcome.body).slice(0, ERROR_BODY_CHARACTERS);
  return { status: outcome.status, error: `http ${outcome.status}: ${body}` };
}

/** Maps `items` through `work`, at most `limit` at a time, keeping the order. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Options of {@link relayOutbox}. */
export interface RelayOptions {
  batchSize?: number;
  maxRows?: number;
  /** CPU milliseconds after which no new round starts; {@link CPU_BUDGET_MS} by default (tests lower it). */
  cpuBudgetMs?: number;
}

/** Claims and delivers due rows until none is due or the budget is spent. */
export async function relayOutbox(options: RelayOptions = {}): Promise<RelayReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const cpuBudgetMs = options.cpuBudgetMs ?? CPU_BUDGET_MS;
  const started = performance.now();
  const cpuStarted = cpuMs();
  const report: RelayReport = {
    claimed: 0,
    delivered: 0,
    failed: 0,
    dead: 0,
    more: false,
    elapsed_ms: 0,
    rows: [],
  };
  for (;;) {
    const cpuNow = cpuMs();
    const cpuSpent = cpuStarted === null || cpuNow === null ? 0 : cpuNow - cpuStarted;
    if (
      report.claimed >= maxRows || performance.now() - started > TIME_BUDGET_MS ||
      (report.claimed > 0 && cpuSpent > cpuBudgetMs)
    ) {
      report.more = true;
      break;
    }
    const claimSize = Math.min(batchSize, maxRows - report.claimed);
    const claimed = await withServiceRole((tx) =>
      tx<ClaimedRow[]>`
        select id, topic, target, payload, attempts
        from private.claim_outbox(${claimSize}, ${CLAIM_LEASE}::interval)`
    );
    if (claimed.length === 0) break;
    report.claimed += claimed.length;
    const outcomes = await mapConcurrently(claimed, CONCURRENCY, handle);
    const recorded = await withServiceRole(async (tx) => {
      const rows: RelayedRow[] = [];
      for (const [index, row] of claimed.entries()) {
        const { status, error } = outcomes[index];
        const relayed: RelayedRow = {
          id: Number(row.id),
          topic: row.topic,
          attempts: row.attempts,
          outcome: "delivered",
          status,
        };
        if (error === null) {
          await tx`select private.record_outbox_delivery(${row.id})`;
        } else {
          const [{ dead }] = await tx`select private.record_outbox_failure(${row.id}, ${error}) as dead`;
          relayed.outcome = dead ? "dead" : "failed";
          relayed.error = error;
        }
        rows.push(relayed);
      }
      return rows;
    });
    for (const row of recorded) {
      report[row.outcome]++;
      report.rows.push(row);
      if (row.outcome !== "delivered") {
        const log = row.outcome === "dead" ? console.error : console.warn;
        log(
          `outbox-relay: row ${row.id} (${row.topic}, attempt ${row.attempts}) ${row.outcome}: ${row.error}`,
        );
      }
    }
    if (claimed.length < claimSize) break;
  }
  report.elapsed_ms = Math.round(performance.now() - started);
  return report;
}

/** Reads the optional body: `{"reason"?, "max_rows"?, "batch_size"?}`. */
async function parseOptions(req: Request): Promise<RelayOptions> {
  if (req.body === null || req.headers.get("content-length") === "0") return {};
  const body = await readJson(req, 16 * 1024).catch((error) => {
    // An empty body is fine; anything else must be JSON.
    if (error instanceof HttpError && /empty/.test(error.message)) return {};
    throw error;
  });
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object when present");
  }
  const fields = body as Record<string, unknown>;
  const bounded = (name: string, max: number): number | undefined => {
    const value = fields[name];
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      throw new HttpError(400, `${name} must be an integer from 1 to ${max}`);
    }
    return value as number;
  };
  return { maxRows: bounded("max_rows", 5000), batchSize: bounded("batch_size", 100) };
}

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method !== "POST") {
      return json(405, { error: "use POST" }, { headers: { allow: "POST" } });
    }
    const caller = await authenticateWorkerCall(req, { relayOnly: true });
    if (caller instanceof Response) return caller;
    try {
      const report = await relayOutbox(await parseOptions(req));
      return json(200, report);
    } catch (error) {
      return errorResponse(error, "outbox-relay");
    }
  },
};
