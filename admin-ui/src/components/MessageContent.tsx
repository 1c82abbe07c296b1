"use client";
/**
 * One message's content, drawn by kind, for the inbox thread and the bot
 * test chat: text; pictures and stickers inline, audio, voice notes and
 * videos playable, documents downloadable (a stored file is fetched with the
 * member's token and shown through an object URL, never a public link);
 * locations with coordinates and a map link; shared contacts; button taps
 * and list picks; outbound buttons and lists; templates; system notices;
 * and kinds not supported yet, flagged with their original type.
 */
import { useEffect, useState } from "react";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Icon } from "@/components/ui/Icon";
import { describeError } from "@/lib/api";
import {
  type Content,
  formatBytes,
  formatCoordinates,
  isMedia,
  KIND_LABELS,
  mapUrl,
  type MediaContent,
  parameterText,
} from "@/lib/message-content";

/** Downloads a stored media file (`GET /messages/{id}/media`), or null when the message has none to fetch. */
export type MediaLoader = ((signal?: AbortSignal) => Promise<Blob>) | null;

export interface MessageContentViewProps {
  content: Content;
  /** Fetches the stored file of a media message (with the member's token). */
  loadMedia?: MediaLoader;
  /** Called when a drawn button or list row is chosen (the test chat answers with it). */
  onChoose?: (title: string, id: string) => void;
  /** Disables the drawn buttons. */
  disabled?: boolean;
}

