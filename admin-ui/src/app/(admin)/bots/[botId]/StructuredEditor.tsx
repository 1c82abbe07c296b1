"use client";
/**
 * The structured bot editor: the definition's basics, triggers and nodes as
 * form controls, and every field the form has no control for as a small JSON
 * box ("more fields"), so any definition can be edited here. Each control's
 * id comes from its JSON path (fields.ts), so validation errors show under
 * the offending control and the error summary can focus it.
 */
import { createContext, useContext, useEffect, useState } from "react";
import { Button } from "@/components/ui/Button";
import { Field, type FieldControlProps } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Select } from "@/components/ui/Select";
import { Textarea } from "@/components/ui/Textarea";
import {
  characterCount,
  isObject,
  type Json,
  type JsonObject,
  LIMITS,
  type MessageContentMode,
  messageMode,
  NODE_TYPES,
  nodeIds,
  setIn,
  TRIGGER_MATCHES,
  withMessageMode,
} from "@/lib/definition";
import { fieldIdFor, formatPath, type PathSegment } from "@/lib/json-path";
import { describeError } from "@/lib/api";
import { MEDIA_KINDS } from "@/lib/message-content";
import type { DefinitionProblem, MediaUpload } from "@/lib/types";
import { addIdFor, extrasIdFor, nodeFields, TEMPLATE_PARAMETER_FIELDS, TOP_FIELDS } from "./fields";

export interface StructuredEditorProps {
  definition: Json;
  onChange: (definition: Json) => void;
  /** Errors by the id of the control they belong to. */
  problems: Map<string, DefinitionProblem[]>;
  /** Warnings, likewise. */
  warnings?: Map<string, DefinitionProblem[]>;
  disabled?: boolean;
  /** Uploads a file for a media node (`POST /media`); without it, media is by URL or WhatsApp id only. */
  uploadMedia?: (file: File) => Promise<MediaUpload>;
}

/** The media upload, for the media controls below. */
const UploadContext = createContext<StructuredEditorProps["uploadMedia"]>(undefined);

/** Warnings by control, for the controls below (set by the editor for each render). */
const WarningsContext = createContext<Map<string, DefinitionProblem[]>>(new Map());

type Update = (segments: PathSegment[], value: Json | undefined) => void;

function messages(problems: Map<string, DefinitionProblem[]>, id: string): string[] | undefined {
  const list = problems.get(id);
  return list && list.length > 0 ? list.map((problem) => `${problem.message} (${problem.code})`) : undefined;
}

const asString = (value: unknown): string => (typeof value === "string" ? value : value == null ? "" : String(value));

