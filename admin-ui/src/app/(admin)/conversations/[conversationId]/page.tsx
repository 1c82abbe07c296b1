"use client";
/**
 * One conversation: the thread with each message's delivery status, take
 * over and release, close, and replying as an agent; refreshed every 3 s.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { DeliveryStatus, ModeBadge } from "@/components/StatusBadges";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { Textarea } from "@/components/ui/Textarea";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { dateTime, timeOfDay } from "@/lib/format";
import { type Message, roleAtLeast } from "@/lib/types";
import { threadOrder } from "@/lib/thread";
import { usePoll } from "@/lib/use-poll";

export default function ThreadPage() {
  const { conversationId } = useParams<{ conversationId: string }>();
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const conversation = usePoll((signal) => api.getConversation(conversationId, signal), [api, conversationId], 3000);
  const messages = usePoll((signal) => api.messages(conversationId, { limit: 100 }, signal), [api, conversationId], 3000);
  const [reply, setReply] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmClose, setConfirmClose] = useState(false);
  const log = useRef<HTMLDivElement>(null);
  const count = messages.data?.data.length ?? 0;

  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [count]);

  async function act(name: string, action: () => Promise<unknown>, success: string) {
    setBusy(name);
    try {
      await action();
      toast.show({ message: success });
      await Promise.all([conversation.reload(), messages.reload()]);
    } catch (error) {
      toast.show({ tone: "danger", message: describeError(error) });
    } finally {
      setBusy(null);
    }
  }

  if (conversation.loading) return <Loading label="Loading the conversation…" />;
  if (!conversation.data) return <ErrorState error={conversation.error} what="the conversation" onRetry={conversation.reload} />;
  const data = conversation.data;
  const canOperate = roleAtLeast(me?.role, "operator");
  const mine = data.mode === "human" && data.assigned_to === me?.user_id;
  const thread = threadOrder(messages.data?.data ?? []);

  return (
    <>
    <p className="ns-mobile-only"><Link href="/conversations">← Inbox</Link></p>
    <Card
      id="thread"
      region
      title={data.contact_name || data.contact_wa_id}
      description={<span className="ns-mono">{data.contact_wa_id}</span>}
      actions={canOperate
        ? (
          <>
            {data.mode !== "human" || !mine
              ? (
                <Button icon="hand" loading={busy === "takeover"} onClick={() => act("takeover", () => api.takeOver(conversationId), "You took the conversation over: the bot is silent.")}>
                  Take over
                </Button>
              )
              : null}
            {data.mode === "human"
              ? (
                <Button variant="secondary" icon="bot" loading={busy === "release"} onClick={() => act("release", () => api.release(conversationId), "Released: the bot answers again.")}>
                  Release to bot
                </Button>
              )
              : null}
            {data.mode !== "closed"
              ? <Button variant="ghost" icon="stop" onClick={() => setConfirmClose(true)}>Close</Button>
              : null}
          </>
        )
        : null}
    >
      <div className="ns-inline" style={{ marginBottom: "var(--ns-space-3)" }}>
        <ModeBadge mode={data.mode} />
        {data.mode === "human" ? <span className="ns-muted">{mine ? "Assigned to you" : "Assigned to another agent"}</span> : null}
        {data.opted_out ? <Badge tone="danger" icon="ban">Opted out</Badge> : null}
        {data.tags.map((tag) => <Badge key={tag} tone="accent">#{tag}</Badge>)}
      </div>
      {messages.loading
        ? <Loading label="Loading messages…" />
        : messages.error && !messages.data
        ? <ErrorState error={messages.error} what="the messages" onRetry={messages.reload} />
        : (
          <div className="ns-chat ns-chat--thread" ref={log} role="log" aria-label="Messages" tabIndex={0}>
            {thread.length === 0
              ? <p className="ns-chat__hint">No messages yet.</p>
              : (
                <ol className="ns-chat__list">
                  {thread.map((message) => <ThreadMessage key={message.id} message={message} myId={me?.user_id ?? null} />)}
                </ol>
              )}
          </div>
        )}
      {canOperate
        ? (
          mine
            ? (
              <form
                className="ns-chat__composer"
                onSubmit={async (event) => {
                  event.preventDefault();
                  const body = reply.trim();
                  if (body === "") return;
                  await act("send", () => api.sendAsAgent(conversationId, body), "Reply queued: the daemon sends it.");
                  setReply("");
                }}
              >
                <Field label="Reply as an agent">
                  {(control) => (
                    <Textarea
                      {...control}
                      rows={2}
                      value={reply}
                      disabled={data.opted_out}
                      onChange={(event) => setReply(event.target.value)}
                      onKeyDown={(event) => {
                        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) event.currentTarget.form?.requestSubmit();
                      }}
                    />
                  )}
                </Field>
                <Button type="submit" icon="send" loading={busy === "send"} disabled={reply.trim() === "" || data.opted_out}>Send</Button>
              </form>
            )
            : <Notice tone="info">Take the conversation over to reply; the bot stays silent until you release it.</Notice>
        )
        : null}
      <ConfirmDialog
        open={confirmClose}
        title="Close this conversation?"
        confirmLabel="Close"
        tone="danger"
        onCancel={() => setConfirmClose(false)}
        onConfirm={async () => {
          await act("close", () => api.closeConversation(conversationId), "Closed: the contact's next message starts afresh.");
          setConfirmClose(false);
        }}
      >
        <p>The contact's next message starts a new conversation with the bot.</p>
      </ConfirmDialog>
    </Card>
    </>
  );
}

function ThreadMessage({ message, myId }: { message: Message; myId: string | null }) {
  const inbound = message.direction === "inbound";
  const author = inbound ? "Contact" : message.author_id ? (message.author_id === myId ? "You (agent)" : "Agent") : "Bot";
  const className = inbound ? "ns-bubble ns-bubble--in" : message.author_id ? "ns-bubble ns-bubble--agent" : "ns-bubble ns-bubble--out";
  return (
    <li className={className}>
      <span className="ns-bubble__meta">
        <strong>{author}</strong>
        <time dateTime={message.created_at} title={dateTime(message.created_at)}>{timeOfDay(message.created_at)}</time>
      </span>
      <span className="ns-bubble__text">{message.body || <em>[{message.type}]</em>}</span>
      {!inbound
        ? (
          <span className="ns-bubble__meta" title={message.error ?? undefined}>
            <DeliveryStatus status={message.status} />
            {message.error ? <span>{message.error}</span> : null}
          </span>
        )
        : null}
    </li>
  );
}
