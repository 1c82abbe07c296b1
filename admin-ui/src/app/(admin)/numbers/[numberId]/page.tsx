"use client";
/**
 * One number: its session state, start/stop/restart (confirmed), pairing by
 * QR code or pair code, the bot it serves, its commands and the
 * connection-event timeline, all refreshed live.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { LiveIndicator } from "@/components/LiveIndicator";
import { SessionBadge } from "@/components/StatusBadges";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { Table } from "@/components/ui/Table";
import { Timeline } from "@/components/ui/Timeline";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { dateTime, relativeTime } from "@/lib/format";
import { eventLook } from "@/lib/status";
import { roleAtLeast, type SessionAction, type WaNumber } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";
import { PairingCard } from "./PairingCard";

const ACTIONS: Record<SessionAction, { label: string; icon: "play" | "stop" | "restart"; explain: string }> = {
  start: { label: "Start", icon: "play", explain: "The daemon holding the number connects its WhatsApp session." },
  stop: {
    label: "Stop",
    icon: "stop",
    explain: "The session disconnects and stays down until started again. The bot stops answering on this number.",
  },
  restart: {
    label: "Restart",
    icon: "restart",
    explain: "The session disconnects and connects again (a few seconds without messages).",
  },
};

export default function NumberPage() {
  const { numberId } = useParams<{ numberId: string }>();
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const [pending, setPending] = useState<SessionAction | null>(null);
  const number = usePoll((signal) => api.getNumber(numberId, signal), [api, numberId], 3000);
  const events = usePoll((signal) => api.events(numberId, { limit: 30 }, signal), [api, numberId], 3000);
  const commands = usePoll((signal) => api.commands(numberId, { limit: 5 }, signal), [api, numberId], 5000);
  const canOperate = roleAtLeast(me?.role, "operator");

  async function run(action: SessionAction) {
    try {
      const result = await api.sessionCommand(numberId, action);
      toast.show({
        message: result.delivery === "direct"
          ? `${ACTIONS[action].label} sent to the daemon: done.`
          : `${ACTIONS[action].label} queued for the daemon holding this number.`,
      });
      setPending(null);
      await Promise.all([number.reload(), events.reload(), commands.reload()]);
    } catch (error) {
      toast.show({ tone: "danger", message: `${ACTIONS[action].label} failed: ${describeError(error)}` });
      setPending(null);
    }
  }

  if (number.loading) return <Loading label="Loading the number…" />;
  if (!number.data) return <ErrorState error={number.error} what="the number" onRetry={number.reload} />;
  const data = number.data;
  return (
    <>
      <p><Link href="/numbers">← All numbers</Link></p>
      <PageHeader
        title={data.label || data.phone_number}
        meta={<SessionBadge status={data.session_status} />}
        description={<span className="ns-mono">{data.phone_number}</span>}
        actions={
          <>
            <LiveIndicator updatedAt={number.updatedAt} error={number.error} />
            {canOperate
              ? (Object.keys(ACTIONS) as SessionAction[]).map((action) => (
                <Button
                  key={action}
                  variant={action === "stop" ? "danger" : action === "restart" ? "primary" : "secondary"}
                  icon={ACTIONS[action].icon}
                  onClick={() => setPending(action)}
                >
                  {ACTIONS[action].label}
                </Button>
              ))
              : null}
          </>
        }
      />
      <ConfirmDialog
        open={pending !== null}
        title={pending ? `${ACTIONS[pending].label} the session of ${data.phone_number}?` : ""}
        confirmLabel={pending ? ACTIONS[pending].label : ""}
        tone={pending === "stop" ? "danger" : "primary"}
        onCancel={() => setPending(null)}
        onConfirm={() => (pending ? run(pending) : undefined)}
      >
        <p>{pending ? ACTIONS[pending].explain : null}</p>
        <p className="ns-muted">The command is recorded in the audit log in your name.</p>
      </ConfirmDialog>
      <div className="ns-split">
        <div className="ns-stack">
          <SessionCard number={data} />
          <Card title="Connection timeline" description="Newest first, refreshed every 3 seconds" id="timeline" region>
            {events.loading
              ? <Loading label="Loading events…" />
              : events.error && !events.data
              ? <ErrorState error={events.error} what="the events" onRetry={events.reload} />
              : events.data?.data.length === 0
              ? <EmptyState id="no-events" title="No events yet">The daemon writes an event at every change of state.</EmptyState>
              : (
                <Timeline
                  label="Connection events"
                  items={(events.data?.data ?? []).map((event) => {
                    const look = eventLook(event.event);
                    return {
                      id: event.id,
                      icon: look.icon,
                      tone: look.tone,
                      title: look.word,
                      time: event.occurred_at,
                      timeLabel: `${dateTime(event.occurred_at)} (${relativeTime(event.occurred_at)})`,
                      detail: [event.reason, event.code ? `code ${event.code}` : null].filter(Boolean).join(" · ") || undefined,
                    };
                  })}
                />
              )}
          </Card>
        </div>
        <div className="ns-stack">
          {canOperate ? <PairingCard numberId={numberId} status={data.session_status} /> : null}
          <BotAssignment number={data} onChanged={number.reload} />
          <Card title="Recent commands" id="commands" region>
            {commands.loading
              ? <Loading label="Loading commands…" />
              : commands.error && !commands.data
              ? <ErrorState error={commands.error} what="the commands" onRetry={commands.reload} />
              : commands.data?.data.length === 0
              ? <p className="ns-muted">No start, stop or restart yet.</p>
              : (
                <Table label="Recent session commands">
                  <thead>
                    <tr>
                      <th scope="col">Command</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Requested</th>
                    </tr>
                  </thead>
                  <tbody>
                    {commands.data?.data.map((command) => (
                      <tr key={command.id}>
                        <th scope="row">{command.command}</th>
                        <td>
                          <Badge
                            tone={command.status === "done" ? "success" : command.status === "failed" ? "danger" : "neutral"}
                            icon={command.status === "done" ? "check" : command.status === "failed" ? "x" : "clock"}
                            title={command.error ?? undefined}
                          >
                            {command.status}
                          </Badge>
                        </td>
                        <td>{relativeTime(command.requested_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              )}
          </Card>
        </div>
      </div>
    </>
  );
}

function SessionCard({ number }: { number: WaNumber }) {
  return (
    <Card title="Session" id="session" region>
      <dl className="ns-dl">
        <dt>State</dt>
        <dd><SessionBadge status={number.session_status} /> since {dateTime(number.session_status_changed_at)}</dd>
        <dt>Last heartbeat</dt>
        <dd>{relativeTime(number.last_heartbeat_at)}</dd>
        <dt>Held by</dt>
        <dd>
          {number.lease_holder
            ? <><span className="ns-mono">{number.lease_holder}</span> until {dateTime(number.lease_expires_at)}</>
            : "no daemon holds the lease"}
        </dd>
        <dt>Transport</dt>
        <dd>{number.transport}</dd>
        <dt>Number id</dt>
        <dd className="ns-mono">{number.id}</dd>
      </dl>
    </Card>
  );
}

function BotAssignment({ number, onChanged }: { number: WaNumber; onChanged: () => Promise<void> }) {
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const bots = usePoll((signal) => api.listBots({}, signal), [api], null);
  const [busy, setBusy] = useState(false);
  const canEdit = roleAtLeast(me?.role, "admin");
  const current = bots.data?.data.find((bot) => bot.id === number.bot_id);
  return (
    <Card title="Bot" id="bot" region>
      {canEdit
        ? (
          <Field label="Serves the bot" hint="New conversations on this number go to the bot's published version.">
            {(control) => (
              <Select
                {...control}
                value={number.bot_id ?? ""}
                disabled={busy || bots.loading}
                onChange={async (event) => {
                  setBusy(true);
                  try {
                    await api.updateNumber(number.id, { bot_id: event.target.value || null });
                    toast.show({ message: event.target.value ? "Bot assigned." : "Bot unassigned." });
                    await onChanged();
                  } catch (error) {
                    toast.show({ tone: "danger", message: describeError(error) });
                  } finally {
                    setBusy(false);
                  }
                }}
              >
                <option value="">No bot</option>
                {bots.data?.data.map((bot) => <option key={bot.id} value={bot.id}>{bot.name}</option>)}
              </Select>
            )}
          </Field>
        )
        : <p>{current ? <Link href={`/bots/${current.id}`}>{current.name}</Link> : "No bot"}</p>}
    </Card>
  );
}