export function StructuredEditor(
  { definition, onChange, problems, warnings = new Map(), disabled = false, uploadMedia }: StructuredEditorProps,
) {
  if (!isObject(definition)) {
    return <p>The definition is not a JSON object, so it can only be edited as JSON.</p>;
  }
  const update: Update = (segments, value) => onChange(setIn(definition, segments, value));
  const ids = nodeIds(definition);
  const triggers = Array.isArray(definition.triggers) ? definition.triggers : [];
  const nodes = Array.isArray(definition.nodes) ? definition.nodes : [];

  return (
    <WarningsContext.Provider value={warnings}>
    <UploadContext.Provider value={uploadMedia}>
    <div className="ns-structured">
      <fieldset className="ns-fieldset" disabled={disabled}>
        <legend>Basics</legend>
        <div className="ns-form-grid">
          <TextControl label="Bot name" path={["name"]} value={definition.name} update={update} problems={problems} />
          <NodeSelect
            label="Start node"
            hint="Where a new conversation starts when no trigger matches."
            path={["start"]}
            value={definition.start}
            ids={ids}
            emptyLabel="(no start node)"
            update={update}
            problems={problems}
          />
          <NumberControl
            label="Conversation timeout (minutes)"
            hint="0 never times out; default 60."
            path={["conversation_timeout_minutes"]}
            value={definition.conversation_timeout_minutes}
            update={update}
            problems={problems}
          />
        </div>
        <TextControl
          label="Fallback reply"
          hint="Sent when nothing matches; leave empty for no reply."
          path={["fallback"]}
          value={definition.fallback}
          update={update}
          problems={problems}
          multiline
        />
        <ExtrasControl
          label="More settings (JSON): commands, opt_out, business_hours"
          objectPath={[]}
          object={definition}
          handled={TOP_FIELDS as readonly string[]}
          update={(value) => onChange(value)}
          problems={problems}
        />
      </fieldset>

      <fieldset className="ns-fieldset" disabled={disabled}>
        <legend>Triggers</legend>
        {triggers.length === 0 ? <p className="ns-muted">No triggers: conversations start at the start node.</p> : null}
        {triggers.map((trigger, index) => {
          const item = isObject(trigger) ? trigger : {};
          return (
            <div className="ns-row-card" key={index}>
              <div className="ns-form-grid">
                <SelectControl
                  label={`Trigger ${index + 1}: match`}
                  path={["triggers", index, "match"]}
                  value={item.match}
                  options={TRIGGER_MATCHES}
                  update={update}
                  problems={problems}
                />
                <TextControl
                  label="Value"
                  path={["triggers", index, "value"]}
                  value={item.value}
                  update={update}
                  problems={problems}
                />
                <NodeSelect
                  label="Starts at"
                  path={["triggers", index, "start"]}
                  value={item.start}
                  ids={ids}
                  emptyLabel="(choose a node)"
                  update={update}
                  problems={problems}
                />
                <NumberControl
                  label="Priority"
                  path={["triggers", index, "priority"]}
                  value={item.priority}
                  update={update}
                  problems={problems}
                />
              </div>
              <Button variant="ghost" size="sm" icon="trash" onClick={() => update(["triggers", index], undefined)}>
                Remove trigger {index + 1}
              </Button>
            </div>
          );
        })}
        <Button
          id="def-add-trigger"
          variant="secondary"
          size="sm"
          icon="plus"
          onClick={() =>
            update(["triggers"], [...triggers, { match: "keyword", value: "", start: ids[0] ?? "" }])}
        >
          Add trigger
        </Button>
        <ProblemList problems={problems} id="def-add-trigger" />
      </fieldset>

      <fieldset className="ns-fieldset" disabled={disabled}>
        <legend>Nodes</legend>
        {nodes.map((node, index) => (
          <NodeEditor
            key={index}
            index={index}
            node={isObject(node) ? node : {}}
            ids={ids}
            update={update}
            problems={problems}
            onReplace={(value) => update(["nodes", index], value)}
          />
        ))}
        <Button
          id="def-add-node"
          variant="secondary"
          size="sm"
          icon="plus"
          onClick={() => {
            let number = nodes.length + 1;
            while (ids.includes(`node_${number}`)) number++;
            update(["nodes"], [...nodes, { id: `node_${number}`, type: "message", text: "" }]);
          }}
        >
          Add node
        </Button>
        <ProblemList problems={problems} id="def-add-node" />
      </fieldset>
    </div>
    </UploadContext.Provider>
    </WarningsContext.Provider>
  );
}

function ProblemList({ problems, id }: { problems: Map<string, DefinitionProblem[]>; id: string }) {
  const list = messages(problems, id);
  if (!list) return null;
  return (
    <ul className="ns-field__error ns-list-reset">
      {list.map((message) => <li key={message}>{message}</li>)}
    </ul>
  );
}

