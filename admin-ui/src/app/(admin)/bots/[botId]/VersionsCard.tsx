"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { Select } from "@/components/ui/Select";
import { Table } from "@/components/ui/Table";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi } from "@/lib/auth";
import { dateTime } from "@/lib/format";
import type { Bot, BotVersion, Page } from "@/lib/types";
import type { PollState } from "@/lib/use-poll";

type Pending =
  | { kind: "publish"; version: BotVersion }
  | { kind: "rollback"; version: BotVersion | null }
  | { kind: "stop-canary" };

const STATUS_BADGE = {
  published: { tone: "success", icon: "check", word: "Published" },
  draft: { tone: "neutral", icon: "clock", word: "Draft" },
  archived: { tone: "neutral", icon: "stop", word: "Archived" },
} as const;

/** The versions, publish and roll back, and the canary. */
export function VersionsCard({
  bot,
  versions,
  canEdit,
  onOpen,
  onChanged,
}: {
  bot: Bot;
  versions: PollState<Page<BotVersion>>;
  canEdit: boolean;
  onOpen: (version: BotVersion) => void;
  onChanged: () => Promise<void>;
}) {
  const api = useApi();
  const toast = useToast();
  const [pending, setPending] = useState<Pending | null>(null);
  const [canaryVersion, setCanaryVersion] = useState("");
  const [canaryShare, setCanaryShare] = useState("10");
  const [savingCanary, setSavingCanary] = useState(false);
  const list = versions.data?.data ?? [];
  const candidates = list.filter((version) => version.status !== "published");
  const canaryOf = list.find((version) => version.id === bot.canary_version_id);

  async function confirm() {
    if (pending === null) return;
    try {
      if (pending.kind === "publish") {
        const published = await api.publishVersion(bot.id, pending.version.id);
        toast.show({ message: `Published version ${published.version}.` });
      } else if (pending.kind === "rollback") {
        const published = await api.rollback(bot.id, pending.version?.id);
        toast.show({ message: `Rolled back: version ${published.version} is published.` });
      } else {
        await api.stopCanary(bot.id);
        toast.show({ message: "Canary stopped: every new conversation gets the published version." });
      }
      await onChanged();
    } catch (error) {
      toast.show({ tone: "danger", message: describeError(error) });
    } finally {
      setPending(null);
    }
  }

  return (
    <Card
      title="Versions"
      id="versions"
      region
      description="Published versions are immutable; rolling back publishes an earlier one."
      actions={canEdit && bot.published_version && list.some((version) => version.status === "archived")
        ? <Button variant="secondary" icon="restart" onClick={() => setPending({ kind: "rollback", version: null })}>Roll back</Button>
        : null}
    >
      {versions.loading
        ? <Loading label="Loading versions…" />
        : versions.error && !versions.data
        ? <ErrorState error={versions.error} what="the versions" onRetry={versions.reload} />
        : list.length === 0
        ? <p className="ns-muted">No versions yet: save the draft above.</p>
        : (
          <Table label="Versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Published</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((version) => {
                const look = STATUS_BADGE[version.status];
                return (
                  <tr key={version.id}>
                    <th scope="row">
                      v{version.version}{" "}
                      <span className="ns-mono ns-muted" title={`SHA-256 ${version.checksum}`}>{version.checksum.slice(0, 8)}</span>
                    </th>
                    <td>
                      <span className="ns-inline">
                        <Badge tone={look.tone} icon={look.icon}>{look.word}</Badge>
                        {version.id === bot.canary_version_id
                          ? <Badge tone="highlight" icon="flag">Canary {bot.canary_share_percent}%</Badge>
                          : null}
                      </span>
                    </td>
                    <td>{dateTime(version.created_at)}</td>
                    <td>{dateTime(version.published_at)}</td>
                    <td>
                      <div className="ns-button-row">
                        <Button variant="secondary" size="sm" onClick={() => onOpen(version)} aria-label={`Open version ${version.version} in the editor`}>
                          Open
                        </Button>
                        {canEdit && version.status === "draft"
                          ? (
                            <Button size="sm" onClick={() => setPending({ kind: "publish", version })} aria-label={`Publish version ${version.version}`}>
                              Publish
                            </Button>
                          )
                          : null}
                        {canEdit && version.status === "archived" && version.published_at
                          ? (
                            <Button size="sm" variant="secondary" onClick={() => setPending({ kind: "rollback", version })} aria-label={`Roll back to version ${version.version}`}>
                              Roll back to this
                            </Button>
                          )
                          : null}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        )}
      <h3 className="ns-section-title">Canary</h3>
      {bot.canary_version_id
        ? (
          <p>
            <Badge tone="highlight" icon="flag">Canary</Badge> {bot.canary_share_percent}% of new conversations go to version{" "}
            {canaryOf ? canaryOf.version : "…"}; the rest to the published version.{" "}
            {canEdit ? <Button variant="secondary" size="sm" icon="stop" onClick={() => setPending({ kind: "stop-canary" })}>Stop canary</Button> : null}
          </p>
        )
        : <p className="ns-muted">No canary: every new conversation gets the published version.</p>}
      {canEdit && candidates.length > 0
        ? (
          <form
            className="ns-form-grid"
            onSubmit={async (event) => {
              event.preventDefault();
              const versionId = canaryVersion || candidates[0]?.id;
              if (!versionId) return;
              setSavingCanary(true);
              try {
                const updated = await api.setCanary(bot.id, versionId, Number(canaryShare));
                toast.show({ message: `Canary set: ${updated.canary_share_percent}% of new conversations.` });
                await onChanged();
              } catch (error) {
                toast.show({ tone: "danger", message: describeError(error) });
              } finally {
                setSavingCanary(false);
              }
            }}
          >
            <Field label="Canary version" hint="A draft or archived version.">
              {(control) => (
                <Select {...control} value={canaryVersion || candidates[0]?.id} onChange={(event) => setCanaryVersion(event.target.value)}>
                  {candidates.map((version) => <option key={version.id} value={version.id}>v{version.version} ({version.status})</option>)}
                </Select>
              )}
            </Field>
            <Field label="Share of new conversations (%)" hint="0 to 100; a contact always lands on the same side.">
              {(control) => (
                <Input {...control} type="number" min={0} max={100} step={1} required value={canaryShare} onChange={(event) => setCanaryShare(event.target.value)} />
              )}
            </Field>
            <div className="ns-button-row">
              <Button type="submit" variant="secondary" icon="flag" loading={savingCanary}>Set canary</Button>
            </div>
          </form>
        )
        : null}
      <ConfirmDialog
        open={pending !== null}
        title={pending?.kind === "publish"
          ? `Publish version ${pending.version.version}?`
          : pending?.kind === "rollback"
          ? pending.version ? `Roll back to version ${pending.version.version}?` : "Roll back to the previous version?"
          : "Stop the canary?"}
        confirmLabel={pending?.kind === "publish" ? "Publish" : pending?.kind === "rollback" ? "Roll back" : "Stop canary"}
        tone={pending?.kind === "stop-canary" ? "danger" : "primary"}
        onCancel={() => setPending(null)}
        onConfirm={confirm}
      >
        <p>
          {pending?.kind === "stop-canary"
            ? "Every new conversation gets the published version again."
            : "New conversations get it at once; running conversations finish on the version they started with."}
        </p>
      </ConfirmDialog>
    </Card>
  );
}
