"use client";
/**
 * Overview: sessions by state, open alerts, the last 24 hours of messages
 * and the runtime instances, refreshed every 5 seconds.
 */
import Link from "next/link";
import { SessionBadge, SeverityBadge } from "@/components/StatusBadges";
import { BarChart } from "@/components/ui/BarChart";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { PageHeader } from "@/components/ui/PageHeader";
import { Stat } from "@/components/ui/Stat";
import { LiveIndicator } from "@/components/LiveIndicator";
import { useApi } from "@/lib/auth";
import { plural, relativeTime } from "@/lib/format";
import { SESSION_STATUSES } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";
import { RuntimesCard } from "./RuntimesCard";

export default function OverviewPage() {
  const api = useApi();
  const dashboard = usePoll((signal) => api.dashboard(signal), [api], 5000);
  const data = dashboard.data;
  const states = data
    ? SESSION_STATUSES.filter((state) => (data.sessions_by_state[state] ?? 0) > 0)
    : [];
  return (
    <>
      <PageHeader
        title="Overview"
        description="Sessions, alerts, traffic and runtimes at a glance."
        actions={<LiveIndicator updatedAt={dashboard.updatedAt} error={dashboard.error} />}
      />
      {dashboard.error && data ? <ErrorState error={dashboard.error} what="the latest figures" onRetry={dashboard.reload} /> : null}
      {dashboard.loading
        ? <Loading label="Loading the dashboard…" />
        : !data
        ? <ErrorState error={dashboard.error} what="the dashboard" onRetry={dashboard.reload} />
        : (
          <div className="ns-stack">
            <div className="ns-grid">
              <Card title="Sessions" description={`${plural(data.numbers_total, "number")} in all`} id="sessions" region>
                {states.length === 0
                  ? <EmptyState id="no-numbers" title="No numbers yet">Add a number under Numbers to start a session.</EmptyState>
                  : (
                    <ul className="ns-list-reset ns-session-counts">
                      {states.map((state) => (
                        <li key={state}>
                          <Link href={`/numbers?status=${state}`} className="ns-session-count">
                            <SessionBadge status={state} />
                            <span className="ns-session-count__value">{data.sessions_by_state[state]}</span>
                          </Link>
                        </li>
                      ))}
                    </ul>
                  )}
              </Card>
              <Card
                title="Unresolved alerts"
                description="Open or acknowledged"
                id="open-alerts"
                region
                actions={<Link href="/alerts">All alerts</Link>}
              >
                <div className="ns-inline" style={{ gap: "var(--ns-space-5)", marginBottom: "var(--ns-space-3)" }}>
                  <Stat value={data.open_alerts.by_severity.critical} label="critical" />
                  <Stat value={data.open_alerts.by_severity.warning} label="warning" />
                  <Stat value={data.open_alerts.by_severity.info} label="info" />
                </div>
                {data.open_alerts.latest.length === 0
                  ? <EmptyState id="no-alerts" title="All quiet">No unresolved alerts.</EmptyState>
                  : (
                    <ul className="ns-list-reset ns-alert-list">
                      {data.open_alerts.latest.slice(0, 5).map((alert) => (
                        <li key={alert.id}>
                          <SeverityBadge severity={alert.severity} />{" "}
                          <Link href={`/alerts/${alert.id}`}>{alert.title}</Link>{" "}
                          <span className="ns-muted">{relativeTime(alert.created_at)}</span>
                        </li>
                      ))}
                    </ul>
                  )}
              </Card>
            </div>
            <Card title="Messages, last 24 hours" description="Per hour (UTC), inbound and outbound" id="volume" region>
              <BarChart
                id="volume-chart"
                title="Messages per hour over the last 24 hours"
                data={data.messages_per_hour.map((point) => ({
                  key: point.hour,
                  label: `${new Date(point.hour).getUTCHours().toString().padStart(2, "0")}:00`,
                  inbound: point.inbound,
                  outbound: point.outbound,
                }))}
              />
            </Card>
            <RuntimesCard />
          </div>
        )}
    </>
  );
}
