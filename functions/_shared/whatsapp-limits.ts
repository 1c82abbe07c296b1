/**
 * WhatsApp's media limits for the functions: helpers over `MESSAGE_LIMITS`,
 * which `scripts/gen-message-types.sh` generates from
 * `crates/message-model/src/limits.rs` (the one place the limits are
 * written). The upload route and agent sends size and type-check files with
 * these before they reach the bucket; the content itself is checked by the
 * Rust model (`content-check.ts`).
 *
 * @module
 */

import { MEDIA_KINDS, MESSAGE_LIMITS } from "./message-content.ts";

export { MEDIA_KINDS } from "./message-content.ts";

/** A media kind. */
export type MediaKind = typeof MEDIA_KINDS[number];

/** The size limit and accepted MIME types of a media kind. */
export interface MediaLimit {
  kind: MediaKind;
  /** The largest file, in bytes. */
  maxBytes: number;
  /** The accepted MIME types (without parameters). */
  mimeTypes: readonly string[];
  /** Whether the kind carries a caption. */
  caption: boolean;
}

/** Per media kind: Meta's "Supported media types" table, as limits.rs states it. */
export const MEDIA_LIMITS: readonly MediaLimit[] = MESSAGE_LIMITS.media.map((limit) => ({
  kind: limit.kind as MediaKind,
  maxBytes: limit.max_bytes,
  mimeTypes: limit.mime_types,
  caption: limit.caption,
}));

/** The largest static (not animated) sticker, in bytes. */
export const MAX_STATIC_STICKER_BYTES: number = MESSAGE_LIMITS.max_static_sticker_bytes;

/** Whether a string is a media kind. */
export function isMediaKind(kind: unknown): kind is MediaKind {
  return typeof kind === "string" && (MEDIA_KINDS as readonly string[]).includes(kind);
}

/** The limits of a media kind. */
export function mediaLimit(kind: string): MediaLimit | undefined {
  return MEDIA_LIMITS.find((limit) => limit.kind === kind);
}

/** A MIME type without parameters, lowercased (`audio/ogg; codecs=opus` is `audio/ogg`). */
export function mimeEssence(mimeType: string): string {
  return mimeType.split(";")[0].trim().toLowerCase();
}

/** The media kind a MIME type is sent as by default (a voice note says `voice` itself). */
export function mediaKindForMime(mimeType: string): MediaKind | undefined {
  const essence = mimeEssence(mimeType);
  return MEDIA_LIMITS.find((limit) => limit.kind !== "voice" && limit.mimeTypes.includes(essence))?.kind;
}

/** Why WhatsApp would refuse this MIME type as `kind`, or null. */
export function mimeProblem(kind: MediaKind, mimeType: string): string | null {
  const limit = mediaLimit(kind)!;
  const essence = mimeEssence(mimeType);
  return limit.mimeTypes.includes(essence)
    ? null
    : `WhatsApp does not accept ${essence} as a ${kind}; use ${limit.mimeTypes.join(", ")}`;
}

/** The largest file of `kind` WhatsApp accepts, in bytes. */
export function maxBytes(kind: MediaKind, animated = false): number {
  return kind === "sticker" && !animated ? MAX_STATIC_STICKER_BYTES : mediaLimit(kind)!.maxBytes;
}

/** Why WhatsApp would refuse a file of `size` bytes as `kind`, or null. */
export function sizeProblem(kind: MediaKind, size: number, animated = false): string | null {
  const max = maxBytes(kind, animated);
  return size > max ? `the ${kind} is ${size} bytes; WhatsApp accepts at most ${max}` : null;
}
