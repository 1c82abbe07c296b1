/**
 * Which paths of a bot definition the structured editor shows, and the id of
 * the control that edits each, so a validation error's JSON path leads to a
 * control: its own, or the nearest one above it (a node's "more fields"
 * JSON, the node's id, the top-level start).
 */
import { isObject, TYPES_WITH_NEXT, TYPES_WITH_TEXT } from "@/lib/definition";
import { fieldIdFor, formatPath, nearestKnownPath, type PathSegment } from "@/lib/json-path";

/** Top-level fields with a control of their own. */
export const TOP_FIELDS = ["format", "name", "start", "fallback", "conversation_timeout_minutes", "triggers", "nodes"] as const;
/** Trigger fields with a control of their own. */
export const TRIGGER_FIELDS = ["match", "value", "start", "priority"] as const;
/** Menu option fields with a control of their own. */
export const OPTION_FIELDS = ["key", "title", "keywords", "next"] as const;

/** The fields of a node that get their own control, by the node's type. */
export function nodeFields(node: Record<string, unknown>): string[] {
  const type = typeof node.type === "string" ? node.type : "";
  const fields = ["id", "type"];
  // A media message has no text (its caption is the text), unless one was written.
  const mediaOnly = type === "message" && "media" in node && !("text" in node);
  if ((TYPES_WITH_TEXT.has(type) && !mediaOnly) || "text" in node) fields.push("text");
  if (TYPES_WITH_NEXT.has(type) || "next" in node) fields.push("next");
  if (type === "menu") fields.push("options");
  if (type === "input") fields.push("variable");
  if (type === "handoff") fields.push("reason");
  if (type === "message") {
    for (const field of ["media", "buttons", "list"]) if (field in node) fields.push(field);
  }
  if (type === "template") fields.push("name", "language", "parameters");
  return fields;
}

/** Media fields with a control of their own (`storage_key` is set by an upload). */
export const MEDIA_FIELDS = ["kind", "url", "media_id", "storage_key", "mime_type", "caption", "filename"] as const;

/** Template parameters with controls of their own (the rest, such as `header_media`, as JSON). */
export const TEMPLATE_PARAMETER_FIELDS = ["body", "header", "quick_replies"] as const;

/** The id of a list's "add" button (buttons, sections, rows, parameters). */
export function addIdFor(path: string): string {
  return `${fieldIdFor(path)}--add`;
}

/** The id of the "more fields" JSON control of the object at `path`. */
export function extrasIdFor(path: string): string {
  return `${fieldIdFor(path)}--extras`;
}

/** Every path the structured editor renders, mapped to the id of its control. */
export function structuredControls(definition: unknown): Map<string, string> {
  const controls = new Map<string, string>();
  const add = (segments: PathSegment[], id?: string) => {
    const path = formatPath(segments);
    controls.set(path, id ?? fieldIdFor(path));
  };
  add([], fieldIdFor("$.start"));
  if (!isObject(definition)) return controls;
  for (const field of ["name", "start", "fallback", "conversation_timeout_minutes"]) add([field]);
  add(["format"], fieldIdFor("$.name"));
  for (const key of Object.keys(definition)) {
    if (!(TOP_FIELDS as readonly string[]).includes(key)) add([key], extrasIdFor("$"));
  }
  add(["triggers"], "def-add-trigger");
  if (Array.isArray(definition.triggers)) {
    definition.triggers.forEach((trigger, index) => {
      add(["triggers", index], fieldIdFor(formatPath(["triggers", index, "match"])));
      for (const field of TRIGGER_FIELDS) add(["triggers", index, field]);
    });
  }
  add(["nodes"], "def-add-node");
  if (Array.isArray(definition.nodes)) {
    definition.nodes.forEach((node, index) => {
      const nodePath: PathSegment[] = ["nodes", index];
      add(nodePath, fieldIdFor(formatPath([...nodePath, "id"])));
      if (!isObject(node)) return;
      const own = nodeFields(node);
      for (const field of own) add([...nodePath, field]);
      for (const key of Object.keys(node)) {
        if (!own.includes(key)) add([...nodePath, key], extrasIdFor(formatPath(nodePath)));
      }
      if (own.includes("media")) {
        add([...nodePath, "media"], fieldIdFor(formatPath([...nodePath, "media", "mime_type"])));
        for (const field of MEDIA_FIELDS) add([...nodePath, "media", field]);
      }
      if (own.includes("buttons")) {
        add([...nodePath, "buttons"], addIdFor(formatPath([...nodePath, "buttons"])));
        if (Array.isArray(node.buttons)) {
          node.buttons.forEach((_button, buttonIndex) => {
            const buttonPath: PathSegment[] = [...nodePath, "buttons", buttonIndex];
            add(buttonPath, fieldIdFor(formatPath([...buttonPath, "title"])));
            add([...buttonPath, "id"]);
            add([...buttonPath, "title"]);
          });
        }
      }
      if (own.includes("list")) {
        const listPath: PathSegment[] = [...nodePath, "list"];
        add(listPath, fieldIdFor(formatPath([...listPath, "button"])));
        add([...listPath, "button"]);
        add([...listPath, "sections"], addIdFor(formatPath([...listPath, "sections"])));
        const sections = isObject(node.list) && Array.isArray(node.list.sections) ? node.list.sections : [];
        sections.forEach((section, sectionIndex) => {
          const sectionPath: PathSegment[] = [...listPath, "sections", sectionIndex];
          add(sectionPath, fieldIdFor(formatPath([...sectionPath, "title"])));
          add([...sectionPath, "title"]);
          add([...sectionPath, "rows"], addIdFor(formatPath([...sectionPath, "rows"])));
          const rows = isObject(section) && Array.isArray(section.rows) ? section.rows : [];
          rows.forEach((_row, rowIndex) => {
            const rowPath: PathSegment[] = [...sectionPath, "rows", rowIndex];
            add(rowPath, fieldIdFor(formatPath([...rowPath, "title"])));
            for (const field of ["id", "title", "description"]) add([...rowPath, field]);
          });
        });
      }
      if (own.includes("parameters")) {
        const parametersPath: PathSegment[] = [...nodePath, "parameters"];
        const parameters = isObject(node.parameters) ? node.parameters : {};
        add(parametersPath, addIdFor(formatPath([...parametersPath, "body"])));
        for (const field of TEMPLATE_PARAMETER_FIELDS) {
          add([...parametersPath, field], addIdFor(formatPath([...parametersPath, field])));
          const values = Array.isArray(parameters[field]) ? parameters[field] : [];
          values.forEach((_value, valueIndex) => add([...parametersPath, field, valueIndex]));
        }
        for (const key of Object.keys(parameters)) {
          if (!(TEMPLATE_PARAMETER_FIELDS as readonly string[]).includes(key)) {
            add([...parametersPath, key], extrasIdFor(formatPath(parametersPath)));
          }
        }
      }
      if (own.includes("options") && Array.isArray(node.options)) {
        add([...nodePath, "options"], `${fieldIdFor(formatPath([...nodePath, "options"]))}--add`);
        node.options.forEach((_option, optionIndex) => {
          const optionPath: PathSegment[] = [...nodePath, "options", optionIndex];
          add(optionPath, fieldIdFor(formatPath([...optionPath, "key"])));
          for (const field of OPTION_FIELDS) add([...optionPath, field]);
        });
      }
    });
  }
  return controls;
}

/** The control a problem at `path` belongs to. */
export function controlForPath(path: string, controls: Map<string, string>): string {
  const known = nearestKnownPath(path, new Set(controls.keys()));
  return controls.get(known) ?? fieldIdFor("$.start");
}