/** Draws `content` by its kind. */
export function MessageContentView({ content, loadMedia = null, onChoose, disabled = false }: MessageContentViewProps) {
  if (isMedia(content)) return <MediaView content={content} loadMedia={loadMedia} />;
  switch (content.kind) {
    case "text":
      return <span className="ns-bubble__text">{content.text}</span>;
    case "location":
      return (
        <span className="ns-content ns-content--location">
          <span className="ns-content__label"><Icon name="flag" size={14} /> Location</span>
          {content.name ? <strong>{content.name}</strong> : null}
          {content.address ? <span>{content.address}</span> : null}
          <span className="ns-mono">{formatCoordinates(content.latitude, content.longitude)}</span>
          <a href={mapUrl(content.latitude, content.longitude)} target="_blank" rel="noopener noreferrer">
            Open in OpenStreetMap<span className="ns-visually-hidden"> (opens in a new tab)</span>
          </a>
        </span>
      );
    case "contacts":
      return (
        <span className="ns-content ns-content--contacts">
          <span className="ns-content__label"><Icon name="user" size={14} /> Shared {content.contacts.length === 1 ? "contact" : "contacts"}</span>
          <ul className="ns-list-reset ns-content__contacts">
            {content.contacts.map((contact, index) => (
              <li key={index}>
                <strong>{contact.name.formatted_name}</strong>
                {(contact.phones ?? []).map((phone, phoneIndex) => (
                  <span key={phoneIndex} className="ns-mono">
                    {phone.phone}
                    {phone.type ? ` (${phone.type.toLowerCase()})` : ""}
                  </span>
                ))}
                {(contact.emails ?? []).map((email, emailIndex) => (
                  <span key={`e${emailIndex}`}>{email}</span>
                ))}
              </li>
            ))}
          </ul>
        </span>
      );
    case "reaction":
      return (
        <span className="ns-content">
          <span className="ns-content__label">Reaction</span>
          <span>
            {content.emoji === "" ? "Removed a reaction" : <>Reacted <span className="ns-reaction__emoji">{content.emoji}</span></>} to a
            message not in this thread (<span className="ns-mono">{content.message_id}</span>)
          </span>
        </span>
      );
    case "button_reply":
    case "list_reply":
      return (
        <span className="ns-content ns-content--reply">
          <span className="ns-inline">
            <strong className="ns-bubble__text">{content.title}</strong>
            <Badge tone="info" icon="check">{content.kind === "button_reply" ? "tapped" : "picked from a list"}</Badge>
          </span>
          {content.kind === "list_reply" && content.description ? <span>{content.description}</span> : null}
          <span className="ns-muted">id <span className="ns-mono">{content.id}</span></span>
        </span>
      );
    case "buttons":
      return (
        <span className="ns-content">
          {content.header ? <strong>{content.header}</strong> : null}
          <span className="ns-bubble__text">{content.text}</span>
          {content.footer ? <span className="ns-muted">{content.footer}</span> : null}
          <span className="ns-bubble__choices" role="group" aria-label="Reply buttons">
            {content.buttons.map((button) =>
              onChoose
                ? (
                  <Button key={button.id} variant="secondary" size="sm" disabled={disabled} onClick={() => onChoose(button.title, button.id)}>
                    {button.title}
                  </Button>
                )
                : <span key={button.id} className="ns-choice" title={`id ${button.id}`}>{button.title}</span>
            )}
          </span>
        </span>
      );
    case "list":
      return (
        <span className="ns-content">
          {content.header ? <strong>{content.header}</strong> : null}
          <span className="ns-bubble__text">{content.text}</span>
          {content.footer ? <span className="ns-muted">{content.footer}</span> : null}
          <span className="ns-content__label"><Icon name="list" size={14} /> {content.button}</span>
          {content.sections.map((section, sectionIndex) => (
            <span key={sectionIndex} className="ns-content__section" role="group" aria-label={section.title || content.button}>
              {section.title ? <span className="ns-content__section-title">{section.title}</span> : null}
              <span className="ns-bubble__choices">
                {section.rows.map((row) =>
                  onChoose
                    ? (
                      <Button key={row.id} variant="secondary" size="sm" disabled={disabled} onClick={() => onChoose(row.title, row.id)}>
                        {section.title ? `${section.title}: ` : ""}
                        {row.title}
                      </Button>
                    )
                    : (
                      <span key={row.id} className="ns-choice" title={`id ${row.id}`}>
                        {row.title}
                        {row.description ? <span className="ns-muted"> · {row.description}</span> : null}
                      </span>
                    )
                )}
              </span>
            </span>
          ))}
        </span>
      );
    case "template":
      return (
        <span className="ns-content ns-content--template">
          <span className="ns-inline">
            <Badge tone="accent" icon="spark">Template</Badge>
            <strong className="ns-mono">{content.name}</strong>
            <span className="ns-muted">({content.language})</span>
          </span>
          {(content.components ?? []).length === 0 ? <span className="ns-muted">No parameters.</span> : null}
          {(content.components ?? []).map((component, index) => (
            <span key={index}>
              <span className="ns-content__section-title">
                {component.type}
                {component.sub_type ? ` (${component.sub_type}${component.index != null ? ` ${component.index}` : ""})` : ""}
              </span>
              {": "}
              {(component.parameters ?? []).map((parameter, parameterIndex) => (
                <span key={parameterIndex} className="ns-template-parameter">
                  <span className="ns-visually-hidden">parameter {parameterIndex + 1}: </span>
                  {parameterText(parameter)}
                </span>
              ))}
            </span>
          ))}
        </span>
      );
    case "system":
      return (
        <span className="ns-content">
          <span className="ns-inline"><Badge icon="info">System notice</Badge><span className="ns-mono">{content.system_type}</span></span>
          <span>{content.text}</span>
          {content.new_wa_id ? <span>New number: <span className="ns-mono">{content.new_wa_id}</span></span> : null}
        </span>
      );
    case "unknown":
      return (
        <span className="ns-content">
          <span className="ns-inline">
            <Badge tone="warning" icon="alert">not supported yet</Badge>
            <span>type <span className="ns-mono">{content.original_type}</span></span>
          </span>
          {content.reason ? <span className="ns-muted">{content.reason}</span> : null}
        </span>
      );
  }
}

/** A picture, sticker, video, audio, voice note or document. */
function MediaView({ content, loadMedia }: { content: MediaContent; loadMedia: MediaLoader }) {
  const label = KIND_LABELS[content.kind];
  const name = content.filename || content.caption || label;
  const details = [content.mime_type, formatBytes(content.size_bytes)].filter(Boolean).join(" · ");
  const stored = Boolean(content.storage_key) && loadMedia !== null;
  const caption = content.caption && content.kind !== "document" ? <span className="ns-bubble__text">{content.caption}</span> : null;

  let body: React.ReactNode;
  if (content.storage_error) {
    body = (
      <span className="ns-field__error" role="note">
        <Icon name="alert" size={16} />
        <span>The file was not stored: {content.storage_error}</span>
      </span>
    );
  } else if (content.kind === "document") {
    body = stored
      ? <DocumentDownload load={loadMedia as NonNullable<MediaLoader>} filename={content.filename || "document"} details={details} />
      : <ExternalFile content={content} name={name} details={details} />;
  } else if (stored) {
    body = <StoredMedia content={content} load={loadMedia as NonNullable<MediaLoader>} alt={content.caption || content.filename || label} />;
  } else {
    body = <ExternalFile content={content} name={name} details={details} />;
  }

  return (
    <span className={`ns-content ns-content--media ns-content--${content.kind}`}>
      <span className="ns-content__label">
        <Icon name={content.kind === "document" ? "list" : content.kind === "image" || content.kind === "sticker" ? "eye" : "play"} size={14} />
        {label}
        {content.kind === "sticker" && content.animated ? " (animated)" : ""}
        {details !== "" && content.kind !== "document" ? <span className="ns-muted"> · {details}</span> : null}
      </span>
      {body}
      {content.kind === "document" && content.caption ? <span className="ns-bubble__text">{content.caption}</span> : caption}
    </span>
  );
}