function NodeEditor({
  index,
  node,
  ids,
  update,
  problems,
  onReplace,
}: {
  index: number;
  node: JsonObject;
  ids: string[];
  update: Update;
  problems: Map<string, DefinitionProblem[]>;
  onReplace: (value: Json | undefined) => void;
}) {
  const base: PathSegment[] = ["nodes", index];
  const own = nodeFields(node);
  const type = asString(node.type);
  const options = Array.isArray(node.options) ? node.options : [];
  const nodeProblems = [...problems.entries()].filter(([id]) => id.startsWith(fieldIdFor(formatPath(base)))).length;
  return (
    <details className="ns-row-card ns-node" open>
      <summary>
        <span className="ns-node__title">
          Node {index + 1}: <code>{asString(node.id) || "(no id)"}</code> · {type || "no type"}
        </span>
        {nodeProblems > 0 ? <span className="ns-badge ns-badge--danger">needs attention</span> : null}
      </summary>
      <div className="ns-form-grid">
        <TextControl label="Id" path={[...base, "id"]} value={node.id} update={update} problems={problems} />
        <SelectControl
          label="Type"
          path={[...base, "type"]}
          value={node.type}
          options={NODE_TYPES}
          update={update}
          problems={problems}
        />
        {own.includes("next")
          ? (
            <NodeSelect
              label="Then go to"
              path={[...base, "next"]}
              value={node.next}
              ids={ids}
              emptyLabel="(end of flow)"
              update={update}
              problems={problems}
            />
          )
          : null}
        {own.includes("variable")
          ? <TextControl label="Store the answer in variable" path={[...base, "variable"]} value={node.variable} update={update} problems={problems} />
          : null}
        {own.includes("reason")
          ? <TextControl label="Handoff reason" path={[...base, "reason"]} value={node.reason} update={update} problems={problems} />
          : null}
      </div>
      {type === "message"
        ? (
          <Field label="Message content" id={`${fieldIdFor(formatPath(base))}--content`} hint="What the node sends: text, a media file, text with reply buttons, or a list.">
            {(control) => (
              <Select
                {...control}
                value={messageMode(node)}
                onChange={(event) => onReplace(withMessageMode(node, event.target.value as MessageContentMode))}
              >
                <option value="text">Text</option>
                <option value="media">Media (picture, video, audio, document, sticker)</option>
                <option value="buttons">Text with reply buttons</option>
                <option value="list">Text with a list</option>
              </Select>
            )}
          </Field>
        )
        : null}
      {type === "template"
        ? (
          <div className="ns-form-grid">
            <TextControl label="Template name" hint="As approved in WhatsApp Manager." path={[...base, "name"]} value={node.name} update={update} problems={problems} />
            <TextControl label="Language" hint="Such as en_US." path={[...base, "language"]} value={node.language} update={update} problems={problems} />
          </div>
        )
        : null}
      {own.includes("parameters") ? <TemplateParameters base={base} node={node} update={update} problems={problems} /> : null}
      {own.includes("text")
        ? (
          <TextControl
            label="Text"
            hint="A template: {{contact.name|there}}, {{vars.name}}…"
            path={[...base, "text"]}
            value={node.text}
            update={update}
            problems={problems}
            multiline
          />
        )
        : null}
      {own.includes("media") ? <MediaEditor base={base} media={isObject(node.media) ? node.media : {}} update={update} problems={problems} /> : null}
      {own.includes("buttons") ? <ButtonsEditor base={base} node={node} update={update} problems={problems} /> : null}
      {own.includes("list") ? <ListEditor base={base} node={node} update={update} problems={problems} /> : null}
      {own.includes("options")
        ? (
          <div className="ns-options">
            <h3>Options</h3>
            {options.map((option, optionIndex) => {
              const item = isObject(option) ? option : {};
              const optionPath: PathSegment[] = [...base, "options", optionIndex];
              return (
                <div className="ns-form-grid ns-option" key={optionIndex}>
                  <TextControl label={`Option ${optionIndex + 1}: key`} path={[...optionPath, "key"]} value={item.key} update={update} problems={problems} />
                  <TextControl label="Title" path={[...optionPath, "title"]} value={item.title} update={update} problems={problems} />
                  <ListControl label="Keywords (comma-separated)" path={[...optionPath, "keywords"]} value={item.keywords} update={update} problems={problems} />
                  <NodeSelect
                    label="Goes to"
                    path={[...optionPath, "next"]}
                    value={item.next}
                    ids={ids}
                    emptyLabel="(end of flow)"
                    update={update}
                    problems={problems}
                  />
                  <Button variant="ghost" size="sm" icon="trash" onClick={() => update(optionPath, undefined)}>
                    Remove option {optionIndex + 1}
                  </Button>
                </div>
              );
            })}
            <Button
              id={`${fieldIdFor(formatPath([...base, "options"]))}--add`}
              variant="secondary"
              size="sm"
              icon="plus"
              onClick={() => update([...base, "options"], [...options, { key: String(options.length + 1), next: "" }])}
            >
              Add option
            </Button>
            <ProblemList problems={problems} id={`${fieldIdFor(formatPath([...base, "options"]))}--add`} />
          </div>
        )
        : null}
      <ExtrasControl
        label="More fields (JSON)"
        objectPath={base}
        object={node}
        handled={own}
        update={(value) => onReplace(value)}
        problems={problems}
      />
      <Button variant="ghost" size="sm" icon="trash" onClick={() => onReplace(undefined)}>
        Remove node {asString(node.id) || index + 1}
      </Button>
    </details>
  );
}

