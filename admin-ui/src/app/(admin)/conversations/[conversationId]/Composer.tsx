"use client";
/**
 * The agent's composer: a text reply, a picture or a document (uploaded to
 * `POST /media`, then sent as `{content: {kind, storage_key, …}}`), a
 * location (coordinates, name, address), a quote
 * of an earlier message (`reply_to`), and, when WhatsApp's 24-hour window
 * is closed, a template picker over the number's approved templates with an
 * input for each body parameter. An error from the API is shown next to the
 * field its `details.field` (a JSON path) names.
 */
import { useRef, useState } from "react";
import { Button } from "@/components/ui/Button";
import { Field } from "@/components/ui/Field";
import { Icon } from "@/components/ui/Icon";
import { Input } from "@/components/ui/Input";
import { Notice } from "@/components/ui/Notice";
import { Select } from "@/components/ui/Select";
import { Textarea } from "@/components/ui/Textarea";
import type { AdminApi } from "@/lib/admin-api";
import { ApiError, describeError, errorField } from "@/lib/api";
import { dateTime } from "@/lib/format";
import {
  approvedTemplates,
  attachmentKind,
  bodyParameterCount,
  type Content,
  contentOf,
  fillBody,
  formatBytes,
  type MessageTemplate,
  parameterIndexOfPath,
  quoteText,
  templateContent,
} from "@/lib/message-content";
import type { Conversation, Message } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export interface ComposerProps {
  api: AdminApi;
  conversation: Conversation;
  /** The message quoted by the next send, if any. */
  replyTo: Message | null;
  onClearReply: () => void;
  /** Called after a message was queued (the page reloads the thread). */
  onSent: (what: string) => Promise<void> | void;
  disabled?: boolean;
}

/** Where an API error belongs in the composer. */
export type ComposerSlot =
  | "text"
  | "attachment"
  | "template"
  | { parameter: number }
  | { location: "latitude" | "longitude" | "name" | "address" }
  | "general";

/** The composer control a failed send's `details.field` points at (`kind`: what was sent, as `name` is a template's or a place's). */
export function slotForError(error: unknown, kind?: string): ComposerSlot {
  const field = errorField(error);
  if (field === null) return "general";
  const parameter = parameterIndexOfPath(field);
  if (parameter !== null) return { parameter };
  const location = /^(\$\.)?content\.(latitude|longitude|name|address)$/.exec(field);
  if (location && (kind === "location" || location[2] === "latitude" || location[2] === "longitude")) {
    return { location: location[2] as "latitude" | "longitude" | "name" | "address" };
  }
  if (/^(\$\.)?(content\.)?(name|language|components)/.test(field) || /template/.test(field)) return "template";
  if (/^(\$\.)?(body|content\.(text|caption))$/.test(field)) return "text";
  if (/^(\$\.)?(file|filename|content-type|content_type|mime_type|size_bytes|content\.(storage_key|mime_type|filename|kind|size_bytes))$/.test(field)) {
    return "attachment";
  }
  return "general";
}

/** Whether the API refused a free-form send because the 24-hour window is closed. */
export function isWindowClosed(error: unknown): boolean {
  return error instanceof ApiError && (error.code === "window_closed" ||
    (error.status === 422 && /window/i.test(error.message) && /closed/i.test(error.message)));
}