/** A file that is only referenced (a URL or a transport id), not stored here. */
function ExternalFile({ content, name, details }: { content: MediaContent; name: string; details: string }) {
  if (content.url && /^https?:\/\//i.test(content.url)) {
    return (
      <span>
        <a href={content.url} target="_blank" rel="noopener noreferrer">
          {name}
          <span className="ns-visually-hidden"> (opens in a new tab)</span>
        </a>
        {content.kind === "document" && details ? <span className="ns-muted"> · {details}</span> : null}
      </span>
    );
  }
  return (
    <span className="ns-muted">
      {name}
      {content.media_id ? <> (WhatsApp media <span className="ns-mono">{content.media_id}</span>, not stored)</> : " (not stored)"}
    </span>
  );
}

/**
 * Loads a stored file into an object URL (revoked when the message leaves
 * the page), so the member's token, not a public link, authorises it.
 */
export function useObjectUrl(load: ((signal?: AbortSignal) => Promise<Blob>) | null) {
  const [state, setState] = useState<{ url: string | null; error: string | null }>({ url: null, error: null });
  useEffect(() => {
    if (load === null) return;
    const controller = new AbortController();
    let url: string | null = null;
    setState({ url: null, error: null });
    load(controller.signal).then(
      (blob) => {
        if (controller.signal.aborted) return;
        url = URL.createObjectURL(blob);
        setState({ url, error: null });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ url: null, error: describeError(error) });
      },
    );
    return () => {
      controller.abort();
      if (url !== null) URL.revokeObjectURL(url);
    };
  }, [load]);
  return state;
}

function StoredMedia({ content, load, alt }: { content: MediaContent; load: (signal?: AbortSignal) => Promise<Blob>; alt: string }) {
  const { url, error } = useObjectUrl(load);
  if (error) {
    return (
      <span className="ns-field__error">
        <Icon name="alert" size={16} />
        <span>Could not load the {KIND_LABELS[content.kind].toLowerCase()}: {error}</span>
      </span>
    );
  }
  if (url === null) return <span className="ns-muted" role="status">Loading the {KIND_LABELS[content.kind].toLowerCase()}…</span>;
  switch (content.kind) {
    case "image":
      return <img className="ns-content__image" src={url} alt={alt} />;
    case "sticker":
      return <img className="ns-content__sticker" src={url} alt={alt === "Sticker" ? "Sticker" : `Sticker: ${alt}`} />;
    case "video":
      return (
        <video className="ns-content__video" src={url} controls preload="metadata" aria-label={alt}>
          <track kind="captions" />
        </video>
      );
    default:
      return <audio className="ns-content__audio" src={url} controls preload="metadata" aria-label={alt} />;
  }
}

function DocumentDownload({ load, filename, details }: { load: (signal?: AbortSignal) => Promise<Blob>; filename: string; details: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="ns-content__document">
      <Button
        variant="secondary"
        size="sm"
        icon="download"
        className="ns-content__download"
        loading={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const blob = await load();
            const url = URL.createObjectURL(blob);
            const anchor = document.createElement("a");
            anchor.href = url;
            anchor.download = filename;
            document.body.append(anchor);
            anchor.click();
            anchor.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
          } catch (failure) {
            setError(describeError(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        Download {filename}
      </Button>
      {details ? <span className="ns-muted">{details}</span> : null}
      {error ? <span className="ns-field__error" role="alert"><Icon name="alert" size={16} /><span>{error}</span></span> : null}
    </span>
  );
}
