"use client";
/** Numbers: every WhatsApp number with its session state, live; add a number. */
import Link from "next/link";
import { useEffect, useState } from "react";
import { LiveIndicator } from "@/components/LiveIndicator";
import { SessionBadge } from "@/components/StatusBadges";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { Table } from "@/components/ui/Table";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { humanize, relativeTime } from "@/lib/format";
import { roleAtLeast, SESSION_STATUSES, type Transport } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export default function NumbersPage() {
  const api = useApi();
  const { me } = useAuth();
  const [status, setStatus] = useState("");
  const [query, setQuery] = useState("");
  const [adding, setAdding] = useState(false);

  useEffect(() => {
    const initial = new URLSearchParams(window.location.search).get("status");
    if (initial) setStatus(initial);
  }, []);

  const numbers = usePoll(
    (signal) => api.listNumbers({ session_status: status ? [status] : undefined, q: query.trim() || undefined }, signal),
    [api, status, query],
    5000,
  );
  const bots = usePoll((signal) => api.listBots({}, signal), [api], null);
  const botName = (id: string | null) => (id ? bots.data?.data.find((bot) => bot.id === id)?.name ?? "…" : "—");

  return (
    <>
      <PageHeader
        title="Numbers"
        description="WhatsApp numbers and their sessions. Select one to pair, restart or read its timeline."
        actions={
          <>
            <LiveIndicator updatedAt={numbers.updatedAt} error={numbers.error} />
            {roleAtLeast(me?.role, "admin")
              ? <Button icon="plus" onClick={() => setAdding((open) => !open)} aria-expanded={adding}>Add number</Button>
              : null}
          </>
        }
      />
      {adding ? <AddNumber onDone={() => { setAdding(false); void numbers.reload(); }} bots={bots.data?.data ?? []} /> : null}
      <form className="ns-filters" role="search" aria-label="Filter numbers" onSubmit={(event) => event.preventDefault()}>
        <Field label="Session state">
          {(control) => (
            <Select {...control} value={status} onChange={(event) => setStatus(event.target.value)}>
              <option value="">Any state</option>
              {SESSION_STATUSES.map((state) => <option key={state} value={state}>{humanize(state)}</option>)}
            </Select>
          )}
        </Field>
        <Field label="Search">
          {(control) => (
            <Input {...control} type="search" placeholder="Phone or label" value={query} onChange={(event) => setQuery(event.target.value)} />
          )}
        </Field>
      </form>
      {numbers.loading
        ? <Loading label="Loading numbers…" />
        : numbers.error && !numbers.data
        ? <ErrorState error={numbers.error} what="the numbers" onRetry={numbers.reload} />
        : numbers.data?.data.length === 0
        ? (
          <EmptyState id="numbers-empty" title={status || query ? "No number matches" : "No numbers yet"}>
            {status || query ? "Try another state or search." : "Add a number to start a WhatsApp session."}
          </EmptyState>
        )
        : (
          <Table label="Numbers">
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col">Bot</th>
                <th scope="col">Transport</th>
                <th scope="col">Heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {numbers.data?.data.map((number) => (
                <tr key={number.id}>
                  <th scope="row">
                    <Link href={`/numbers/${number.id}`} className="ns-mono">{number.phone_number}</Link>
                    <div className="ns-muted">{number.label || "no label"}</div>
                  </th>
                  <td><SessionBadge status={number.session_status} /></td>
                  <td>{relativeTime(number.session_status_changed_at)}</td>
                  <td>{botName(number.bot_id)}</td>
                  <td>{number.transport}</td>
                  <td>{relativeTime(number.last_heartbeat_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
    </>
  );
}

function AddNumber({ onDone, bots }: { onDone: () => void; bots: Array<{ id: string; name: string }> }) {
  const api = useApi();
  const toast = useToast();
  const [phone, setPhone] = useState("");
  const [label, setLabel] = useState("");
  const [transport, setTransport] = useState<Transport>("web");
  const [botId, setBotId] = useState("");
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Card title="Add a number" variant="flat">
      <form
        className="ns-form-grid"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const created = await api.createNumber({
              phone_number: phone.trim(),
              label: label.trim() || undefined,
              transport,
              bot_id: botId || null,
            });
            toast.show({ message: `Added ${created.phone_number}.` });
            onDone();
          } catch (caught) {
            const field = caught && typeof caught === "object" && "details" in caught
              ? ((caught as { details: Record<string, unknown> | null }).details?.field as string | undefined)
              : undefined;
            setError({ field, message: describeError(caught) });
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field label="Phone number (E.164)" hint="Such as +15551234567" error={error?.field === "phone_number" ? error.message : undefined}>
          {(control) => <Input {...control} required value={phone} onChange={(event) => setPhone(event.target.value)} inputMode="tel" />}
        </Field>
        <Field label="Label">
          {(control) => <Input {...control} value={label} onChange={(event) => setLabel(event.target.value)} />}
        </Field>
        <Field label="Transport">
          {(control) => (
            <Select {...control} value={transport} onChange={(event) => setTransport(event.target.value as Transport)}>
              <option value="web">WhatsApp Web (multi-device)</option>
              <option value="cloud">Cloud API</option>
              <option value="simulator">Simulator</option>
            </Select>
          )}
        </Field>
        <Field label="Bot">
          {(control) => (
            <Select {...control} value={botId} onChange={(event) => setBotId(event.target.value)}>
              <option value="">No bot</option>
              {bots.map((bot) => <option key={bot.id} value={bot.id}>{bot.name}</option>)}
            </Select>
          )}
        </Field>
        <div className="ns-button-row">
          <Button type="submit" loading={busy} icon="plus">Add</Button>
        </div>
        {error && error.field !== "phone_number" ? <p className="ns-field__error" role="alert">{error.message}</p> : null}
      </form>
    </Card>
  );
}
