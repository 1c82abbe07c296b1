/**
 * HTTP helpers shared by the Edge Functions: JSON responses, a typed error
 * that carries its status code, and a bounded JSON body reader.
 *
 * Handlers throw {@link HttpError} anywhere (including inside a database
 * transaction, which then rolls back) and turn it into a response at their
 * edge with {@link errorResponse}. Every error body has the shape
 * `{"error": "<what went wrong>"}`.
 *
 * @module
 */

/** Builds a JSON response with the given status. */
export function json(status: number, body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { ...init, status, headers });
}

/**
 * An error that maps to an HTTP response: `status` with the JSON body
 * `{"error": message}`.
 */
export class HttpError extends Error {
  /** The HTTP status code of the response. */
  readonly status: number;

  /** Creates an error answered with `status` and `{"error": message}`. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }

  /** The JSON response for this error. */
  toResponse(): Response {
    return json(this.status, { error: this.message });
  }
}

/**
 * Turns anything thrown by a handler into a response: an {@link HttpError}
 * becomes its own response; anything else is logged and answered with a
 * generic 500, so internals do not leak to callers.
 */
export function errorResponse(error: unknown, context = "request"): Response {
  if (error instanceof HttpError) {
    return error.toResponse();
  }
  console.error(`${context} failed:`, error);
  return json(500, { error: "internal error" });
}

/**
 * Reads the request body as JSON, refusing bodies over `maxBytes`.
 *
 * Throws {@link HttpError} 413 when the body (by its `Content-Length` or as
 * streamed) is larger than `maxBytes`, and 400 when it is empty, not UTF-8 or
 * not JSON. The body is read incrementally, so an oversized body is cut off
 * as soon as it passes the limit instead of being buffered whole.
 */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const declaredLength = req.headers.get("content-length");
  if (declaredLength !== null && Number(declaredLength) > maxBytes) {
    throw new HttpError(413, `request body is larger than ${maxBytes} bytes`);
  }
  if (req.body === null) {
    throw new HttpError(400, "request body is empty; expected JSON");
  }

  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    totalBytes += value.byteLength;
    if (totalBytes > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `request body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  if (totalBytes === 0) {
    throw new HttpError(400, "request body is empty; expected JSON");
  }

  const bytes = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, `request body is not valid JSON: ${reason}`);
  }
}