interface ControlProps {
  label: string;
  hint?: string;
  path: PathSegment[];
  value: unknown;
  update: Update;
  problems: Map<string, DefinitionProblem[]>;
}

function controlId(path: PathSegment[]): string {
  return fieldIdFor(formatPath(path));
}

function TextControl(
  { label, hint, path, value, update, problems, multiline = false, maxLength }: ControlProps & { multiline?: boolean; maxLength?: number },
) {
  const id = controlId(path);
  const warning = messages(useContext(WarningsContext), id);
  const count = characterCount(value);
  const counter = maxLength === undefined ? null : (
    <span className={count > maxLength ? "ns-char-count ns-char-count--over" : "ns-char-count"} data-testid="char-count">
      {count}/{maxLength} characters{count > maxLength ? `: ${count - maxLength} too many` : ""}
    </span>
  );
  return (
    <Field label={label} hint={counter ? <>{hint ? <>{hint} </> : null}{counter}</> : hint} id={id} error={messages(problems, id)} warning={warning}>
      {(control: FieldControlProps) =>
        multiline
          ? (
            <Textarea
              {...control}
              rows={2}
              value={asString(value)}
              onChange={(event) => update(path, event.target.value === "" && value === undefined ? undefined : event.target.value)}
            />
          )
          : (
            <Input
              {...control}
              value={asString(value)}
              onChange={(event) => update(path, event.target.value)}
            />
          )}
    </Field>
  );
}

function NumberControl({ label, hint, path, value, update, problems }: ControlProps) {
  const id = controlId(path);
  const warning = messages(useContext(WarningsContext), id);
  return (
    <Field label={label} hint={hint} id={id} error={messages(problems, id)} warning={warning}>
      {(control) => (
        <Input
          {...control}
          type="number"
          inputMode="numeric"
          value={typeof value === "number" ? String(value) : asString(value)}
          onChange={(event) => update(path, event.target.value === "" ? undefined : Number(event.target.value))}
        />
      )}
    </Field>
  );
}

function ListControl({ label, hint, path, value, update, problems }: ControlProps) {
  const id = controlId(path);
  const warning = messages(useContext(WarningsContext), id);
  const text = Array.isArray(value) ? value.join(", ") : asString(value);
  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);
  return (
    <Field label={label} hint={hint} id={id} error={messages(problems, id)} warning={warning}>
      {(control) => (
        <Input
          {...control}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onBlur={() => {
            const list = draft.split(",").map((item) => item.trim()).filter((item) => item !== "");
            update(path, list.length === 0 ? undefined : list);
          }}
        />
      )}
    </Field>
  );
}

function SelectControl(
  { label, hint, path, value, options, update, problems, optionLabels = {}, onValue }: ControlProps & {
    options: readonly string[];
    optionLabels?: Record<string, string>;
    onValue?: (value: string) => void;
  },
) {
  const id = controlId(path);
  const warning = messages(useContext(WarningsContext), id);
  const current = asString(value);
  return (
    <Field label={label} hint={hint} id={id} error={messages(problems, id)} warning={warning}>
      {(control) => (
        <Select {...control} value={current} onChange={(event) => (onValue ? onValue(event.target.value) : update(path, event.target.value))}>
          {!options.includes(current) ? <option value={current}>{current === "" ? "(choose)" : `${current} (unknown)`}</option> : null}
          {options.map((option) => <option key={option} value={option}>{optionLabels[option] ?? option}</option>)}
        </Select>
      )}
    </Field>
  );
}

