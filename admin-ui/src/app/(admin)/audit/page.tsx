"use client";
/** The audit log, newest first: filter by action, table, target, actor and time; load more by cursor. */
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/Button";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Table } from "@/components/ui/Table";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi } from "@/lib/auth";
import { dateTime, shortId } from "@/lib/format";
import type { AuditEntry } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

interface Filters {
  action: string;
  target_table: string;
  target_id: string;
  actor_id: string;
  since: string;
  until: string;
}

const EMPTY: Filters = { action: "", target_table: "", target_id: "", actor_id: "", since: "", until: "" };

/** A datetime-local value as an ISO instant, or undefined. */
function instant(value: string): string | undefined {
  if (value === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export default function AuditPage() {
  const api = useApi();
  const toast = useToast();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const query = {
    action: applied.action.trim() || undefined,
    target_table: applied.target_table.trim() || undefined,
    target_id: applied.target_id.trim() || undefined,
    actor_id: applied.actor_id.trim() || undefined,
    since: instant(applied.since),
    until: instant(applied.until),
    limit: 50,
  };
  const entries = usePoll((signal) => api.auditLog(query, signal), [api, JSON.stringify(applied)], 30000);
  const members = usePoll((signal) => api.listMembers(signal), [api], null);
  const actorName = (actorId: string) => members.data?.data.find((member) => member.user_id === actorId)?.email ?? shortId(actorId);
  useEffect(() => {
    setMore([]);
    setCursor(entries.data?.next_cursor ?? null);
  }, [entries.data]);

  const rows = [...(entries.data?.data ?? []), ...more];
  const field = (name: keyof Filters, label: string, extra: Record<string, string> = {}) => (
    <Field label={label}>
      {(control) => <Input {...control} {...extra} value={form[name]} onChange={(event) => setForm({ ...form, [name]: event.target.value })} />}
    </Field>
  );
  return (
    <>
      <PageHeader title="Audit log" description="Every change people and the platform made, newest first." />
      <form
        className="ns-filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(form);
        }}
      >
        {field("action", "Action", { placeholder: "alerts.* or incident.summary" })}
        {field("target_table", "Table", { placeholder: "alerts" })}
        {field("target_id", "Target id")}
        {field("actor_id", "Actor (user id)")}
        {field("since", "Since", { type: "datetime-local" })}
        {field("until", "Until", { type: "datetime-local" })}
        <div className="ns-button-row">
          <Button type="submit" icon="list">Filter</Button>
          <Button variant="ghost" onClick={() => { setForm(EMPTY); setApplied(EMPTY); }}>Clear</Button>
        </div>
      </form>
      {entries.loading
        ? <Loading label="Loading the audit log…" />
        : entries.error && !entries.data
        ? <ErrorState error={entries.error} what="the audit log" onRetry={entries.reload} />
        : rows.length === 0
        ? <EmptyState id="audit-empty" title="Nothing recorded">No entry matches these filters.</EmptyState>
        : (
          <>
            <Table label="Audit log entries">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((entry) => (
                  <tr key={entry.id}>
                    <th scope="row"><time dateTime={entry.occurred_at}>{dateTime(entry.occurred_at)}</time></th>
                    <td className="ns-mono">{entry.action}</td>
                    <td>
                      <span title={entry.actor_id ?? undefined}>{entry.actor_id ? actorName(entry.actor_id) : "the platform"}</span>
                      <div className="ns-muted">{entry.actor_role}</div>
                    </td>
                    <td>
                      {entry.target_table ?? "—"}
                      {entry.target_id ? <div className="ns-mono ns-muted" title={entry.target_id}>{shortId(entry.target_id)}</div> : null}
                    </td>
                    <td>
                      <details>
                        <summary>Show</summary>
                        <pre className="ns-pre">{JSON.stringify(entry.details, null, 2)}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
            {cursor
              ? (
                <p style={{ marginTop: "var(--ns-space-3)" }}>
                  <Button
                    variant="secondary"
                    loading={loadingMore}
                    onClick={async () => {
                      setLoadingMore(true);
                      try {
                        const page = await api.auditLog({ ...query, cursor });
                        setMore((list) => [...list, ...page.data]);
                        setCursor(page.next_cursor);
                      } catch (error) {
                        toast.show({ tone: "danger", message: describeError(error) });
                      } finally {
                        setLoadingMore(false);
                      }
                    }}
                  >
                    Load older entries
                  </Button>
                </p>
              )
              : null}
          </>
        )}
    </>
  );
}
