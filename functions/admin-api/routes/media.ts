/**
 * Media: members upload files to send (`POST /media`) and read any stored
 * media (inbound, uploads, imports) through an authenticated proxy
 * (`GET /media/{storage_key}`, `GET /messages/{message_id}/media`). The
 * bucket is private; members never get its keys or a public URL.
 *
 * @module
 */

import {
  BodyTooLargeError,
  contradictsDeclared,
  MediaConfigError,
  MediaStorageError,
  mediaStore,
  readBounded,
  sha256Hex,
  sniffMime,
} from "../../_shared/media.ts";
import {
  isMediaKind,
  MEDIA_KINDS,
  MEDIA_LIMITS,
  type MediaKind,
  mediaKindForMime,
  mediaLimit,
  mimeEssence,
  mimeProblem,
} from "../../_shared/whatsapp-limits.ts";
import type { Tx } from "../../_shared/db.ts";
import type { Context, RouteDefinition } from "../api.ts";
import { ApiError, invalid, notFound } from "../errors.ts";
import { ref } from "../schemas.ts";

/** The columns of a media object a member sees. */
export const MEDIA_COLUMNS = [
  "storage_key",
  "kind",
  "mime_type",
  "size_bytes",
  "sha256",
  "filename",
  "source",
  "number_id",
  "message_id",
  "created_by",
  "created_at",
];

/** A storage error as the API's answer: 503, never the S3 server's details. */
export function storageUnavailable(error: unknown): ApiError | null {
  if (error instanceof MediaConfigError) {
    return new ApiError(503, "storage_unavailable", error.message);
  }
  if (error instanceof MediaStorageError) {
    console.error("admin-api: media storage:", error.message);
    return new ApiError(503, "storage_unavailable", "media storage refused the request; try again later");
  }
  if (error instanceof TypeError) {
    console.error("admin-api: media storage unreachable:", error.message);
    return new ApiError(503, "storage_unavailable", "media storage is not reachable; try again later");
  }
  return null;
}

/** Runs a call to the bucket, turning its failures into 503 answers. */
export async function withStorage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw storageUnavailable(error) ?? error;
  }
}

/** A file name as stored: no path, no control characters, at most 255 characters. */
export function checkFilename(value: string | null, field: string): string | null {
  if (value === null || value === "") return null;
  if ([...value].length > 255) throw invalid(`${field} must be at most 255 characters long`, field);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f/\\]/.test(value) || value === "." || value === "..") {
    throw invalid(`${field} must be a plain file name (no path, no control characters)`, field);
  }
  return value;
}

/** What a stored file is checked and recorded as. */
export interface StoredMedia {
  kind: MediaKind;
  storage_key: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  filename: string | null;
}

/**
 * Checks a file's type and size for `kind` (415 or 413 naming `field`),
 * stores it at `uploads/<uuid>` and records its `media_objects` row
 * (source `upload`, created by the caller). Nothing is stored when a check
 * fails; the object is deleted again when its row cannot be written.
 */
export async function storeUpload(
  context: { tx: Tx; actorId: string | null },
  file: { bytes: Uint8Array; mimeType: string; kind: MediaKind; filename: string | null },
  fields: { type: string; size: string },
): Promise<StoredMedia> {
  const { bytes, kind, filename } = file;
  const mimeType = mimeEssence(file.mimeType);
  const mime = mimeProblem(kind, mimeType);
  if (mime !== null) {
    throw new ApiError(415, "unsupported_media_type", mime, {
      field: fields.type,
      accepted: mediaLimit(kind)!.mimeTypes,
    });
  }
  if (bytes.byteLength === 0) throw invalid("the file is empty", fields.size);
  const max = mediaLimit(kind)!.maxBytes;
  if (bytes.byteLength > max) {
    throw new ApiError(
      413,
      "payload_too_large",
      `the ${kind} is ${bytes.byteLength} bytes; WhatsApp accepts at most ${max}`,
      {
        field: fields.size,
        max_bytes: max,
      },
    );
  }
  const sniffed = sniffMime(bytes);
  if (contradictsDeclared(mimeType, sniffed)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `the file's bytes are ${sniffed ?? "not recognisably"} ${
        sniffed === null ? mimeType : "data"
      }, not ${mimeType}`,
      { field: fields.type, detected: sniffed },
    );
  }
  const sha256 = await sha256Hex(bytes);
  const storageKey = `uploads/${crypto.randomUUID()}`;
  await withStorage(() => mediaStore().put(storageKey, bytes, mimeType, sha256));
  try {
    // media_objects is written by the service role only; the caller's
    // role was checked by the router.
    const [{ role }] = await context.tx`select current_user as role`;
    await context.tx`set local role service_role`;
    await context.tx`
      insert into public.media_objects
        (storage_key, kind, mime_type, size_bytes, sha256, filename, source, created_by)
      values (${storageKey}, ${kind}, ${mimeType}, ${bytes.byteLength}, ${sha256}, ${filename},
              'upload', ${context.actorId})`;
    // Back to the caller's role (authenticated in the admin API).
    if (role !== "service_role") await context.tx`set local role authenticated`;
  } catch (error) {
    await mediaStore().delete(storageKey).catch(() => {});
    throw error;
  }
  return {
    kind,
    storage_key: storageKey,
    mime_type: mimeType,
    size_bytes: bytes.byteLength,
    sha256,
    filename,
  };
}