function NodeSelect({ label, hint, path, value, ids, emptyLabel, update, problems }: ControlProps & { ids: string[]; emptyLabel: string }) {
  const id = controlId(path);
  const warning = messages(useContext(WarningsContext), id);
  const current = asString(value);
  return (
    <Field label={label} hint={hint} id={id} error={messages(problems, id)} warning={warning}>
      {(control) => (
        <Select {...control} value={current} onChange={(event) => update(path, event.target.value === "" ? undefined : event.target.value)}>
          <option value="">{emptyLabel}</option>
          {current !== "" && !ids.includes(current) ? <option value={current}>{current} (no such node)</option> : null}
          {ids.map((nodeId) => <option key={nodeId} value={nodeId}>{nodeId}</option>)}
        </Select>
      )}
    </Field>
  );
}

/**
 * The fields of an object that the form has no control for, as JSON. Edits
 * apply when the JSON is valid; the object's own controls keep their values.
 */
function ExtrasControl({
  label,
  objectPath,
  object,
  handled,
  update,
  problems,
}: {
  label: string;
  objectPath: PathSegment[];
  object: JsonObject;
  handled: readonly string[];
  update: (value: JsonObject) => void;
  problems: Map<string, DefinitionProblem[]>;
}) {
  const id = extrasIdFor(formatPath(objectPath));
  const warned = messages(useContext(WarningsContext), id);
  const extras: JsonObject = {};
  for (const [key, value] of Object.entries(object)) if (!handled.includes(key)) extras[key] = value;
  const text = Object.keys(extras).length === 0 ? "" : JSON.stringify(extras, null, 2);
  const [draft, setDraft] = useState(text);
  const [syntax, setSyntax] = useState<string | null>(null);
  useEffect(() => {
    setDraft(text);
    setSyntax(null);
  }, [text]);
  const errors = [...(syntax ? [syntax] : []), ...(messages(problems, id) ?? [])];
  const open = draft.trim() !== "" || errors.length > 0 || warned !== undefined;
  return (
    <details className="ns-extras" open={open}>
      <summary>{label}{text === "" ? " (none)" : ""}</summary>
    <Field
      label={label}
      hint="A JSON object; leave empty for none."
      id={id}
      error={errors.length > 0 ? errors : undefined}
      warning={warned}
    >
      {(control) => (
        <Textarea
          {...control}
          code
          rows={Math.min(12, Math.max(2, draft.split("\n").length))}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onBlur={() => {
            let parsed: unknown = {};
            if (draft.trim() !== "") {
              try {
                parsed = JSON.parse(draft);
              } catch (error) {
                setSyntax(`Not valid JSON: ${(error as Error).message}`);
                return;
              }
            }
            if (!isObject(parsed)) {
              setSyntax("Must be a JSON object, such as {\"list\": {…}}");
              return;
            }
            setSyntax(null);
            const next: JsonObject = {};
            for (const [key, value] of Object.entries(object)) if (handled.includes(key)) next[key] = value;
            update({ ...next, ...parsed });
          }}
        />
      )}
    </Field>
    </details>
  );
}

