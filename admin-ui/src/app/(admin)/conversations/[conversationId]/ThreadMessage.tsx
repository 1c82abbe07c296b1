"use client";
/**
 * One message of the inbox thread: who sent it and when, what it quotes, its
 * content by kind (src/components/MessageContent.tsx), the reactions on it,
 * its delivery status, and a Reply button that quotes it in the composer.
 */
import { useCallback } from "react";
import { MessageContentView } from "@/components/MessageContent";
import { DeliveryStatus } from "@/components/StatusBadges";
import { Button } from "@/components/ui/Button";
import type { AdminApi } from "@/lib/admin-api";
import { dateTime, timeOfDay } from "@/lib/format";
import { isMedia, type ThreadItem } from "@/lib/message-content";
import type { Message } from "@/lib/types";

export interface ThreadMessageProps {
  item: ThreadItem<Message>;
  myId: string | null;
  api: AdminApi;
  /** Quotes this message in the composer; absent when the member cannot reply. */
  onReply?: (message: Message) => void;
}

export function ThreadMessage({ item, myId, api, onReply }: ThreadMessageProps) {
  const { message, content, reactions, quoted } = item;
  const inbound = message.direction === "inbound";
  const author = inbound ? "Contact" : message.author_id ? (message.author_id === myId ? "You (agent)" : "Agent") : "Bot";
  const className = inbound ? "ns-bubble ns-bubble--in" : message.author_id ? "ns-bubble ns-bubble--agent" : "ns-bubble ns-bubble--out";
  const stored = isMedia(content) && Boolean(content.storage_key);
  const messageId = message.id;
  const loadMedia = useCallback((signal?: AbortSignal) => api.messageMedia(messageId, signal), [api, messageId]);
  return (
    <li className={className} data-kind={content.kind} data-message-id={message.id}>
      <span className="ns-bubble__meta">
        <strong>{author}</strong>
        <time dateTime={message.created_at} title={dateTime(message.created_at)}>{timeOfDay(message.created_at)}</time>
      </span>
      {quoted
        ? (
          <blockquote className={`ns-quote${quoted.found ? "" : " ns-quote--missing"}`} title={`Quotes ${quoted.id}`}>
            <span className="ns-visually-hidden">Replying to: </span>
            {quoted.text}
          </blockquote>
        )
        : null}
      <MessageContentView content={content} loadMedia={stored ? loadMedia : null} />
      {reactions.length > 0
        ? (
          <span className="ns-reactions" aria-label="Reactions">
            {reactions.map((reaction) => (
              <span key={reaction.message.id} className="ns-reaction" title={dateTime(reaction.message.created_at)}>
                <span className="ns-reaction__emoji">{reaction.emoji}</span>
                <span className="ns-reaction__who">{reaction.message.direction === "inbound" ? "Contact" : "You"}</span>
              </span>
            ))}
          </span>
        )
        : null}
      {!inbound || onReply
        ? (
          <span className="ns-bubble__meta" title={message.error ?? undefined}>
            {!inbound ? <DeliveryStatus status={message.status} /> : null}
            {!inbound && message.error ? <span>{message.error}</span> : null}
            {onReply
              ? (
                <Button variant="ghost" size="sm" icon="reply" className="ns-bubble__reply" onClick={() => onReply(message)}>
                  Reply<span className="ns-visually-hidden"> to this message</span>
                </Button>
              )
              : null}
          </span>
        )
        : null}
    </li>
  );
}
