/**
 * Helpers for editing a bot definition (docs/bot-definition.md) as a plain
 * JSON value: immutable updates by path, the node types and their fields,
 * and a starter definition.
 */
import type { PathSegment } from "./json-path";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const NODE_TYPES = ["message", "menu", "input", "condition", "set", "notify", "handoff", "template", "end"] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const TRIGGER_MATCHES = ["keyword", "exact", "regex", "any"] as const;

/** Node types that send a `text`. */
export const TYPES_WITH_TEXT: ReadonlySet<string> = new Set(["message", "menu", "input", "notify", "handoff"]);
/** Node types that continue to a `next` node. */
export const TYPES_WITH_NEXT: ReadonlySet<string> = new Set(["message", "input", "set", "notify", "template"]);

/** WhatsApp's limits the editor counts against (message_model::limits). */
export const LIMITS = {
  buttons: 3,
  buttonTitle: 20,
  listButton: 20,
  rows: 10,
  sectionTitle: 24,
  rowTitle: 24,
  rowDescription: 72,
  caption: 1024,
} as const;

/** What a message node sends, by the fields it has. */
export type MessageContentMode = "text" | "media" | "buttons" | "list";

/** The content a message node sends: media, buttons or a list when it has them, else text. */
export function messageMode(node: JsonObject): MessageContentMode {
  if (node.media !== undefined) return "media";
  if (node.list !== undefined) return "list";
  if (node.buttons !== undefined) return "buttons";
  return "text";
}

/**
 * A message node switched to another content: keeps its id, next and text
 * (media has no text: its caption takes the text over), drops the other
 * contents, and starts the new one with one empty entry.
 */
export function withMessageMode(node: JsonObject, mode: MessageContentMode): JsonObject {
  const { media, buttons, list, ...rest } = node;
  const text = typeof rest.text === "string" ? rest.text : "";
  const caption = isObject(media) && typeof media.caption === "string" ? media.caption : "";
  switch (mode) {
    case "text":
      return { ...rest, text: text || caption };
    case "media": {
      const { text: _dropped, ...withoutText } = rest;
      void _dropped;
      return { ...withoutText, media: isObject(media)
          ? media
          : { url: "https://example.com/picture.jpg", mime_type: "image/jpeg", ...(text ? { caption: text } : {}) },
      };
    }
    case "buttons":
      return { ...rest, text: text || caption, buttons: Array.isArray(buttons) ? buttons : [{ id: "yes", title: "Yes" }] };
    case "list":
      return {
        ...rest,
        text: text || caption,
        list: isObject(list) ? list : { button: "Choose", sections: [{ rows: [{ id: "row_1", title: "First choice" }] }] },
      };
  }
}

/** The number of characters as WhatsApp counts them (Unicode code points, as Rust's `chars().count()`). */
export function characterCount(text: unknown): number {
  return typeof text === "string" ? Array.from(text).length : 0;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns a copy of `root` with the value at `path` replaced (undefined removes an object member). */
export function setIn(root: Json, path: readonly PathSegment[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [head, ...rest] = path as [PathSegment, ...PathSegment[]];
  if (typeof head === "number") {
    const list = Array.isArray(root) ? [...root] : [];
    if (rest.length === 0 && value === undefined) {
      list.splice(head, 1);
      return list;
    }
    list[head] = setIn(list[head] ?? null, rest, value);
    return list;
  }
  const object: JsonObject = isObject(root) ? { ...root } : {};
  if (rest.length === 0 && value === undefined) {
    delete object[head];
    return object;
  }
  object[head] = setIn(object[head] ?? null, rest, value);
  return object;
}

/** Reads the value at `path`, or undefined. */
export function getIn(root: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (typeof segment === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (!isObject(current)) return undefined;
      current = current[segment];
    }
  }
  return current;
}

/** The ids of the definition's nodes, in order. */
export function nodeIds(definition: unknown): string[] {
  const nodes = isObject(definition) && Array.isArray(definition.nodes) ? definition.nodes : [];
  return nodes.map((node) => (isObject(node) && typeof node.id === "string" ? node.id : "")).filter((id) => id !== "");
}

/** A small, valid definition for a new bot. */
export function starterDefinition(name: string): JsonObject {
  return {
    format: 1,
    name,
    triggers: [{ match: "keyword", value: "hi", start: "welcome" }],
    start: "welcome",
    nodes: [
      { id: "welcome", type: "message", text: "Hi {{contact.name|there}}! Reply 1 for our opening hours.", next: "menu" },
      {
        id: "menu",
        type: "menu",
        text: "Reply 1 for opening hours or 2 to talk to a person.",
        options: [{ key: "1", keywords: ["hours"], next: "hours" }, { key: "2", keywords: ["person"], next: "to_human" }],
      },
      { id: "hours", type: "message", text: "We are open Monday to Friday, 9:00 to 17:00." },
      { id: "to_human", type: "handoff", text: "A person will reply soon.", reason: "asked for a person" },
    ],
    fallback: "Sorry, I didn't get that. Say hi to start.",
  };
}

/** Pretty JSON as the raw editor shows it. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
