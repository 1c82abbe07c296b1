/**
 * The message model as the console reads it (crates/message-model's
 * `Content`, serde `tag = "kind"`), and the pure helpers the inbox and the
 * test chat render with: a message's content (with a fallback for rows an
 * older API returns without `content`), its one-line summary (as
 * `Content::summary` in Rust), sizes, map links, and the thread's reactions
 * and quoted replies.
 *
 * The types are the generated `src/generated/message-content.ts` (from the
 * Rust model's JSON Schema, copied from functions/_shared by
 * scripts/sync-routing-wasm.mjs); nothing here restates them.
 */

import type {
  Content,
  ContentKind,
  Media,
  ReplyButton,
  Template,
  TemplateComponent,
  TemplateParameter,
} from "@/generated/message-content";

export type {
  ContactName,
  ContactPhone,
  Content,
  ContentKind,
  ListRow,
  ListSection,
  Media,
  ReplyButton,
  SharedContact,
  Template,
  TemplateComponent,
  TemplateParameter,
} from "@/generated/message-content";

import { CONTENT_KINDS, MEDIA_KINDS } from "@/generated/message-content";

/** The media kinds: a file with a MIME type, stored or referenced (generated from limits.rs). */
export { MEDIA_KINDS };
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** A template's name, language and parameters (the model's `Template`). */
export type TemplateContent = Template;

/** A reply button (the model's `ReplyButton`). */
export type ChoiceButton = ReplyButton;

/** Content of one of the media kinds. */
export type MediaContent = Extract<Content, { kind: MediaKind }>;

/** Whether `kind` is one of the media kinds. */
export function isMediaKind(kind: unknown): kind is MediaKind {
  return typeof kind === "string" && (MEDIA_KINDS as readonly string[]).includes(kind);
}

/** Whether `content` is a media message. */
export function isMedia(content: Content): content is MediaContent {
  return isMediaKind(content.kind);
}

const KNOWN_KINDS: ReadonlySet<string> = new Set(CONTENT_KINDS);

/** The fields of a message the helpers read (the admin API's `Message`). */
export interface MessageLike {
  id: string;
  type: string;
  body: string;
  content?: unknown;
  wa_message_id?: string | null;
  context_wa_message_id?: string | null;
}

/**
 * A message's content: `content` when the API sent a known kind, else what
 * the old columns say (`body` as text), and a kind this console does not
 * know as `unknown`, so nothing is dropped silently.
 */
export function contentOf(message: MessageLike): Content {
  const content = message.content;
  if (typeof content === "object" && content !== null && !Array.isArray(content)) {
    const kind = (content as { kind?: unknown }).kind;
    if (typeof kind === "string" && KNOWN_KINDS.has(kind)) return content as Content;
    if (typeof kind === "string") {
      return { kind: "unknown", original_type: kind, reason: "this console does not know this kind yet" };
    }
  }
  if (message.type === "text" || message.type === "") return { kind: "text", text: message.body };
  if (message.body !== "") return { kind: "text", text: message.body };
  return { kind: "unknown", original_type: message.type, reason: "the message has no content" };
}

/** A one-line summary, as `Content::summary` in crates/message-model. */
export function summary(content: Content): string {
  switch (content.kind) {
    case "text":
      return content.text;
    case "image":
    case "video":
    case "audio":
    case "voice":
    case "document":
    case "sticker":
      return content.caption ?? content.filename ?? "";
    case "location":
      return [content.name, content.address].filter((part) => typeof part === "string" && part !== "").join(", ");
    case "contacts":
      return content.contacts.map((contact) => contact.name.formatted_name).join(", ");
    case "reaction":
      return content.emoji;
    case "button_reply":
    case "list_reply":
      return content.title;
    case "buttons":
    case "list":
      return content.text;
    case "template":
      return content.name;
    case "system":
      return content.text ?? "";
    case "unknown":
      return "";
  }
}

