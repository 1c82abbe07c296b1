/**
 * The media bucket, from the functions: put, get (streamed) and head of
 * objects over the S3 API, signed with AWS Signature V4 by `aws4fetch`
 * (a small, dependency-free, widely used SigV4 signer over `fetch`; it runs
 * unchanged in Deno and in Supabase's Edge Runtime, where the AWS SDK's
 * Node-oriented client pulls in far more code than a function bundle
 * should carry for three calls).
 *
 * Configuration, the same names as the daemon's:
 * - `WABOT_MEDIA_S3_ENDPOINT`: the S3 endpoint; hosted Supabase Storage is
 *   `https://<ref>.supabase.co/storage/v1/s3`, the local stack's S3 server
 *   `http://127.0.0.1:<port>`. Plain `http://` is refused off loopback.
 * - `WABOT_MEDIA_S3_REGION` (default `us-east-1`), `WABOT_MEDIA_S3_BUCKET`
 *   (default `wabot-media`), `WABOT_MEDIA_S3_ACCESS_KEY_ID`,
 *   `WABOT_MEDIA_S3_SECRET_ACCESS_KEY` (function secrets).
 *
 * Requests are path-style (`<endpoint>/<bucket>/<key>`), which Supabase
 * Storage and every local S3 server accept.
 *
 * @module
 */

import { AwsClient } from "npm:aws4fetch@1.0.20";

/** The media storage is not configured, or the endpoint is not acceptable. */
export class MediaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MediaConfigError";
  }
}

/** The S3 server answered with an error. */
export class MediaStorageError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "MediaStorageError";
  }
}

/** What a head (or get) of an object says about it. */
export interface ObjectInfo {
  sizeBytes: number;
  contentType: string | null;
}

/** The bucket's settings, read from the environment. */
export interface MediaConfig {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Reads the configuration; throws {@link MediaConfigError} naming what is missing. */
export function mediaConfig(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): MediaConfig {
  const endpoint = env("WABOT_MEDIA_S3_ENDPOINT")?.trim().replace(/\/+$/, "");
  const accessKeyId = env("WABOT_MEDIA_S3_ACCESS_KEY_ID")?.trim();
  const secretAccessKey = env("WABOT_MEDIA_S3_SECRET_ACCESS_KEY")?.trim();
  const missing = [
    ["WABOT_MEDIA_S3_ENDPOINT", endpoint],
    ["WABOT_MEDIA_S3_ACCESS_KEY_ID", accessKeyId],
    ["WABOT_MEDIA_S3_SECRET_ACCESS_KEY", secretAccessKey],
  ].filter(([, value]) => !value).map(([name]) => name);
  if (missing.length > 0) {
    throw new MediaConfigError(`media storage is not configured: set ${missing.join(", ")}`);
  }
  let url: URL;
  try {
    url = new URL(endpoint!);
  } catch {
    throw new MediaConfigError("WABOT_MEDIA_S3_ENDPOINT is not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.test(url.hostname))) {
    throw new MediaConfigError(
      "WABOT_MEDIA_S3_ENDPOINT must be https:// (plain http is allowed on loopback only)",
    );
  }
  const bucket = env("WABOT_MEDIA_S3_BUCKET")?.trim() || "wabot-media";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new MediaConfigError("WABOT_MEDIA_S3_BUCKET is not a valid bucket name");
  }
  return {
    endpoint: endpoint!,
    region: env("WABOT_MEDIA_S3_REGION")?.trim() || "us-east-1",
    bucket,
    accessKeyId: accessKeyId!,
    secretAccessKey: secretAccessKey!,
  };
}

/** Encodes an object key for a path-style URL (slashes kept). */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** The media bucket. */
export class MediaStore {
  private readonly client: AwsClient;