/** A node's media: its kind, where it comes from (a URL, a WhatsApp id, or a file uploaded here), MIME type, caption and file name. */
function MediaEditor({ base, media, update, problems }: { base: PathSegment[]; media: JsonObject; update: Update; problems: Map<string, DefinitionProblem[]> }) {
  const path: PathSegment[] = [...base, "media"];
  const upload = useContext(UploadContext);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const stored = typeof media.storage_key === "string" ? media.storage_key : null;
  const fileId = `${controlId([...path, "storage_key"])}--file`;
  // Optional fields leave the JSON when emptied, so "" never stands for "absent".
  const optional: Update = (segments, value) => update(segments, value === "" ? undefined : value);
  return (
    <div className="ns-options">
      <h3>Media</h3>
      <div className="ns-form-grid">
        <SelectControl
          label="Kind"
          hint="Leave it to the MIME type, or choose (a voice note or a sticker needs it)."
          path={[...path, "kind"]}
          value={media.kind ?? ""}
          options={["", ...MEDIA_KINDS]}
          optionLabels={{ "": "(from the MIME type)" }}
          onValue={(value) => update([...path, "kind"], value === "" ? undefined : value)}
          update={update}
          problems={problems}
        />
        <TextControl label="MIME type" hint="Such as image/jpeg or application/pdf." path={[...path, "mime_type"]} value={media.mime_type} update={update} problems={problems} />
        <TextControl label="File name" hint="Shown for documents." path={[...path, "filename"]} value={media.filename} update={optional} problems={problems} />
      </div>
      <div className="ns-form-grid">
        <TextControl label="URL" hint="A public https URL WhatsApp downloads; or use a WhatsApp media id or an uploaded file." path={[...path, "url"]} value={media.url} update={optional} problems={problems} />
        <TextControl label="WhatsApp media id" path={[...path, "media_id"]} value={media.media_id} update={optional} problems={problems} />
      </div>
      {stored
        ? (
          <p className="ns-composer__file" id={controlId([...path, "storage_key"])} tabIndex={-1}>
            Uploaded file: <code>{stored}</code>
            <Button variant="ghost" size="sm" icon="x" onClick={() => update([...path, "storage_key"], undefined)}>Remove the uploaded file</Button>
          </p>
        )
        : null}
      {!stored ? <ProblemList problems={problems} id={controlId([...path, "storage_key"])} /> : null}
      {upload
        ? (
          <Field label="Or upload a file" id={fileId} error={uploadError ?? undefined} hint={uploading ? "Uploading…" : "Stored in the private media bucket; the node then sends it."}>
            {(control) => (
              <input
                {...control}
                type="file"
                className="ns-input ns-file-input"
                disabled={uploading}
                onChange={async (event) => {
                  const file = event.target.files?.[0];
                  if (!file) return;
                  setUploading(true);
                  setUploadError(null);
                  try {
                    const uploaded = await upload(file);
                    const next: JsonObject = { ...media, storage_key: uploaded.storage_key, mime_type: uploaded.mime_type };
                    delete next.url;
                    delete next.media_id;
                    next.filename = uploaded.filename ?? file.name;
                    update(path, next);
                  } catch (error) {
                    setUploadError(describeError(error));
                  } finally {
                    setUploading(false);
                    event.target.value = "";
                  }
                }}
              />
            )}
          </Field>
        )
        : null}
      <TextControl label="Caption" hint="A template, like the text." path={[...path, "caption"]} value={media.caption} update={optional} problems={problems} multiline maxLength={LIMITS.caption} />
    </div>
  );
}

/** Up to three reply buttons, each an id and a title of at most 20 characters. */
function ButtonsEditor({ base, node, update, problems }: { base: PathSegment[]; node: JsonObject; update: Update; problems: Map<string, DefinitionProblem[]> }) {
  const path: PathSegment[] = [...base, "buttons"];
  const buttons = Array.isArray(node.buttons) ? node.buttons : [];
  const addId = addIdFor(formatPath(path));
  return (
    <div className="ns-options">
      <h3>Reply buttons ({buttons.length}/{LIMITS.buttons})</h3>
      {buttons.map((button, index) => {
        const item = isObject(button) ? button : {};
        const buttonPath: PathSegment[] = [...path, index];
        return (
          <div className="ns-form-grid ns-option" key={index}>
            <TextControl label={`Button ${index + 1}: title`} path={[...buttonPath, "title"]} value={item.title} update={update} problems={problems} maxLength={LIMITS.buttonTitle} />
            <TextControl label="Id (sent back on a tap)" path={[...buttonPath, "id"]} value={item.id} update={update} problems={problems} />
            <Button variant="ghost" size="sm" icon="trash" onClick={() => update(buttonPath, undefined)}>Remove button {index + 1}</Button>
          </div>
        );
      })}
      <Button
        id={addId}
        variant="secondary"
        size="sm"
        icon="plus"
        disabled={buttons.length >= LIMITS.buttons}
        onClick={() => update(path, [...buttons, { id: `button_${buttons.length + 1}`, title: "" }])}
      >
        Add button
      </Button>
      {buttons.length >= LIMITS.buttons ? <span className="ns-field__hint"> WhatsApp allows at most {LIMITS.buttons} buttons.</span> : null}
      <ProblemList problems={problems} id={addId} />
    </div>
  );
}

