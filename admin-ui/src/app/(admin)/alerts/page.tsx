"use client";
/** Alerts: open first, filterable by status and severity, with escalation; live. */
import Link from "next/link";
import { useState } from "react";
import { LiveIndicator } from "@/components/LiveIndicator";
import { AlertStatusBadge, SeverityBadge } from "@/components/StatusBadges";
import { EscalationState } from "@/components/EscalationState";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { Table } from "@/components/ui/Table";
import { useApi } from "@/lib/auth";
import { relativeTime } from "@/lib/format";
import type { AlertStatus, Severity } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

const STATUS_FILTERS: Record<string, AlertStatus[] | undefined> = {
  active: ["open", "acknowledged"],
  open: ["open"],
  acknowledged: ["acknowledged"],
  resolved: ["resolved"],
  all: undefined,
};

export default function AlertsPage() {
  const api = useApi();
  const [status, setStatus] = useState("active");
  const [severity, setSeverity] = useState<"" | Severity>("");
  const [kind, setKind] = useState("");
  const alerts = usePoll(
    (signal) =>
      api.listAlerts(
        { status: STATUS_FILTERS[status], severity: severity ? [severity] : undefined, kind: kind.trim() || undefined, limit: 100 },
        signal,
      ),
    [api, status, severity, kind],
    5000,
  );
  return (
    <>
      <PageHeader
        title="Alerts"
        description="Opened by the health checks; acknowledge to stop the 30-minute escalation, resolve with a summary."
        actions={<LiveIndicator updatedAt={alerts.updatedAt} error={alerts.error} />}
      />
      <form className="ns-filters" role="search" aria-label="Filter alerts" onSubmit={(event) => event.preventDefault()}>
        <Field label="Status">
          {(control) => (
            <Select {...control} value={status} onChange={(event) => setStatus(event.target.value)}>
              <option value="active">Open or acknowledged</option>
              <option value="open">Open</option>
              <option value="acknowledged">Acknowledged</option>
              <option value="resolved">Resolved</option>
              <option value="all">All</option>
            </Select>
          )}
        </Field>
        <Field label="Severity">
          {(control) => (
            <Select {...control} value={severity} onChange={(event) => setSeverity(event.target.value as typeof severity)}>
              <option value="">Any severity</option>
              <option value="critical">Critical</option>
              <option value="warning">Warning</option>
              <option value="info">Info</option>
            </Select>
          )}
        </Field>
        <Field label="Kind">
          {(control) => <Input {...control} placeholder="e.g. session_down" value={kind} onChange={(event) => setKind(event.target.value)} />}
        </Field>
      </form>
      {alerts.loading
        ? <Loading label="Loading alerts…" />
        : alerts.error && !alerts.data
        ? <ErrorState error={alerts.error} what="the alerts" onRetry={alerts.reload} />
        : alerts.data?.data.length === 0
        ? <EmptyState id="alerts-empty" title="No alerts here">Nothing matches these filters. All quiet.</EmptyState>
        : (
          <Table label="Alerts">
            <thead>
              <tr>
                <th scope="col">Alert</th>
                <th scope="col">Severity</th>
                <th scope="col">Status</th>
                <th scope="col">Escalation</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {alerts.data?.data.map((alert) => (
                <tr key={alert.id}>
                  <th scope="row">
                    <Link href={`/alerts/${alert.id}`}>{alert.title}</Link>
                    <div className="ns-muted ns-mono">{alert.kind}{alert.flapping ? " · flapping" : ""}</div>
                  </th>
                  <td><SeverityBadge severity={alert.severity} /></td>
                  <td><AlertStatusBadge status={alert.status} /></td>
                  <td><EscalationState alert={alert} /></td>
                  <td>{relativeTime(alert.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
    </>
  );
}
