"use client";
/**
 * One conversation: the thread with every kind of message drawn (reactions
 * on their message, quoted replies above the reply) and each one's delivery
 * status, take over and release, close, and replying as an agent (text, a
 * picture or document, a quote, a template when the 24-hour window is
 * closed); refreshed every 3 s.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { ModeBadge } from "@/components/StatusBadges";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { layoutThread } from "@/lib/message-content";
import { type Message, roleAtLeast } from "@/lib/types";
import { threadOrder } from "@/lib/thread";
import { usePoll } from "@/lib/use-poll";
import { Composer } from "./Composer";
import { ThreadMessage } from "./ThreadMessage";

export default function ThreadPage() {
  const { conversationId } = useParams<{ conversationId: string }>();
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const conversation = usePoll((signal) => api.getConversation(conversationId, signal), [api, conversationId], 3000);
  const messages = usePoll((signal) => api.messages(conversationId, { limit: 100 }, signal), [api, conversationId], 3000);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
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
  const thread = layoutThread(threadOrder(messages.data?.data ?? []));

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
                  {thread.map((item) => (
                    <ThreadMessage
                      key={item.message.id}
                      item={item}
                      myId={me?.user_id ?? null}
                      api={api}
                      onReply={canOperate && mine && !data.opted_out ? setReplyTo : undefined}
                    />
                  ))}
                </ol>
              )}
          </div>
        )}
      {canOperate
        ? (
          mine
            ? (
              <Composer
                api={api}
                conversation={data}
                replyTo={replyTo}
                onClearReply={() => setReplyTo(null)}
                disabled={data.opted_out}
                onSent={async (what) => {
                  toast.show({ message: what });
                  await Promise.all([conversation.reload(), messages.reload()]);
                }}
              />
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
