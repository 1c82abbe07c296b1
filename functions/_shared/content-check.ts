/**
 * Checks outbound content against WhatsApp's limits: the functions' port of
 * `check_outbound` in `crates/message-model/src/check.rs`, with the same
 * paths and codes, over the limits of `whatsapp-limits.ts`. It stands in
 * until the routing core exposes the model's own check through Wasm
 * (`checkContent`); then this module calls that export instead.
 *
 * Unlike the Rust types, the input here is untrusted JSON, so the shape is
 * checked first (a missing or ill-typed field is a problem with its path,
 * never a crash).
 *
 * @module
 */

import * as L from "./whatsapp-limits.ts";

/** One thing wrong with outbound content; `path` is relative to the content. */
export interface ContentProblem {
  path: string;
  /** `too_long`, `too_many`, `missing`, `out_of_range`, `duplicate`, `mime_type`, `too_large`, `inbound_only`, `invalid`. */
  code: string;
  message: string;
}

/** The kinds a member may send. */
export const OUTBOUND_KINDS = [
  "text",
  ...L.MEDIA_KINDS,
  "location",
  "contacts",
  "reaction",
  "buttons",
  "list",
  "template",
] as const;

const INBOUND_ONLY = ["button_reply", "list_reply", "system", "unknown"];

type Json = Record<string, unknown>;

function chars(text: string): number {
  return [...text].length;
}

class Problems {
  readonly list: ContentProblem[] = [];

  push(path: string, code: string, message: string): void {
    this.list.push({ path, code, message });
  }

  /** Reads a required string; a problem when it is missing or not a string. */
  string(object: Json, path: string, field: string, what: string): string | null {
    const value = object[field];
    const at = path === "" ? field : `${path}.${field}`;
    if (typeof value !== "string") {
      this.push(at, "missing", `${what} is required and must be a string`);
      return null;
    }
    return value;
  }

  /** Reads an optional string; a problem when present and not a string. */
  optionalString(object: Json, path: string, field: string): string | null {
    const value = object[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") {
      this.push(path === "" ? field : `${path}.${field}`, "invalid", `${field} must be a string`);
      return null;
    }
    return value;
  }

  maxChars(path: string, text: string | null, max: number, what: string): void {
    if (text === null) return;
    const n = chars(text);
    if (n > max) this.push(path, "too_long", `${what} is ${n} characters; WhatsApp allows at most ${max}`);
  }

