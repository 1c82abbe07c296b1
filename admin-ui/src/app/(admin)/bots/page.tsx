"use client";
/** Bots: the list, with their published version, canary and numbers; create a bot. */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Badge } from "@/components/ui/Badge";
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
import { relativeTime } from "@/lib/format";
import { roleAtLeast } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export default function BotsPage() {
  const api = useApi();
  const { me } = useAuth();
  const [archived, setArchived] = useState<"false" | "true" | "all">("false");
  const [query, setQuery] = useState("");
  const [creating, setCreating] = useState(false);
  const bots = usePoll((signal) => api.listBots({ archived, q: query.trim() || undefined, limit: 200 }, signal), [api, archived, query], 15000);
  return (
    <>
      <PageHeader
        title="Bots"
        description="Each bot is a JSON flow with immutable versions. Open one to edit, try and publish it."
        actions={roleAtLeast(me?.role, "admin")
          ? <Button icon="plus" onClick={() => setCreating((open) => !open)} aria-expanded={creating}>New bot</Button>
          : null}
      />
      {creating ? <CreateBot /> : null}
      <form className="ns-filters" role="search" aria-label="Filter bots" onSubmit={(event) => event.preventDefault()}>
        <Field label="Search">
          {(control) => <Input {...control} type="search" placeholder="Bot name" value={query} onChange={(event) => setQuery(event.target.value)} />}
        </Field>
        <Field label="Show">
          {(control) => (
            <Select {...control} value={archived} onChange={(event) => setArchived(event.target.value as typeof archived)}>
              <option value="false">Active bots</option>
              <option value="true">Archived bots</option>
              <option value="all">All bots</option>
            </Select>
          )}
        </Field>
      </form>
      {bots.loading
        ? <Loading label="Loading bots…" />
        : bots.error && !bots.data
        ? <ErrorState error={bots.error} what="the bots" onRetry={bots.reload} />
        : bots.data?.data.length === 0
        ? <EmptyState id="bots-empty" title="No bots here">Create a bot to write its first flow.</EmptyState>
        : (
          <Table label="Bots">
            <thead>
              <tr>
                <th scope="col">Bot</th>
                <th scope="col">Published</th>
                <th scope="col">Canary</th>
                <th scope="col">Numbers</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {bots.data?.data.map((bot) => (
                <tr key={bot.id}>
                  <th scope="row">
                    <Link href={`/bots/${bot.id}`}>{bot.name}</Link>
                    {bot.archived_at ? <> <Badge icon="stop">Archived</Badge></> : null}
                    {bot.description ? <div className="ns-muted">{bot.description}</div> : null}
                  </th>
                  <td>
                    {bot.published_version
                      ? <Badge tone="success" icon="check">v{bot.published_version.version}</Badge>
                      : <Badge icon="clock">Not published</Badge>}
                  </td>
                  <td>
                    {bot.canary_version_id
                      ? <Badge tone="highlight" icon="flag">{bot.canary_share_percent}%</Badge>
                      : <span className="ns-muted">none</span>}
                  </td>
                  <td>{bot.number_count}</td>
                  <td>{relativeTime(bot.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
    </>
  );
}

function CreateBot() {
  const api = useApi();
  const toast = useToast();
  const router = useRouter();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Card title="New bot" variant="flat">
      <form
        className="ns-form-grid"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const bot = await api.createBot({ name: name.trim(), description: description.trim() || undefined });
            toast.show({ message: `Created ${bot.name}. Write its first version below.` });
            router.push(`/bots/${bot.id}`);
          } catch (caught) {
            setError(describeError(caught));
            setBusy(false);
          }
        }}
      >
        <Field label="Name" error={error ?? undefined}>
          {(control) => <Input {...control} required value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        <Field label="Description">
          {(control) => <Input {...control} value={description} onChange={(event) => setDescription(event.target.value)} />}
        </Field>
        <div className="ns-button-row">
          <Button type="submit" loading={busy} icon="plus">Create bot</Button>
        </div>
      </form>
    </Card>
  );
}