/** What a kind is called in a sentence ("a picture", "a voice note"). */
export const KIND_LABELS: Record<ContentKind, string> = {
  text: "Text",
  image: "Picture",
  video: "Video",
  audio: "Audio",
  voice: "Voice note",
  document: "Document",
  sticker: "Sticker",
  location: "Location",
  contacts: "Contacts",
  reaction: "Reaction",
  button_reply: "Button tap",
  list_reply: "List pick",
  buttons: "Buttons",
  list: "List",
  template: "Template",
  system: "System notice",
  unknown: "Unknown",
};

/** A summary that is never empty: the kind's name stands in ("[Voice note]"). */
export function quoteText(content: Content): string {
  const text = summary(content).trim();
  return text === "" ? `[${KIND_LABELS[content.kind]}]` : text;
}

/** A byte count for people: "912 B", "14.2 KB", "3.1 MB" (1 KB = 1,024 bytes). */
export function formatBytes(bytes: number | null | undefined): string {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit]}`;
}

/** The OpenStreetMap page of a point, with a marker on it. */
export function mapUrl(latitude: number, longitude: number): string {
  const lat = String(latitude);
  const lon = String(longitude);
  return `https://www.openstreetmap.org/?mlat=${encodeURIComponent(lat)}&mlon=${encodeURIComponent(lon)}#map=16/${
    encodeURIComponent(lat)
  }/${encodeURIComponent(lon)}`;
}

/** Coordinates as shown: five decimals (about a metre), with the hemisphere. */
export function formatCoordinates(latitude: number, longitude: number): string {
  const part = (value: number, positive: string, negative: string) =>
    `${Math.abs(value).toFixed(5)}° ${value < 0 ? negative : positive}`;
  return `${part(latitude, "N", "S")}, ${part(longitude, "E", "W")}`;
}

/** One reaction on a message: the emoji and who sent it. */
export interface Reaction<M> {
  emoji: string;
  message: M;
}

/** A message as the thread shows it: its content, reactions on it, and what it quotes. */
export interface ThreadItem<M extends MessageLike> {
  message: M;
  content: Content;
  /** Reactions to this message (the latest per direction; an empty emoji removed one). */
  reactions: Reaction<M>[];
  /** The quoted message, when `context_wa_message_id` names one in the thread. */
  quoted: { id: string; text: string; found: true } | { id: string; text: string; found: false } | null;
}

/**
 * Lays a thread out: a reaction joins the message it reacts to (matched by
 * the WhatsApp id) and is not shown alone; a reaction to a message not in
 * the thread stays in the list. Each side keeps its latest reaction; an
 * empty emoji removes it. A reply gets the summary of the message it quotes.
 * `messages` are in thread order (oldest first).
 */
export function layoutThread<M extends MessageLike>(messages: readonly M[]): ThreadItem<M>[] {
  const byWaId = new Map<string, M>();
  for (const message of messages) if (message.wa_message_id) byWaId.set(message.wa_message_id, message);
  const reactions = new Map<string, Map<string, Reaction<M>>>();
  const items: ThreadItem<M>[] = [];
  for (const message of messages) {
    const content = contentOf(message);
    if (content.kind === "reaction" && byWaId.has(content.message_id)) {
      const target = byWaId.get(content.message_id) as M;
      const side = (message as { direction?: string }).direction ?? "unknown";
      const onTarget = reactions.get(target.id) ?? new Map<string, Reaction<M>>();
      if (content.emoji === "") onTarget.delete(side);
      else onTarget.set(side, { emoji: content.emoji, message });
      reactions.set(target.id, onTarget);
      continue;
    }
    let quoted: ThreadItem<M>["quoted"] = null;
    const context = message.context_wa_message_id;
    if (context) {
      const original = byWaId.get(context);
      quoted = original
        ? { id: context, text: quoteText(contentOf(original)), found: true }
        : { id: context, text: "an earlier message", found: false };
    }
    items.push({ message, content, reactions: [], quoted });
  }
  for (const item of items) item.reactions = [...(reactions.get(item.message.id)?.values() ?? [])];
  return items;
}

/** The text of a template parameter as shown. */
export function parameterText(parameter: TemplateParameter): string {
  switch (parameter.type) {
    case "text":
      return parameter.text;
    case "currency":
    case "date_time":
      return parameter.fallback_value;
    case "payload":
      return parameter.payload;
    default:
      return `[${parameter.type}${parameter.media?.filename ? `: ${parameter.media.filename}` : ""}]`;
  }
}

// ---------------------------------------------------------------------------
// Templates (GET /numbers/{id}/templates) and composing a template message.
// ---------------------------------------------------------------------------

/** A template as the admin API lists it (Graph API `message_templates`). */
export interface MessageTemplate {
  name: string;
  language: string;
  status: string;
  category: string;
  components: Array<{ type: string; text?: string; format?: string; [key: string]: unknown }>;
}

/** The number of `{{n}}` placeholders in a template's body (the highest n). */
export function bodyParameterCount(template: MessageTemplate): number {
  const body = template.components.find((component) => component.type.toUpperCase() === "BODY");
  if (!body || typeof body.text !== "string") return 0;
  let highest = 0;
  for (const match of body.text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) highest = Math.max(highest, Number(match[1]));
  return highest;
}

/** The body text of a template with its placeholders filled where a value is given. */
export function fillBody(template: MessageTemplate, values: readonly string[]): string {
  const body = template.components.find((component) => component.type.toUpperCase() === "BODY");
  const text = typeof body?.text === "string" ? body.text : "";
  return text.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, index: string) => {
    const value = values[Number(index) - 1];
    return value === undefined || value === "" ? whole : value;
  });
}

/** Only the templates WhatsApp approved can be sent. */
export function approvedTemplates(templates: readonly MessageTemplate[]): MessageTemplate[] {
  return templates.filter((template) => template.status.toUpperCase() === "APPROVED");
}

/** The content of a template message with the body parameters given. */
export function templateContent(template: MessageTemplate, bodyValues: readonly string[]): Content {
  const components: TemplateComponent[] = bodyValues.length === 0
    ? []
    : [{ type: "body", parameters: bodyValues.map((text) => ({ type: "text", text })) }];
  return { kind: "template", name: template.name, language: template.language, components };
}

/**
 * Which body parameter a JSON path from the API names, e.g.
 * `$.content.components[0].parameters[1].text` → 1 (or null).
 */
export function parameterIndexOfPath(path: string): number | null {
  const match = /components\[\d+\]\.parameters\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : null;
}

/** The media kind a file's MIME type is sent as (a picture or a document here). */
export function attachmentKind(mimeType: string): "image" | "document" {
  const type = mimeType.toLowerCase().split(";")[0]?.trim() ?? "";
  return type === "image/jpeg" || type === "image/png" ? "image" : "document";
}

/** The media kind of a MIME type, as `message_model::limits::media_kind_for_mime` (stickers and voice notes need their own flag). */
export function mediaKindForMime(mimeType: string): MediaKind {
  const type = mimeType.toLowerCase().split(";")[0]?.trim() ?? "";
  if (type === "image/webp") return "sticker";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type === "audio/ogg") return "voice";
  if (type.startsWith("audio/")) return "audio";
  return "document";
}

/**
 * The content of a message the routing core sends: already a `Content`, or
 * the core's earlier shape (`{kind: "media", media: {url, media_id,
 * mime_type, filename}, caption}`), whose kind follows the MIME type.
 */
export function contentFromRouting(message: unknown): Content {
  if (typeof message !== "object" || message === null) {
    return { kind: "unknown", original_type: typeof message, reason: "the routing core sent no message" };
  }
  const record = message as Record<string, unknown>;
  if (record.kind === "media" && typeof record.media === "object" && record.media !== null) {
    const media = record.media as Media & { kind?: unknown };
    const kind = isMediaKind(media.kind) ? media.kind : mediaKindForMime(media.mime_type ?? "");
    const caption = typeof record.caption === "string" ? record.caption : media.caption ?? null;
    return {
      kind,
      url: media.url ?? null,
      media_id: media.media_id ?? null,
      storage_key: media.storage_key ?? null,
      mime_type: media.mime_type ?? null,
      filename: media.filename ?? null,
      caption,
    };
  }
  return contentOf({ id: "", type: typeof record.kind === "string" ? record.kind : "", body: "", content: record });
}