/** A list: the label of the button that opens it, and sections of rows (at most 10 rows in all). */
function ListEditor({ base, node, update, problems }: { base: PathSegment[]; node: JsonObject; update: Update; problems: Map<string, DefinitionProblem[]> }) {
  const path: PathSegment[] = [...base, "list"];
  const list = isObject(node.list) ? node.list : {};
  const sections = Array.isArray(list.sections) ? list.sections : [];
  const totalRows = sections.reduce<number>((sum, section) => sum + (isObject(section) && Array.isArray(section.rows) ? section.rows.length : 0), 0);
  const sectionsAddId = addIdFor(formatPath([...path, "sections"]));
  return (
    <div className="ns-options">
      <h3>List ({totalRows}/{LIMITS.rows} rows)</h3>
      <TextControl label="List button label" path={[...path, "button"]} value={list.button} update={update} problems={problems} maxLength={LIMITS.listButton} />
      {sections.map((section, sectionIndex) => {
        const item = isObject(section) ? section : {};
        const sectionPath: PathSegment[] = [...path, "sections", sectionIndex];
        const rows = Array.isArray(item.rows) ? item.rows : [];
        const rowsAddId = addIdFor(formatPath([...sectionPath, "rows"]));
        return (
          <fieldset className="ns-row-card" key={sectionIndex}>
            <legend>Section {sectionIndex + 1}</legend>
            <TextControl
              label={`Section ${sectionIndex + 1}: title`}
              hint="Needed when there are several sections."
              path={[...sectionPath, "title"]}
              value={item.title}
              update={update}
              problems={problems}
              maxLength={LIMITS.sectionTitle}
            />
            {rows.map((row, rowIndex) => {
              const rowItem = isObject(row) ? row : {};
              const rowPath: PathSegment[] = [...sectionPath, "rows", rowIndex];
              return (
                <div className="ns-form-grid ns-option" key={rowIndex}>
                  <TextControl label={`Row ${rowIndex + 1}: title`} path={[...rowPath, "title"]} value={rowItem.title} update={update} problems={problems} maxLength={LIMITS.rowTitle} />
                  <TextControl label="Id (sent back on a pick)" path={[...rowPath, "id"]} value={rowItem.id} update={update} problems={problems} />
                  <TextControl
                    label="Description"
                    path={[...rowPath, "description"]}
                    value={rowItem.description}
                    update={(segments, value) => update(segments, value === "" ? undefined : value)}
                    problems={problems}
                    maxLength={LIMITS.rowDescription}
                  />
                  <Button variant="ghost" size="sm" icon="trash" onClick={() => update(rowPath, undefined)}>
                    Remove row {rowIndex + 1} of section {sectionIndex + 1}
                  </Button>
                </div>
              );
            })}
            <Button
              id={rowsAddId}
              variant="secondary"
              size="sm"
              icon="plus"
              disabled={totalRows >= LIMITS.rows}
              onClick={() => update([...sectionPath, "rows"], [...rows, { id: `row_${totalRows + 1}`, title: "" }])}
            >
              Add row to section {sectionIndex + 1}
            </Button>
            <ProblemList problems={problems} id={rowsAddId} />
            <Button variant="ghost" size="sm" icon="trash" onClick={() => update(sectionPath, undefined)}>Remove section {sectionIndex + 1}</Button>
          </fieldset>
        );
      })}
      <Button
        id={sectionsAddId}
        variant="secondary"
        size="sm"
        icon="plus"
        disabled={totalRows >= LIMITS.rows}
        onClick={() => update([...path, "sections"], [...sections, { title: "", rows: [{ id: `row_${totalRows + 1}`, title: "" }] }])}
      >
        Add section
      </Button>
      {totalRows >= LIMITS.rows ? <span className="ns-field__hint"> WhatsApp allows at most {LIMITS.rows} rows in a list.</span> : null}
      <ProblemList problems={problems} id={sectionsAddId} />
    </div>
  );
}

