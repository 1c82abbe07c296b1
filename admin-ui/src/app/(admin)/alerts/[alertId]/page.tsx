"use client";
/**
 * One alert: what happened, recommended actions, acknowledge, resolve, the
 * post-incident summary (stored on the alert and in the audit log), the
 * escalation state and every notification attempt.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { EscalationState } from "@/components/EscalationState";
import { AlertStatusBadge, SeverityBadge } from "@/components/StatusBadges";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Table } from "@/components/ui/Table";
import { Textarea } from "@/components/ui/Textarea";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { dateTime, humanize, relativeTime, shortId } from "@/lib/format";
import { roleAtLeast } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export default function AlertPage() {
  const { alertId } = useParams<{ alertId: string }>();
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const alert = usePoll((signal) => api.getAlert(alertId, signal), [api, alertId], 5000);
  const deliveries = usePoll((signal) => api.deliveries(alertId, signal), [api, alertId], 15000);
  const [summary, setSummary] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmResolve, setConfirmResolve] = useState(false);
  const canOperate = roleAtLeast(me?.role, "operator");
  const who = (userId: string | null) => (userId === null ? "the platform" : userId === me?.user_id ? "you" : shortId(userId));

  async function act(name: string, action: () => Promise<unknown>, success: string) {
    setBusy(name);
    try {
      await action();
      toast.show({ message: success });
      await alert.reload();
      return true;
    } catch (error) {
      toast.show({ tone: "danger", message: describeError(error) });
      return false;
    } finally {
      setBusy(null);
    }
  }

  if (alert.loading) return <Loading label="Loading the alert…" />;
  if (!alert.data) return <ErrorState error={alert.error} what="the alert" onRetry={alert.reload} />;
  const data = alert.data;
  const recommended = Array.isArray(data.details.recommended_actions) ? (data.details.recommended_actions as unknown[]) : [];

  return (
    <>
      <p><Link href="/alerts">← All alerts</Link></p>
      <PageHeader
        title={data.title}
        meta={<><SeverityBadge severity={data.severity} /> <AlertStatusBadge status={data.status} /></>}
        description={<span className="ns-mono">{data.kind} · {data.dedupe_key}</span>}
        actions={canOperate
          ? (
            <>
              {data.status === "open"
                ? (
                  <Button icon="eye" loading={busy === "ack"} onClick={() => act("ack", () => api.acknowledgeAlert(alertId), "Acknowledged: escalation stopped.")}>
                    Acknowledge
                  </Button>
                )
                : null}
              {data.status !== "resolved"
                ? <Button variant="secondary" icon="check" onClick={() => setConfirmResolve(true)}>Resolve</Button>
                : null}
            </>
          )
          : null}
      />
      <div className="ns-split">
        <div className="ns-stack">
          <Card title="What happened" id="alert-details" region>
            <dl className="ns-dl">
              <dt>Opened</dt>
              <dd>{dateTime(data.created_at)} ({relativeTime(data.created_at)})</dd>
              {data.number_id
                ? (
                  <>
                    <dt>Number</dt>
                    <dd><Link href={`/numbers/${data.number_id}`}>Open the number and its timeline</Link></dd>
                  </>
                )
                : null}
              {data.runtime_instance_id
                ? (
                  <>
                    <dt>Runtime</dt>
                    <dd className="ns-mono">{data.runtime_instance_id}</dd>
                  </>
                )
                : null}
              <dt>Escalation</dt>
              <dd><EscalationState alert={data} /></dd>
              <dt>Acknowledged</dt>
              <dd>{data.acknowledged_at ? `${dateTime(data.acknowledged_at)} by ${who(data.acknowledged_by)}` : "not yet"}</dd>
              <dt>Resolved</dt>
              <dd>{data.resolved_at ? `${dateTime(data.resolved_at)}${data.resolved_by ? ` by ${who(data.resolved_by)}` : " (recovered)"}` : "not yet"}</dd>
              <dt>Flapping</dt>
              <dd>{data.flapping ? <Badge tone="warning" icon="restart">Flapping ({data.flap_count} flaps)</Badge> : `no (${data.flap_count} flaps)`}</dd>
              {data.healthy_since
                ? (
                  <>
                    <dt>Healthy since</dt>
                    <dd>{dateTime(data.healthy_since)}</dd>
                  </>
                )
                : null}
            </dl>
            {recommended.length > 0
              ? (
                <>
                  <h3 className="ns-section-title">Recommended actions</h3>
                  <ul>
                    {recommended.map((action, index) => (
                      <li key={index}>{typeof action === "string" ? humanize(action) : JSON.stringify(action)}</li>
                    ))}
                  </ul>
                </>
              )
              : null}
            <details>
              <summary>All details (JSON)</summary>
              <pre className="ns-pre">{JSON.stringify(data.details, null, 2)}</pre>
            </details>
          </Card>
          <Card title="Notifications" description="Every attempt to tell a channel" id="deliveries" region>
            {deliveries.loading
              ? <Loading label="Loading notifications…" />
              : deliveries.error && !deliveries.data
              ? <ErrorState error={deliveries.error} what="the notifications" onRetry={deliveries.reload} />
              : deliveries.data?.data.length === 0
              ? <p className="ns-muted">No notification attempts yet (no channel matched, or they are still queued).</p>
              : (
                <Table label="Notification attempts">
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Status</th>
                      <th scope="col">Attempt</th>
                      <th scope="col">Response</th>
                    </tr>
                  </thead>
                  <tbody>
                    {deliveries.data?.data.map((delivery) => (
                      <tr key={delivery.id}>
                        <th scope="row">{dateTime(delivery.attempted_at)}</th>
                        <td>
                          <Badge
                            tone={delivery.status === "sent" ? "success" : delivery.status === "failed" ? "danger" : "neutral"}
                            icon={delivery.status === "sent" ? "check" : delivery.status === "failed" ? "x" : "stop"}
                          >
                            {delivery.status}
                          </Badge>
                        </td>
                        <td>{delivery.attempt}</td>
                        <td>{delivery.response_code ?? ""} {delivery.error ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              )}
          </Card>
        </div>
        <Card title="Post-incident summary" id="summary" region description="Stored on the alert and in the audit log in your name.">
          {data.summary ? <blockquote className="ns-summary">{data.summary}</blockquote> : <p className="ns-muted">No summary yet.</p>}
          {canOperate
            ? (
              <form
                onSubmit={async (event) => {
                  event.preventDefault();
                  if (summary.trim() === "") return;
                  const ok = await act("summary", () => api.summarizeAlert(alertId, summary.trim()), "Summary recorded in the audit log.");
                  if (ok) setSummary("");
                }}
              >
                <Field label={data.summary ? "Replace the summary" : "Summary"} hint="What happened, when, what fixed it.">
                  {(control) => <Textarea {...control} rows={4} value={summary} onChange={(event) => setSummary(event.target.value)} />}
                </Field>
                <div className="ns-button-row" style={{ marginTop: "var(--ns-space-2)" }}>
                  <Button type="submit" variant="secondary" icon="check" loading={busy === "summary"} disabled={summary.trim() === ""}>
                    Save summary
                  </Button>
                </div>
              </form>
            )
            : null}
        </Card>
      </div>
      <ConfirmDialog
        open={confirmResolve}
        title="Resolve this alert?"
        confirmLabel="Resolve"
        onCancel={() => setConfirmResolve(false)}
        onConfirm={async () => {
          await act("resolve", () => api.resolveAlert(alertId, summary.trim() || undefined), "Resolved.");
          setConfirmResolve(false);
        }}
      >
        <p>
          {summary.trim()
            ? "The summary you typed is saved with it."
            : "Add a post-incident summary first if there is one to tell; you can also add it later."}
        </p>
      </ConfirmDialog>
    </>
  );
}