export function Composer({ api, conversation, replyTo, onClearReply, onSent, disabled = false }: ComposerProps) {
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ slot: ComposerSlot; message: string } | null>(null);
  const [refusedFreeForm, setRefusedFreeForm] = useState(false);
  const [place, setPlace] = useState({ latitude: "", longitude: "", name: "", address: "" });
  const fileInput = useRef<HTMLInputElement>(null);
  const windowClosed = conversation.window_open === false || refusedFreeForm;

  const errorAt = (slot: ComposerSlot) => {
    if (error === null) return undefined;
    if (typeof slot === "object" && typeof error.slot === "object") {
      return JSON.stringify(slot) === JSON.stringify(error.slot) ? error.message : undefined;
    }
    return slot === error.slot ? error.message : undefined;
  };

  async function send(build: () => Promise<Content | null>, what: string) {
    setBusy(true);
    setError(null);
    let content: Content | null = null;
    try {
      content = await build();
      if (content === null) return;
      if (content.kind === "text" && replyTo === null) {
        // Plain text keeps the route's original `{body}` shape.
        await api.sendAsAgent(conversation.id, content.text);
      } else {
        await api.sendContent(conversation.id, content, replyTo?.id ?? null);
      }
      setText("");
      setFile(null);
      if (content.kind === "location") setPlace({ latitude: "", longitude: "", name: "", address: "" });
      if (fileInput.current) fileInput.current.value = "";
      onClearReply();
      await onSent(what);
    } catch (failure) {
      if (isWindowClosed(failure)) setRefusedFreeForm(true);
      setError({ slot: isWindowClosed(failure) ? "general" : slotForError(failure, content?.kind), message: describeError(failure) });
    } finally {
      setBusy(false);
    }
  }

  const quote = replyTo
    ? (
      <div className="ns-composer__quote">
        <Icon name="reply" size={16} />
        <span>
          Replying to: <q>{quoteText(contentOf(replyTo))}</q>
        </span>
        <Button variant="ghost" size="sm" icon="x" onClick={onClearReply}>Cancel reply</Button>
      </div>
    )
    : null;

  const general = error && error.slot === "general"
    ? <Notice tone="danger" live title="Not sent">{error.message}</Notice>
    : null;

  if (windowClosed) {
    return (
      <div className="ns-composer">
        <Notice tone="warning" title="The 24-hour window is closed">
          WhatsApp allows free-form messages only within 24 hours of the contact's last message
          {conversation.window_closes_at ? ` (it closed ${dateTime(conversation.window_closes_at)})` : ""}. Send an
          approved template to start again.
        </Notice>
        {general}
        {quote}
        <TemplatePicker
          api={api}
          numberId={conversation.number_id}
          busy={busy}
          disabled={disabled}
          errorAt={errorAt}
          onSend={(template, values) => send(async () => templateContent(template, values), `Template ${template.name} queued.`)}
        />
      </div>
    );
  }

  const kind = file ? attachmentKind(file.type) : null;
  return (
    <form
      className="ns-composer"
      onSubmit={(event) => {
        event.preventDefault();
        const body = text.trim();
        if (file) {
          void send(async () => {
            let upload;
            try {
              upload = await api.uploadMedia(file, file.name);
            } catch (failure) {
              // Upload errors name the file, whatever field they give.
              const slot = slotForError(failure);
              setError({ slot: slot === "general" || slot === "text" ? "attachment" : slot, message: describeError(failure) });
              return null;
            }
            return {
              kind: attachmentKind(upload.mime_type),
              storage_key: upload.storage_key,
              mime_type: upload.mime_type,
              filename: upload.filename ?? file.name,
              ...(body === "" ? {} : { caption: body }),
            };
          }, `${kind === "image" ? "Picture" : "Document"} queued: the daemon sends it.`);
        } else if (body !== "") {
          void send(async () => ({ kind: "text", text: body }), "Reply queued: the daemon sends it.");
        }
      }}
    >
      {general}
      {quote}
      <div className="ns-chat__composer">
        <Field label={file ? "Caption (optional)" : "Reply as an agent"} error={errorAt("text")} id="composer-text">
          {(control) => (
            <Textarea
              {...control}
              rows={2}
              value={text}
              disabled={disabled}
              onChange={(event) => setText(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) event.currentTarget.form?.requestSubmit();
              }}
            />
          )}
        </Field>
        <Button type="submit" icon="send" loading={busy} disabled={disabled || (text.trim() === "" && file === null)}>Send</Button>
      </div>
      <Field
        label="Attach a picture or a document"
        hint="JPEG or PNG pictures up to 5 MB; PDF, Office or text documents up to 100 MB."
        error={errorAt("attachment")}
        id="composer-file"
        className="ns-composer__attach"
      >
        {(control) => (
          <input
            {...control}
            ref={fileInput}
            type="file"
            className="ns-input ns-file-input"
            disabled={disabled}
            onChange={(event) => {
              setError(null);
              setFile(event.target.files?.[0] ?? null);
            }}
          />
        )}
      </Field>
      {file
        ? (
          <p className="ns-composer__file">
            <Icon name="paperclip" size={16} /> {kind === "image" ? "Picture" : "Document"}: <strong>{file.name}</strong> ({formatBytes(file.size)})
            <Button
              variant="ghost"
              size="sm"
              icon="x"
              onClick={() => {
                setFile(null);
                if (fileInput.current) fileInput.current.value = "";
              }}
            >
              Remove attachment
            </Button>
          </p>
        )
        : null}
      <details className="ns-composer__location">
        <summary>Share a location</summary>
        <div className="ns-form-grid">
          {(["latitude", "longitude", "name", "address"] as const).map((field) => (
            <Field
              key={field}
              label={field === "latitude" ? "Latitude (−90 to 90)" : field === "longitude" ? "Longitude (−180 to 180)" : field === "name" ? "Place name (optional)" : "Address (optional)"}
              error={errorAt({ location: field })}
              id={`composer-location-${field}`}
            >
              {(control) => (
                <Input
                  {...control}
                  inputMode={field === "latitude" || field === "longitude" ? "decimal" : undefined}
                  value={place[field]}
                  disabled={disabled}
                  onChange={(event) => setPlace({ ...place, [field]: event.target.value })}
                />
              )}
            </Field>
          ))}
        </div>
        <Button
          variant="secondary"
          icon="flag"
          loading={busy}
          disabled={disabled || place.latitude.trim() === "" || place.longitude.trim() === ""}
          onClick={() =>
            void send(async () => {
              const latitude = Number(place.latitude.replace(",", "."));
              const longitude = Number(place.longitude.replace(",", "."));
              if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
                setError({ slot: { location: "latitude" }, message: "A latitude is a number from -90 to 90." });
                return null;
              }
              if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
                setError({ slot: { location: "longitude" }, message: "A longitude is a number from -180 to 180." });
                return null;
              }
              return {
                kind: "location",
                latitude,
                longitude,
                ...(place.name.trim() ? { name: place.name.trim() } : {}),
                ...(place.address.trim() ? { address: place.address.trim() } : {}),
              };
            }, "Location queued: the daemon sends it.")}
        >
          Send location
        </Button>
      </details>
    </form>
  );
}

