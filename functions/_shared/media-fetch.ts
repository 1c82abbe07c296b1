/**
 * Fetches a media file a user named by URL, through the one outbound-URL
 * guard (`outbound-url.ts`), within its kind's limits: the functions' only
 * way of turning a `url` into bytes for the bucket (the daemon reads the
 * bucket, never a user's URL). Used by the admin API (an agent's media send
 * by URL) and by route-message (a bot's media by URL on a WhatsApp Web
 * number, which must upload the bytes itself).
 *
 * @module
 */

import { BodyTooLargeError, readBounded } from "./media.ts";
import { guardedFetch, OutboundUrlError } from "./outbound-url.ts";
import { type MediaKind, mediaLimit, mimeEssence } from "./whatsapp-limits.ts";

/** Why a URL's file could not be fetched; `status` is the HTTP status to answer with. */
export class MediaFetchError extends Error {
  constructor(message: string, readonly status: 413 | 422, readonly maxBytes?: number) {
    super(message);
    this.name = "MediaFetchError";
  }
}

/** A fetched file: its bytes and the MIME type declared for it. */
export interface FetchedMedia {
  bytes: Uint8Array;
  mimeType: string;
}

/**
 * Fetches `url` as a `kind` file: the guard's checks, no redirects, 200
 * with a body, at most the kind's size (the declared length and the bytes
 * read). `declaredMime` wins over the server's Content-Type.
 */
export async function fetchMediaUrl(
  url: string,
  kind: MediaKind,
  declaredMime: string | null,
  timeoutMs = 20_000,
): Promise<FetchedMedia> {
  const max = mediaLimit(kind)!.maxBytes;
  let response: Response;
  try {
    response = await guardedFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof OutboundUrlError) throw new MediaFetchError(error.message, 422);
    throw new MediaFetchError(`could not be fetched: ${String(error).slice(0, 200)}`, 422);
  }
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    throw new MediaFetchError(`answered ${response.status}, not 200 with the file`, 422);
  }
  const mimeType = mimeEssence(
    declaredMime ?? response.headers.get("content-type") ?? "application/octet-stream",
  );
  const length = response.headers.get("content-length");
  if (length !== null && Number(length) > max) {
    await response.body.cancel();
    throw new MediaFetchError(`the ${kind} is ${length} bytes; WhatsApp accepts at most ${max}`, 413, max);
  }
  try {
    const bytes = await readBounded(response.body, max, length === null ? undefined : Number(length));
    return { bytes, mimeType };
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new MediaFetchError(`the ${kind} is larger than ${max} bytes`, 413, max);
    }
    throw error;
  }
}
