/**
 * WhatsApp's documented limits, for the functions: the one TypeScript copy
 * of `crates/message-model/src/limits.rs` (the source of truth), until the
 * routing core exposes the model's own check through Wasm (`checkContent`)
 * and the generated JSON. Every function reads the limits from here, never
 * from a copy of its own; `functions/tests/content_check_test.ts` reads
 * limits.rs and fails when the two differ.
 *
 * @module
 */

/** The longest text message, in characters. */
export const MAX_TEXT_CHARS = 4096;
/** The longest media caption, in characters. */
export const MAX_CAPTION_CHARS = 1024;
/** The longest body of a buttons message, in characters. */
export const MAX_BUTTONS_BODY_CHARS = 1024;
/** The longest body of a list message, in characters. */
export const MAX_LIST_BODY_CHARS = 4096;
/** The longest interactive header or footer, in characters. */
export const MAX_HEADER_FOOTER_CHARS = 60;
/** The most reply buttons on one message. */
export const MAX_REPLY_BUTTONS = 3;
/** The longest reply button title, in characters. */
export const MAX_BUTTON_TITLE_CHARS = 20;
/** The longest reply button id, in characters. */
export const MAX_BUTTON_ID_CHARS = 256;
/** The longest label of a list's button, in characters. */
export const MAX_LIST_BUTTON_CHARS = 20;
/** The most sections in a list. */
export const MAX_LIST_SECTIONS = 10;
/** The most rows in a list, over all sections. */
export const MAX_LIST_ROWS = 10;
/** The longest section title, in characters. */
export const MAX_SECTION_TITLE_CHARS = 24;
/** The longest row title, in characters. */
export const MAX_ROW_TITLE_CHARS = 24;
/** The longest row id, in characters. */
export const MAX_ROW_ID_CHARS = 200;
/** The longest row description, in characters. */
export const MAX_ROW_DESCRIPTION_CHARS = 72;
/** The longest template name, in characters. */
export const MAX_TEMPLATE_NAME_CHARS = 512;
/** The most contact cards in one message. */
export const MAX_SHARED_CONTACTS = 257;
/** The longest location name or address, in characters. */
export const MAX_LOCATION_TEXT_CHARS = 1024;

const MB = 1024 * 1024;
const KB = 1024;

/** The media kinds. */
export const MEDIA_KINDS = ["image", "video", "audio", "voice", "document", "sticker"] as const;

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

/** Per media kind: Meta's "Supported media types" table. */
export const MEDIA_LIMITS: readonly MediaLimit[] = [
  { kind: "image", maxBytes: 5 * MB, mimeTypes: ["image/jpeg", "image/png"], caption: true },
  { kind: "video", maxBytes: 16 * MB, mimeTypes: ["video/mp4", "video/3gpp"], caption: true },
  {
    kind: "audio",
    maxBytes: 16 * MB,
    mimeTypes: ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
    caption: false,
  },
  { kind: "voice", maxBytes: 16 * MB, mimeTypes: ["audio/ogg"], caption: false },
  {
    kind: "document",
    maxBytes: 100 * MB,
    mimeTypes: [
      "text/plain",
      "text/csv",
      "application/pdf",
      "application/msword",
      "application/vnd.ms-excel",
      "application/vnd.ms-powerpoint",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
      "application/zip",
    ],
    caption: true,
  },
  { kind: "sticker", maxBytes: 500 * KB, mimeTypes: ["image/webp"], caption: false },
];

/** The largest static (not animated) sticker, in bytes. */
export const MAX_STATIC_STICKER_BYTES = 100 * KB;

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
