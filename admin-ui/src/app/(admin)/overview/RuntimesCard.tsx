"use client";
import { useEffect, useState } from "react";
import { Badge } from "@/components/ui/Badge";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { Table } from "@/components/ui/Table";
import { useApi } from "@/lib/auth";
import { duration, relativeTime } from "@/lib/format";
import type { Runtime, RuntimeStatus } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

/** A runtime is alive while its heartbeat is younger than this. */
const STALE_AFTER_MS = 60_000;

type Probe = { state: "ok"; body: RuntimeStatus | null; latencyMs: number | null } | { state: "failed"; error: string };

/**
 * The session daemons with their heartbeat and `/status`, which the admin API
 * probes for the browser (`GET /runtimes/{id}/status`): the browser cannot
 * reach a daemon's private address itself.
 */
export function RuntimesCard() {
  const api = useApi();
  const runtimes = usePoll((signal) => api.runtimes(signal), [api], 10000);
  const [probes, setProbes] = useState<Record<string, Probe>>({});
  const ids = (runtimes.data?.data ?? []).map((runtime) => runtime.id).join(",");

  useEffect(() => {
    if (ids === "") return;
    const controller = new AbortController();
    for (const id of ids.split(",")) {
      api.runtimeStatus(id, controller.signal).then(
        (answer) =>
          setProbes((previous) => ({
            ...previous,
            [id]: answer.ok
              ? { state: "ok", body: answer.body, latencyMs: answer.latency_ms }
              : { state: "failed", error: answer.error ?? `HTTP ${answer.http_status}` },
          })),
        (error: unknown) => {
          if (controller.signal.aborted) return;
          setProbes((previous) => ({ ...previous, [id]: { state: "failed", error: String(error) } }));
        },
      );
    }
    return () => controller.abort();
  }, [api, ids, runtimes.updatedAt]);

  const list: Runtime[] = runtimes.data?.data ?? [];
  return (
    <Card title="Runtime instances" description="Session daemons, their heartbeat and /status" id="runtimes" region>
      {runtimes.loading
        ? <Loading label="Loading runtimes…" />
        : runtimes.error && !runtimes.data
        ? <ErrorState error={runtimes.error} what="the runtimes" onRetry={runtimes.reload} />
        : list.length === 0
        ? (
          <EmptyState id="no-runtimes" title="No runtime has reported in">
            Start a session daemon (<code>wabot daemon</code>); it registers itself with its first heartbeat.
          </EmptyState>
        )
        : (
          <Table label="Runtime instances">
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Health</th>
                <th scope="col">Numbers</th>
                <th scope="col">Heartbeat</th>
                <th scope="col">/status</th>
              </tr>
            </thead>
            <tbody>
              {list.map((runtime) => {
                const alive = Date.now() - Date.parse(runtime.last_heartbeat_at) < STALE_AFTER_MS;
                const probe = probes[runtime.id];
                return (
                  <tr key={runtime.id}>
                    <th scope="row">
                      <span className="ns-mono">{runtime.id}</span>
                      <div className="ns-muted">v{runtime.version}</div>
                    </th>
                    <td>
                      {alive
                        ? <Badge tone="success" icon="check">Alive</Badge>
                        : <Badge tone="danger" icon="x">Stale</Badge>}
                    </td>
                    <td>{runtime.leased_numbers}</td>
                    <td>{relativeTime(runtime.last_heartbeat_at)}</td>
                    <td>
                      <StatusCell probe={probe} url={runtime.status_url} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        )}
    </Card>
  );
}

function StatusCell({ probe, url }: { probe: Probe | undefined; url: string | null }) {
  if (url === null) return <span className="ns-muted">no status URL</span>;
  if (probe === undefined) return <span className="ns-muted">probing…</span>;
  if (probe.state === "failed") {
    return (
      <span className="ns-inline">
        <Badge tone="danger" icon="x" title={probe.error}>Unreachable</Badge>
        <span className="ns-muted">{probe.error}</span>
      </span>
    );
  }
  const body = probe.body;
  return (
    <span className="ns-inline">
      {body?.database?.reachable === false
        ? <Badge tone="danger" icon="x">Database unreachable</Badge>
        : <Badge tone="success" icon="check">OK</Badge>}
      {body?.uptime_seconds !== undefined ? <span className="ns-muted">up {duration(body.uptime_seconds)}</span> : null}
      {body?.sessions ? <span className="ns-muted">{body.sessions.total} {body.sessions.total === 1 ? "session" : "sessions"}</span> : null}
      {probe.latencyMs !== null ? <span className="ns-muted">{probe.latencyMs} ms</span> : null}
    </span>
  );
}
