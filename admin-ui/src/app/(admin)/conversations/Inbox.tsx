"use client";
import Link from "next/link";
import { useState } from "react";
import { LiveIndicator } from "@/components/LiveIndicator";
import { ModeBadge } from "@/components/StatusBadges";
import { Badge } from "@/components/ui/Badge";
import { Checkbox } from "@/components/ui/Checkbox";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { useApi } from "@/lib/auth";
import { relativeTime } from "@/lib/format";
import type { ConversationMode } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

/** The inbox: conversations, most recently active first, with filters; refreshed every 4 seconds. */
export function Inbox({ selectedId }: { selectedId: string | null }) {
  const api = useApi();
  const [mode, setMode] = useState<"" | ConversationMode>("");
  const [numberId, setNumberId] = useState("");
  const [query, setQuery] = useState("");
  const [tag, setTag] = useState("");
  const [mine, setMine] = useState(false);
  const [optedOut, setOptedOut] = useState(false);
  const numbers = usePoll((signal) => api.listNumbers({}, signal), [api], null);
  const conversations = usePoll(
    (signal) =>
      api.listConversations(
        {
          mode: mode ? [mode] : undefined,
          number_id: numberId || undefined,
          q: query.trim() || undefined,
          tag: tag.trim() || undefined,
          assigned_to: mine ? "me" : undefined,
          opted_out: optedOut ? true : undefined,
          limit: 100,
        },
        signal,
      ),
    [api, mode, numberId, query, tag, mine, optedOut],
    4000,
  );
  const phone = (id: string) => numbers.data?.data.find((number) => number.id === id)?.phone_number ?? "";
  return (
    <section aria-labelledby="inbox-title">
      <PageHeader
        title="Conversations"
        description="The inbox, most recently active first."
        actions={<LiveIndicator updatedAt={conversations.updatedAt} error={conversations.error} />}
      />
      <h2 id="inbox-title" className="ns-visually-hidden">Inbox</h2>
      <form className="ns-filters ns-filters--inbox" role="search" aria-label="Filter conversations" onSubmit={(event) => event.preventDefault()}>
        <Field label="Search">
          {(control) => <Input {...control} type="search" placeholder="Name or number" value={query} onChange={(event) => setQuery(event.target.value)} />}
        </Field>
        <Field label="Mode">
          {(control) => (
            <Select {...control} value={mode} onChange={(event) => setMode(event.target.value as typeof mode)}>
              <option value="">Any mode</option>
              <option value="bot">Bot answering</option>
              <option value="human">Taken over by an agent</option>
              <option value="closed">Closed</option>
            </Select>
          )}
        </Field>
        <Field label="Number">
          {(control) => (
            <Select {...control} value={numberId} onChange={(event) => setNumberId(event.target.value)}>
              <option value="">Any number</option>
              {numbers.data?.data.map((number) => (
                <option key={number.id} value={number.id}>{number.phone_number}{number.label ? ` (${number.label})` : ""}</option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Tag">
          {(control) => <Input {...control} placeholder="e.g. vip" value={tag} onChange={(event) => setTag(event.target.value)} />}
        </Field>
        <div className="ns-inline">
          <Checkbox label="Assigned to me" checked={mine} onChange={(event) => setMine(event.target.checked)} />
          <Checkbox label="Opted out" checked={optedOut} onChange={(event) => setOptedOut(event.target.checked)} />
        </div>
      </form>
      {conversations.loading
        ? <Loading label="Loading the inbox…" />
        : conversations.error && !conversations.data
        ? <ErrorState error={conversations.error} what="the inbox" onRetry={conversations.reload} />
        : conversations.data?.data.length === 0
        ? <EmptyState id="inbox-empty" title="No conversations">Nothing matches these filters yet.</EmptyState>
        : (
          <ul className="ns-list-reset ns-inbox" aria-label="Conversations">
            {conversations.data?.data.map((conversation) => (
              <li key={conversation.id}>
                <Link
                  href={`/conversations/${conversation.id}`}
                  className="ns-inbox__item"
                  aria-current={conversation.id === selectedId ? "page" : undefined}
                >
                  <span className="ns-inbox__who">
                    <strong>{conversation.contact_name || conversation.contact_wa_id}</strong>
                    <span className="ns-mono ns-muted">{conversation.contact_wa_id}</span>
                  </span>
                  <span className="ns-inbox__meta">
                    <ModeBadge mode={conversation.mode} />
                    {conversation.opted_out ? <Badge tone="danger" icon="ban">Opted out</Badge> : null}
                    {conversation.window_open === false
                      ? <Badge tone="warning" icon="clock" title="Only an approved template can be sent">Window closed</Badge>
                      : null}
                    <span className="ns-muted">
                      to <span className="ns-mono">{phone(conversation.number_id)}</span> · {relativeTime(conversation.last_activity_at)}
                    </span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
    </section>
  );
}