/** Reads `?kind=`: a media kind, or undefined. */
function kindParameter(url: URL): MediaKind | undefined {
  const value = url.searchParams.get("kind");
  if (value === null || value === "") return undefined;
  if (!isMediaKind(value)) {
    throw invalid(`query parameter kind must be one of ${MEDIA_KINDS.join(", ")}`, "kind");
  }
  return value;
}

const INLINE_TYPES = /^(image\/(jpeg|png|webp)|audio\/|video\/)/;

/** `inline` or `attachment`, with the file name in both plain and RFC 5987 forms. */
export function contentDisposition(mimeType: string, filename: string | null, fallback: string): string {
  const disposition = INLINE_TYPES.test(mimeType) ? "inline" : "attachment";
  const name = filename ?? fallback;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Streams a stored object to the caller, who can read its row. */
async function proxy(context: Context, storageKey: string): Promise<{ response: Response }> {
  const [object] = await context.tx`
    select storage_key, mime_type, size_bytes, filename from public.media_objects
    where storage_key = ${storageKey}`;
  if (object === undefined) throw notFound(`media ${storageKey}`);
  const range = context.req.headers.get("range") ?? undefined;
  if (range !== undefined && !/^bytes=\d*-\d*$/.test(range)) {
    throw invalid("the Range header must be bytes=a-b", "range");
  }
  const upstream = await withStorage(() => mediaStore().get(storageKey, range));
  if (upstream === null) throw notFound(`media ${storageKey} (its bytes are missing from the bucket)`);
  const headers = new Headers({
    "content-type": object.mime_type as string,
    "content-disposition": contentDisposition(
      object.mime_type as string,
      object.filename as string | null,
      storageKey.split("/").at(-1)!,
    ),
    "cache-control": "private, max-age=300",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "accept-ranges": "bytes",
  });
  for (const name of ["content-length", "content-range", "etag", "last-modified"]) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return { response: new Response(upstream.body, { status: upstream.status === 206 ? 206 : 200, headers }) };
}

const storageKeyParameter = {
  storage_key: {
    type: "string",
    minLength: 1,
    maxLength: 1024,
    description: "The object's key, URL-encoded (`uploads%2F<uuid>`).",
  },
};

const ACCEPTED_TYPES = [...new Set(MEDIA_LIMITS.flatMap((limit) => limit.mimeTypes))];

export const mediaRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/media",
    operationId: "uploadMedia",
    summary: "Upload a file to send (an image, video, audio, voice note, document or sticker)",
    description:
      "The raw file is the body, with its `Content-Type`; `?filename=` names it and `?kind=` says how it will be sent (default: by its type, `audio/ogg` as audio). The type and size are checked against WhatsApp's limits for the kind (415 or 413 naming the field, nothing stored), and the bytes must be of the declared type. The file is stored in the private media bucket at `uploads/<uuid>` with its SHA-256; send it with `POST /conversations/{id}/messages` and `content.storage_key`.",
    tag: "media",
    minRole: "operator",
    query: [
      {
        name: "filename",
        description: "The file's name, as the contact sees it.",
        schema: { type: "string" },
      },
      {
        name: "kind",
        description: "How the file will be sent: image, video, audio, voice, document, sticker.",
        schema: { type: "string", enum: [...MEDIA_KINDS] },
      },
    ],
    rawRequestBody: { description: "The file's bytes.", mediaTypes: ACCEPTED_TYPES },
    response: { status: 201, description: "The stored file.", schema: ref("MediaUpload") },
    extraErrorStatuses: ["413", "415", "503"],
    async handler(context) {
      const { req, url } = context;
      const kindParam = kindParameter(url);
      const filename = checkFilename(url.searchParams.get("filename"), "filename");
      const declared = req.headers.get("content-type");
      if (declared === null || declared.trim() === "") {
        throw new ApiError(415, "unsupported_media_type", "send the file's type as Content-Type", {
          field: "content-type",
        });
      }
      const mimeType = mimeEssence(declared);
      const kind = kindParam ?? mediaKindForMime(mimeType);
      if (kind === undefined) {
        throw new ApiError(
          415,
          "unsupported_media_type",
          `WhatsApp does not accept ${mimeType} as any media kind`,
          {
            field: "content-type",
            accepted: ACCEPTED_TYPES,
          },
        );
      }
      const problem = mimeProblem(kind, mimeType);
      if (problem !== null) {
        throw new ApiError(415, "unsupported_media_type", problem, {
          field: "content-type",
          accepted: mediaLimit(kind)!.mimeTypes,
        });
      }
      const max = mediaLimit(kind)!.maxBytes;
      const declaredLength = req.headers.get("content-length");
      const tooLarge = () =>
        new ApiError(413, "payload_too_large", `the ${kind} is larger than ${max} bytes, WhatsApp's limit`, {
          field: "body",
          max_bytes: max,
        });
      if (declaredLength !== null && Number(declaredLength) > max) throw tooLarge();
      if (req.body === null) throw invalid("the body must be the file's bytes", "body");
      let bytes: Uint8Array;
      try {
        bytes = await readBounded(
          req.body,
          max,
          declaredLength === null ? undefined : Number(declaredLength),
        );
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw tooLarge();
        throw error;
      }
      const stored = await storeUpload({ tx: context.tx, actorId: context.claims.sub }, {
        bytes,
        mimeType,
        kind,
        filename,
      }, {
        type: "content-type",
        size: "body",
      });
      return { status: 201, body: stored };
    },
  },
  {
    method: "GET",
    path: "/media/{storage_key}",
    operationId: "getMedia",
    summary: "Read a stored file (streamed through the API; the bucket is private)",
    description:
      "Streams the object with its `Content-Type`, a `Content-Disposition` (inline for images, audio and video, an attachment otherwise) and `Cache-Control: private`. A `Range` header is passed on (206). 404 for a key with no `media_objects` row.",
    tag: "media",
    minRole: "viewer",
    pathParameters: storageKeyParameter,
    response: { status: 200, description: "The file.", schema: { type: "string" } },
    rawResponse: { description: "The file's bytes, with their own Content-Type.", mediaType: "*/*" },
    extraErrorStatuses: ["503"],
    async handler(context) {
      const key = context.params.storage_key;
      if (key.length === 0 || key.length > 1024) {
        throw invalid("storage_key must be 1 to 1024 characters", "storage_key");
      }
      return await proxy(context, key);
    },
  },
  {
    method: "GET",
    path: "/messages/{message_id}/media",
    operationId: "getMessageMedia",
    summary: "Read the file of a media message (streamed through the API)",
    description:
      "The file stored for the message (`content.storage_key`), as `GET /media/{storage_key}` serves it; 404 when the message has no stored media (yet).",
    tag: "media",
    minRole: "viewer",
    pathParameters: { message_id: { type: "string", format: "uuid" } },
    response: { status: 200, description: "The file.", schema: { type: "string" } },
    rawResponse: { description: "The file's bytes, with their own Content-Type.", mediaType: "*/*" },
    extraErrorStatuses: ["503"],
    async handler(context) {
      const messageId = context.params.message_id;
      if (!/^[0-9a-f-]{36}$/i.test(messageId)) {
        throw invalid("message_id in the path must be a UUID", "message_id");
      }
      const [message] = await context.tx`
        select content ->> 'storage_key' as storage_key from public.messages where id = ${messageId}::uuid`;
      if (message === undefined) throw notFound(`message ${messageId}`);
      if (message.storage_key === null) throw notFound(`stored media of message ${messageId}`);
      return await proxy(context, message.storage_key as string);
    },
  },
];