  required(path: string, text: string | null, what: string): void {
    if (text !== null && text.trim() === "") this.push(path, "missing", `${what} must not be empty`);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(prefix: string, field: string): string {
  return prefix === "" ? field : `${prefix}.${field}`;
}

/**
 * Checks content about to be sent; an empty list means WhatsApp's
 * documented limits are met. Paths are relative to the content
 * (`buttons[1].title`); prefix them with where the content sits.
 */
export function checkOutbound(content: unknown): ContentProblem[] {
  const p = new Problems();
  if (!isObject(content)) {
    p.push("", "invalid", "the content must be a JSON object with a kind");
    return p.list;
  }
  const kind = content.kind;
  if (typeof kind !== "string") {
    p.push("kind", "missing", "kind is required: one of " + OUTBOUND_KINDS.join(", "));
    return p.list;
  }
  if (INBOUND_ONLY.includes(kind)) {
    p.push("kind", "inbound_only", `a ${kind} message can only be received`);
    return p.list;
  }
  if (L.isMediaKind(kind)) {
    checkMedia(p, "", kind, content);
    return p.list;
  }
  switch (kind) {
    case "text": {
      const text = p.string(content, "", "text", "the text");
      p.required("text", text, "the text");
      p.maxChars("text", text, L.MAX_TEXT_CHARS, "the text");
      if (content.preview_url !== undefined && typeof content.preview_url !== "boolean") {
        p.push("preview_url", "invalid", "preview_url must be true or false");
      }
      break;
    }
    case "location": {
      for (const [field, bound] of [["latitude", 90], ["longitude", 180]] as const) {
        const value = content[field];
        if (typeof value !== "number" || !Number.isFinite(value)) {
          p.push(field, "missing", `${field} is required and must be a number`);
        } else if (value < -bound || value > bound) {
          p.push(field, "out_of_range", `${field} ${value} is not between -${bound} and ${bound}`);
        }
      }
      for (const field of ["name", "address"]) {
        p.maxChars(field, p.optionalString(content, "", field), L.MAX_LOCATION_TEXT_CHARS, field);
      }
      break;
    }
    case "contacts": {
      const contacts = content.contacts;
      if (!Array.isArray(contacts) || contacts.length === 0) {
        p.push("contacts", "missing", "at least one contact card is needed");
        break;
      }
      if (contacts.length > L.MAX_SHARED_CONTACTS) {
        p.push("contacts", "too_many", `${contacts.length} contact cards; at most ${L.MAX_SHARED_CONTACTS}`);
      }
      contacts.forEach((contact, index) => {
        const path = `contacts[${index}].name`;
        if (!isObject(contact) || !isObject(contact.name)) {
          p.push(path, "missing", "a contact card needs a name");
          return;
        }
        const name = p.string(contact.name, path, "formatted_name", "a contact's formatted name");
        p.required(`${path}.formatted_name`, name, "a contact's formatted name");
        if (contact.phones !== undefined && !Array.isArray(contact.phones)) {
          p.push(`contacts[${index}].phones`, "invalid", "phones must be an array");
        }
      });
      break;
    }
    case "reaction": {
      const messageId = p.string(content, "", "message_id", "the reacted message's id");
      p.required("message_id", messageId, "the reacted message's id");
      const emoji = p.string(content, "", "emoji", "the emoji");
      if (emoji !== null && chars(emoji) > 10) p.push("emoji", "invalid", "a reaction is one emoji");
      break;
    }
    case "buttons": {
      const text = p.string(content, "", "text", "the body of a buttons message");
      p.required("text", text, "the body of a buttons message");
      p.maxChars("text", text, L.MAX_BUTTONS_BODY_CHARS, "the body of a buttons message");
      checkHeaderFooter(p, content);
      checkButtons(p, content.buttons);
      break;
    }
    case "list": {
      const text = p.string(content, "", "text", "the body of a list message");
      p.required("text", text, "the body of a list message");
      p.maxChars("text", text, L.MAX_LIST_BODY_CHARS, "the body of a list message");
      checkHeaderFooter(p, content);
      const button = p.string(content, "", "button", "the list's button label");
      p.required("button", button, "the list's button label");
      p.maxChars("button", button, L.MAX_LIST_BUTTON_CHARS, "the list's button label");
      checkSections(p, content.sections);
      break;
    }
    case "template":
      checkTemplate(p, content);
      break;
    default:
      p.push("kind", "invalid", `unknown kind ${JSON.stringify(kind)}; one of ${OUTBOUND_KINDS.join(", ")}`);
  }
  return p.list;
}

function checkHeaderFooter(p: Problems, content: Json): void {
  for (const field of ["header", "footer"]) {
    p.maxChars(field, p.optionalString(content, "", field), L.MAX_HEADER_FOOTER_CHARS, field);
  }
}

function checkButtons(p: Problems, buttons: unknown): void {
  if (!Array.isArray(buttons) || buttons.length === 0) {
    p.push("buttons", "missing", "a buttons message needs a button");
    return;
  }
  if (buttons.length > L.MAX_REPLY_BUTTONS) {
    p.push(
      `buttons[${L.MAX_REPLY_BUTTONS}]`,
      "too_many",
      `${buttons.length} buttons; WhatsApp shows at most ${L.MAX_REPLY_BUTTONS}`,
    );
  }
  const seen: string[] = [];
  buttons.forEach((button, index) => {
    const path = `buttons[${index}]`;
    if (!isObject(button)) {
      p.push(path, "invalid", "a button is an object with an id and a title");
      return;
    }
    const id = p.string(button, path, "id", "a button id");
    p.required(`${path}.id`, id, "a button id");
    p.maxChars(`${path}.id`, id, L.MAX_BUTTON_ID_CHARS, "a button id");
    const title = p.string(button, path, "title", "a button title");
    p.required(`${path}.title`, title, "a button title");
    p.maxChars(`${path}.title`, title, L.MAX_BUTTON_TITLE_CHARS, "a button title");
    if (id !== null && seen.includes(id)) {
      p.push(`${path}.id`, "duplicate", `button id ${JSON.stringify(id)} is used twice`);
    }
    if (id !== null) seen.push(id);
  });
}

function checkSections(p: Problems, sections: unknown): void {
  if (!Array.isArray(sections) || sections.length === 0) {
    p.push("sections", "missing", "a list needs a section");
    return;
  }
  if (sections.length > L.MAX_LIST_SECTIONS) {
    p.push("sections", "too_many", `${sections.length} sections; at most ${L.MAX_LIST_SECTIONS}`);
  }
  const rowCount = sections.reduce(
    (sum: number, section) =>
      sum + (isObject(section) && Array.isArray(section.rows) ? section.rows.length : 0),
    0,
  );
  if (rowCount > L.MAX_LIST_ROWS) {
    p.push(
      "sections",
      "too_many",
      `${rowCount} rows; WhatsApp shows at most ${L.MAX_LIST_ROWS} over all sections`,
    );
  }
  const seen: string[] = [];
  sections.forEach((section, s) => {
    const path = `sections[${s}]`;
    if (!isObject(section)) {
      p.push(path, "invalid", "a section is an object with rows");
      return;
    }
    const title = p.optionalString(section, path, "title");
    if (title !== null) {
      p.maxChars(`${path}.title`, title, L.MAX_SECTION_TITLE_CHARS, "a section title");
    } else if (sections.length > 1) {
      p.push(`${path}.title`, "missing", "each section needs a title when there are several");
    }
    if (!Array.isArray(section.rows) || section.rows.length === 0) {
      p.push(`${path}.rows`, "missing", "a section needs a row");
      return;
    }
    section.rows.forEach((row, r) => {
      const rowPath = `${path}.rows[${r}]`;
      if (!isObject(row)) {
        p.push(rowPath, "invalid", "a row is an object with an id and a title");
        return;
      }
      const id = p.string(row, rowPath, "id", "a row id");
      p.required(`${rowPath}.id`, id, "a row id");
      p.maxChars(`${rowPath}.id`, id, L.MAX_ROW_ID_CHARS, "a row id");
      const rowTitle = p.string(row, rowPath, "title", "a row title");
      p.required(`${rowPath}.title`, rowTitle, "a row title");
      p.maxChars(`${rowPath}.title`, rowTitle, L.MAX_ROW_TITLE_CHARS, "a row title");
      const description = p.optionalString(row, rowPath, "description");
      p.maxChars(`${rowPath}.description`, description, L.MAX_ROW_DESCRIPTION_CHARS, "a row description");
      if (id !== null && seen.includes(id)) {
        p.push(`${rowPath}.id`, "duplicate", `row id ${JSON.stringify(id)} is used twice`);
      }
      if (id !== null) seen.push(id);
    });
  });
}

function checkMedia(p: Problems, prefix: string, kind: L.MediaKind, media: Json): void {
  const url = p.optionalString(media, prefix, "url");
  const mediaId = p.optionalString(media, prefix, "media_id");
  const storageKey = p.optionalString(media, prefix, "storage_key");
  if (url === null && mediaId === null && storageKey === null) {
    p.push(join(prefix, "url"), "missing", `a ${kind} needs a url, a media_id or a storage_key`);
  }
  if (url !== null && !(url.startsWith("https://") || url.startsWith("http://"))) {
    p.push(join(prefix, "url"), "invalid", "a media url must be http(s)");
  }
  const limit = L.mediaLimit(kind)!;
  const caption = p.optionalString(media, prefix, "caption");
  if (caption !== null) {
    if (limit.caption) {
      p.maxChars(join(prefix, "caption"), caption, L.MAX_CAPTION_CHARS, "the caption");
    } else if (caption !== "") {
      p.push(join(prefix, "caption"), "invalid", `WhatsApp shows no caption on a ${kind}`);
    }
  }
  p.maxChars(join(prefix, "filename"), p.optionalString(media, prefix, "filename"), 255, "the file name");
  const mimeType = p.optionalString(media, prefix, "mime_type");
  if (mimeType !== null) {
    const problem = L.mimeProblem(kind, mimeType);
    if (problem !== null) p.push(join(prefix, "mime_type"), "mime_type", problem);
  }
  const size = media.size_bytes;
  const animated = media.animated === true;
  if (size !== undefined && size !== null) {
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
      p.push(join(prefix, "size_bytes"), "invalid", "size_bytes must be a non-negative integer");
    } else {
      const problem = L.sizeProblem(kind, size, animated);
      if (problem !== null) p.push(join(prefix, "size_bytes"), "too_large", problem);
    }
  }
}

const TEMPLATE_PARAMETER_TYPES = ["text", "currency", "date_time", "image", "video", "document", "payload"];

function checkTemplate(p: Problems, template: Json): void {
  const name = template.name;
  if (
    typeof name !== "string" || name === "" || chars(name) > L.MAX_TEMPLATE_NAME_CHARS ||
    !/^[a-z0-9_]+$/.test(name)
  ) {
    p.push("name", "invalid", "a template name is 1 to 512 lowercase letters, digits or underscores");
  }
  const language = template.language;
  if (typeof language !== "string" || !/^[A-Za-z0-9_]{2,15}$/.test(language)) {
    p.push("language", "invalid", "a template language is a code such as en or en_US");
  }
  const components = template.components ?? [];
  if (!Array.isArray(components)) {
    p.push("components", "invalid", "components must be an array");
    return;
  }
  components.forEach((component, c) => {
    const path = `components[${c}]`;
    if (!isObject(component)) {
      p.push(path, "invalid", "a component is an object with a type and parameters");
      return;
    }
    if (!["header", "body", "button"].includes(component.type as string)) {
      p.push(`${path}.type`, "invalid", "a component's type is header, body or button");
    }
    const parameters = component.parameters ?? [];
    if (!Array.isArray(parameters)) {
      p.push(`${path}.parameters`, "invalid", "parameters must be an array");
      return;
    }
    parameters.forEach((parameter, index) => {
      const parameterPath = `${path}.parameters[${index}]`;
      if (!isObject(parameter) || !TEMPLATE_PARAMETER_TYPES.includes(parameter.type as string)) {
        p.push(
          `${parameterPath}.type`,
          "invalid",
          `a parameter's type is one of ${TEMPLATE_PARAMETER_TYPES.join(", ")}`,
        );
        return;
      }
      switch (parameter.type) {
        case "text": {
          const text = p.string(parameter, parameterPath, "text", "a text parameter");
          p.required(`${parameterPath}.text`, text, "a text parameter");
          break;
        }
        case "image":
        case "video":
        case "document":
          if (!isObject(parameter.media)) {
            p.push(`${parameterPath}.media`, "missing", `a ${parameter.type} parameter needs media`);
          } else {
            checkMedia(p, `${parameterPath}.media`, parameter.type as L.MediaKind, parameter.media);
          }
          break;
        case "currency":
          p.string(parameter, parameterPath, "fallback_value", "a currency's fallback value");
          p.string(parameter, parameterPath, "code", "a currency's code");
          if (!Number.isInteger(parameter.amount_1000)) {
            p.push(`${parameterPath}.amount_1000`, "missing", "amount_1000 must be an integer");
          }
          break;
        case "date_time":
          p.string(parameter, parameterPath, "fallback_value", "a date's fallback value");
          break;
        case "payload":
          p.string(parameter, parameterPath, "payload", "a button's payload");
          break;
      }
    });
  });
}
