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
  if (TYPES_WITH_TEXT.has(type) || "text" in node) fields.push("text");
  if (TYPES_WITH_NEXT.has(type) || "next" in node) fields.push("next");
  if (type === "menu") fields.push("options");
  if (type === "input") fields.push("variable");
  if (type === "handoff") fields.push("reason");
  return fields;
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
