/**
 * The shape shared by the worker functions that outbox rows are delivered
 * to (`route-message`, `health-check`, `alert-dispatch`).
 *
 * Each exports a **topic handler**: a function from the delivered JSON
 * (`{"outbox_id": <id>, ...payload}`) to a {@link WorkerOutcome}, an HTTP
 * status and a JSON body. Its `index.ts` wraps the handler in the
 * `export default { fetch }` the runtime serves, and the `outbox-relay`
 * function imports the handlers and calls them in-process, so a relayed row
 * costs no HTTP round trip and no second cold start. A 2xx outcome means
 * delivered; anything else is a failed attempt the relay retries with
 * backoff.
 *
 * @module
 */

import { authenticateWorkerCall } from "./auth.ts";
import { errorResponse, HttpError, json, readJson } from "./http.ts";

/** What a topic handler answers: the status and body of its response. */
export interface WorkerOutcome {
  /** The HTTP status; 2xx means the row was handled. */
  status: number;
  /** The JSON body. */
  body: Record<string, unknown>;
}

/** Handles one delivered outbox row (or direct call) of a topic. */
export type TopicHandler = (request: unknown) => Promise<WorkerOutcome>;

/** The largest body a worker function accepts; real payloads are a few KiB. */
export const MAX_WORKER_BODY_BYTES = 256 * 1024;

/**
 * Runs `work`, turning an {@link HttpError} into the outcome it stands for
 * (`{"error": message}` with its status). Other errors propagate.
 */
export async function outcomeOf(work: () => Promise<WorkerOutcome>): Promise<WorkerOutcome> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpError) {
      return { status: error.status, body: { error: error.message } };
    }
    throw error;
  }
}

/** Reads `outbox_id` from a delivered body: an integer, or null when absent. */
export function outboxIdOf(fields: Record<string, unknown>): number | null {
  const outboxId = fields.outbox_id ?? null;
  if (outboxId !== null && !Number.isSafeInteger(outboxId)) {
    throw new HttpError(400, "outbox_id must be an integer when present");
  }
  return outboxId as number | null;
}

/** Requires a JSON object body. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/**
 * The `export default` of a worker function deployed with
 * `verify_jwt = false`: POST only, the caller authenticated by
 * {@link authenticateWorkerCall} (the relay secret or the service role), a
 * bounded JSON body, then the handler.
 */
export function workerFunction(
  name: string,
  handler: TopicHandler,
): { fetch(req: Request): Promise<Response> } {
  return {
    async fetch(req: Request): Promise<Response> {
      if (req.method !== "POST") {
        return json(405, { error: "use POST" }, { headers: { allow: "POST" } });
      }
      const caller = await authenticateWorkerCall(req);
      if (caller instanceof Response) return caller;
      try {
        const outcome = await handler(await readJson(req, MAX_WORKER_BODY_BYTES));
        return json(outcome.status, outcome.body);
      } catch (error) {
        return errorResponse(error, name);
      }
    },
  };
}