  constructor(readonly config: MediaConfig = mediaConfig()) {
    this.client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      service: "s3",
      region: config.region,
    });
  }

  private url(key?: string): string {
    const base = `${this.config.endpoint}/${encodeURIComponent(this.config.bucket)}`;
    return key === undefined ? base : `${base}/${encodeKey(key)}`;
  }

  private async fail(what: string, response: Response): Promise<never> {
    const text = (await response.text().catch(() => "")).slice(0, 300);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new MediaStorageError(
      `${what} failed: the S3 server answered ${response.status}${code ? ` (${code})` : ""}`,
      response.status,
    );
  }

  /**
   * Stores `bytes` at `key`. `sha256Hex` (the bytes' SHA-256) is sent as the
   * signed payload hash, so the server verifies the bytes it received.
   */
  async put(key: string, bytes: Uint8Array, contentType: string, sha256Hex: string): Promise<void> {
    const response = await this.client.fetch(this.url(key), {
      method: "PUT",
      headers: {
        "content-type": contentType,
        "content-length": String(bytes.byteLength),
        "x-amz-content-sha256": sha256Hex,
      },
      body: bytes as BodyInit,
    });
    if (!response.ok) await this.fail(`storing ${key}`, response);
    await response.body?.cancel();
  }

  /** Reads an object's size and type; null when there is no such object. */
  async head(key: string): Promise<ObjectInfo | null> {
    const response = await this.client.fetch(this.url(key), { method: "HEAD" });
    if (response.status === 404) return null;
    if (!response.ok) await this.fail(`reading ${key}`, response);
    return {
      sizeBytes: Number(response.headers.get("content-length") ?? "0"),
      contentType: response.headers.get("content-type"),
    };
  }

  /**
   * Opens an object for streaming; null when there is no such object. A
   * `range` (an HTTP Range header's value) asks for part of it (206).
   */
  async get(key: string, range?: string): Promise<Response | null> {
    const headers: Record<string, string> = {};
    if (range !== undefined) headers.range = range;
    const response = await this.client.fetch(this.url(key), { method: "GET", headers });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok && response.status !== 206) await this.fail(`reading ${key}`, response);
    return response;
  }

  /** Deletes an object (used to undo a store whose metadata could not be written). */
  async delete(key: string): Promise<void> {
    const response = await this.client.fetch(this.url(key), { method: "DELETE" });
    if (!response.ok && response.status !== 404) await this.fail(`deleting ${key}`, response);
    await response.body?.cancel();
  }

  /** Creates the bucket when it is missing (the local stack; hosted, docs/deploy.md creates it). */
  async ensureBucket(): Promise<void> {
    const head = await this.client.fetch(this.url(), { method: "HEAD" });
    await head.body?.cancel();
    if (head.ok) return;
    const response = await this.client.fetch(this.url(), { method: "PUT" });
    if (!response.ok && response.status !== 409) await this.fail("creating the bucket", response);
    await response.body?.cancel();
  }
}

let shared: MediaStore | null = null;

/** The module's store, configured from the environment on first use. */
export function mediaStore(): MediaStore {
  return shared ??= new MediaStore();
}

/** The hex SHA-256 of some bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The body was larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads a stream whole, refusing more than `maxBytes` as soon as it is
 * exceeded (the rest is not read). `expectedBytes` (a declared
 * Content-Length) sizes the buffer up front, so the bytes are not copied
 * again.
 */
export async function readBounded(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  expectedBytes?: number,
): Promise<Uint8Array> {
  let buffer = new Uint8Array(Math.min(maxBytes, expectedBytes ?? 64 * 1024) || 1024);
  let length = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.byteLength > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(maxBytes);
      }
      if (length + value.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(
          Math.min(maxBytes, Math.max(buffer.byteLength * 2, length + value.byteLength)),
        );
        grown.set(buffer.subarray(0, length));
        buffer = grown;
      }
      buffer.set(value, length);
      length += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return buffer.subarray(0, length);
}

/**
 * The MIME type the first bytes of a file show, for the types whose
 * signature is unambiguous; null when they show none of these (text, CSV
 * and the Office formats have no reliable signature and are not sniffed).
 */
export function sniffMime(bytes: Uint8Array): string | null {
  const starts = (offset: number, ...signature: number[]) =>
    signature.every((byte, index) => bytes[offset + index] === byte);
  const ascii = (offset: number, text: string) => starts(offset, ...[...text].map((c) => c.charCodeAt(0)));
  if (starts(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "image/webp";
  if (ascii(0, "GIF8")) return "image/gif";
  if (ascii(0, "%PDF-")) return "application/pdf";
  if (ascii(0, "OggS")) return "audio/ogg";
  if (ascii(0, "#!AMR")) return "audio/amr";
  if (ascii(4, "ftyp")) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (brand.startsWith("3g")) return "video/3gpp";
    if (brand === "M4A " || brand === "M4B ") return "audio/mp4";
    return "video/mp4";
  }
  if (ascii(0, "ID3") || starts(0, 0xff, 0xfb) || starts(0, 0xff, 0xf3) || starts(0, 0xff, 0xf2)) {
    return "audio/mpeg";
  }
  if (starts(0, 0xff, 0xf1) || starts(0, 0xff, 0xf9)) return "audio/aac";
  if (starts(0, 0x50, 0x4b, 0x03, 0x04)) return "application/zip";
  if (starts(0, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return "application/x-ole-storage";
  if (starts(0, 0x4d, 0x5a)) return "application/x-msdownload";
  if (ascii(0, "\x7fELF")) return "application/x-executable";
  return null;
}

/**
 * Whether the sniffed type contradicts the declared one: a file whose
 * bytes show a known signature of another type (an executable sent as
 * image/png). Office files are zip or OLE containers, so those signatures
 * match the Office types too.
 */
export function contradictsDeclared(declared: string, sniffed: string | null): boolean {
  if (sniffed === null) {
    // Binary formats with a signature must show it.
    return [
      "image/jpeg",
      "image/png",
      "image/webp",
      "application/pdf",
      "application/zip",
      "audio/ogg",
      "video/mp4",
    ].includes(declared);
  }
  if (sniffed === declared) return false;
  if (sniffed === "application/zip") return !/openxmlformats|^application\/zip$/.test(declared);
  if (sniffed === "application/x-ole-storage") {
    return !["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"].includes(
      declared,
    );
  }
  if (sniffed === "video/mp4") return !["audio/mp4", "video/3gpp"].includes(declared);
  if (sniffed === "audio/mp4") return !["video/mp4"].includes(declared);
  return true;
}