/** The number's approved templates, one chosen, with an input for each body parameter. */
function TemplatePicker({
  api,
  numberId,
  busy,
  disabled,
  errorAt,
  onSend,
}: {
  api: AdminApi;
  numberId: string;
  busy: boolean;
  disabled: boolean;
  errorAt: (slot: ComposerSlot) => string | undefined;
  onSend: (template: MessageTemplate, values: string[]) => void;
}) {
  const templates = usePoll((signal) => api.templates(numberId, signal), [api, numberId], null);
  const [chosen, setChosen] = useState("");
  const [values, setValues] = useState<string[]>([]);
  if (templates.loading) return <p role="status" className="ns-muted">Loading the number's templates…</p>;
  if (!templates.data) {
    return <Notice tone="danger" title="Could not load the templates">{describeError(templates.error)}</Notice>;
  }
  const approved = approvedTemplates(templates.data);
  if (approved.length === 0) {
    return <Notice tone="info">This number has no approved templates yet. Create one in WhatsApp Manager; it shows here once approved.</Notice>;
  }
  const template = approved.find((item) => `${item.name}:${item.language}` === chosen) ?? null;
  const count = template ? bodyParameterCount(template) : 0;
  const filled = Array.from({ length: count }, (_, index) => values[index] ?? "");
  return (
    <form
      className="ns-template-picker"
      aria-label="Send a template"
      onSubmit={(event) => {
        event.preventDefault();
        if (template) onSend(template, filled);
      }}
    >
      <Field label="Template" error={errorAt("template")} id="composer-template">
        {(control) => (
          <Select
            {...control}
            value={chosen}
            disabled={disabled}
            onChange={(event) => {
              setChosen(event.target.value);
              setValues([]);
            }}
          >
            <option value="">(choose an approved template)</option>
            {approved.map((item) => (
              <option key={`${item.name}:${item.language}`} value={`${item.name}:${item.language}`}>
                {item.name} ({item.language}, {item.category.toLowerCase()})
              </option>
            ))}
          </Select>
        )}
      </Field>
      {template
        ? (
          <>
            {filled.map((value, index) => (
              <Field key={index} label={`Body parameter {{${index + 1}}}`} error={errorAt({ parameter: index })} id={`composer-parameter-${index}`}>
                {(control) => (
                  <Input
                    {...control}
                    value={value}
                    disabled={disabled}
                    onChange={(event) => {
                      const next = [...filled];
                      next[index] = event.target.value;
                      setValues(next);
                    }}
                  />
                )}
              </Field>
            ))}
            <p className="ns-template-preview" aria-label="Template preview">{fillBody(template, filled)}</p>
          </>
        )
        : null}
      <Button type="submit" icon="send" loading={busy} disabled={disabled || template === null}>Send template</Button>
    </form>
  );
}