/**
 * A template node's parameters: the values of the body's and the header's
 * placeholders in order ({{1}}, {{2}}, …; each a text template), the
 * payloads of its quick-reply buttons, and anything else (`header_media`)
 * as JSON.
 */
function TemplateParameters({ base, node, update, problems }: { base: PathSegment[]; node: JsonObject; update: Update; problems: Map<string, DefinitionProblem[]> }) {
  const path: PathSegment[] = [...base, "parameters"];
  const parameters = isObject(node.parameters) ? node.parameters : {};
  return (
    <div className="ns-options">
      <h3>Template parameters</h3>
      <StringList
        title="Body parameters"
        empty={"None: the template's body has no {{1}} placeholders."}
        itemLabel={(index) => `Body parameter {{${index + 1}}}`}
        hint="A text template, such as {{vars.order_id}}."
        addLabel="Add body parameter"
        path={[...path, "body"]}
        values={parameters.body}
        update={update}
        problems={problems}
      />
      <StringList
        title="Header parameters"
        empty="None (a text header without placeholders, or none)."
        itemLabel={(index) => `Header parameter {{${index + 1}}}`}
        addLabel="Add header parameter"
        path={[...path, "header"]}
        values={parameters.header}
        update={update}
        problems={problems}
      />
      <StringList
        title="Quick-reply payloads"
        empty="None."
        itemLabel={(index) => `Quick reply ${index + 1}: payload`}
        hint="Comes back as a button reply with this id."
        addLabel="Add quick-reply payload"
        path={[...path, "quick_replies"]}
        values={parameters.quick_replies}
        update={update}
        problems={problems}
      />
      <ExtrasControl
        label="More parameters (JSON): header_media"
        objectPath={path}
        object={parameters}
        handled={TEMPLATE_PARAMETER_FIELDS}
        update={(value) => update(path, value)}
        problems={problems}
      />
    </div>
  );
}

/** An ordered list of strings, one input each; emptied, the list leaves the JSON. */
function StringList({
  title,
  empty,
  itemLabel,
  hint,
  addLabel,
  path,
  values,
  update,
  problems,
}: {
  title: string;
  empty: string;
  itemLabel: (index: number) => string;
  hint?: string;
  addLabel: string;
  path: PathSegment[];
  values: unknown;
  update: Update;
  problems: Map<string, DefinitionProblem[]>;
}) {
  const list = Array.isArray(values) ? values : [];
  const addId = addIdFor(formatPath(path));
  return (
    <div className="ns-string-list">
      <h4>{title}</h4>
      {list.length === 0 ? <p className="ns-muted">{empty}</p> : null}
      {list.map((value, index) => (
        <div className="ns-form-grid ns-option" key={index}>
          <TextControl label={itemLabel(index)} hint={hint} path={[...path, index]} value={value} update={update} problems={problems} />
          <Button
            variant="ghost"
            size="sm"
            icon="trash"
            onClick={() => {
              const rest = list.filter((_item, other) => other !== index);
              update(path, rest.length === 0 && values === undefined ? undefined : rest);
            }}
          >
            Remove {itemLabel(index).toLowerCase()}
          </Button>
        </div>
      ))}
      <Button id={addId} variant="secondary" size="sm" icon="plus" onClick={() => update(path, [...list, ""])}>{addLabel}</Button>
      <ProblemList problems={problems} id={addId} />
    </div>
  );
}
