/**
 * The health check's work: judge numbers and runtimes with the Wasm health
 * evaluator, reconcile the alerts with the Wasm alerting core, and write
 * what they decide.
 *
 * One call is either a **sweep** (every number, and a probe of every live
 * runtime's `/status`) or the evaluation of **one number** (after a
 * connection event). Either way:
 *
 * 1. Runtime probes run first, concurrently, each bounded by
 *    {@link PROBE_TIMEOUT_MS}, outside any transaction.
 * 2. One service-role transaction, serialised with other health checks by
 *    an advisory lock, reads every snapshot in a single statement (the
 *    numbers, their recent connection losses, and their recent messages,
 *    built as one JSON document by Postgres), the open alerts the health
 *    check owns (keys `number:<id>:session` and `runtime:<id>:status`) and
 *    the ones resolved within the flap window.
 * 3. `evaluate_all` judges the numbers, `evaluate_runtime` the probes;
 *    their alert actions become reconcile signals, and `reconcile` turns
 *    them into alert changes.
 * 4. The changes are written in bulk (one insert for new alerts, one update
 *    for the rest; several changes to one alert merge into one update, so
 *    each alert moves once per check). An `update` that changes only the
 *    detail text is not written: the text counts seconds, so it would
 *    otherwise rewrite (and dispatch) every open alert at every sweep. The `alerts` triggers enqueue the
 *    `alert-dispatch` events. `restart_session` recommendations become
 *    `session_commands` restart rows, at most one per number per
 *    {@link RESTART_COOLDOWN}; `pause_sending` and `re_pair`, which need the
 *    daemon's pacing or a person, are recorded in the alert's `details`.
 *
 * Everything the evaluators need is read in step 2 at the transaction's
 * `now()`, which is also the `now_ms` they are given, so verdicts and the
 * timestamps written agree.
 *
 * @module
 */

import type { Tx } from "../_shared/db.ts";
import { alerting } from "../_shared/alerting.ts";
import { health } from "../_shared/health.ts";

/** How long a runtime's `/status` may take before it counts as unreachable. */
export const PROBE_TIMEOUT_MS = 3000;

/** Runtimes silent for longer than this are no longer probed. */
export const PROBED_RUNTIME_MAX_SILENCE = "10 minutes";

/** At most one automatic restart per number within this interval. */
export const RESTART_COOLDOWN = "5 minutes";

/**
 * How far back the sweep reads messages. It covers the evaluator's longest
 * look-back (15 minutes of inbound silence) with room to spare.
 */
const MESSAGE_LOOKBACK = "1 hour";

/** Connection losses older than this do not count for flapping (the evaluator's default window). */
const EVENT_LOOKBACK = "10 minutes";

/** Alerts resolved within this window are remembered for flap detection (the reconcile default). */
const RECENTLY_RESOLVED_WINDOW = "1 hour";

type Severity = "info" | "warning" | "critical";

/** A recommended action of a health verdict (crates/health/src/verdict.rs). */
type RecommendedAction =
  | { action: "restart_session" }
  | { action: "pause_sending"; until_ms: number | null }
  | { action: "re_pair" }
  | { action: "open_alert"; kind: string; severity: Severity; dedupe_key: string }
  | { action: "resolve_alert"; dedupe_key: string };

/** A verdict on a number. */
interface Verdict {
  number_id: string;
  condition: string;
  severity: Severity;
  reason: string;
  actions: RecommendedAction[];
}

/** A verdict on a runtime. */
interface RuntimeVerdict {
  runtime_id: string;
  condition: string;
  severity: Severity;
  reason: string;
  actions: RecommendedAction[];
}

/** The result of probing a runtime's `/status`. */
export interface RuntimeProbe {
  runtime_id: string;
  http_status: number | null;
  latency_ms: number | null;
  body: unknown;
  error: string | null;
}

/** A reconcile signal (crates/alerting/src/reconcile.rs). */
interface Signal {
  dedupe_key: string;
  kind: string;
  severity: Severity;
  subject: string;
  healthy: boolean;
  detail: string;
}

/** An alert change (crates/alerting/src/reconcile.rs). */
type AlertChange =
  | {
    change: "open";
    dedupe_key: string;
    kind: string;
    severity: Severity;
    subject: string;
    detail: string;
    flap_count: number;
    last_flap_at_ms: number | null;
    flapping: boolean;
  }
  | {
    change: "update";
    alert_id: string;
    dedupe_key: string;
    kind: string;
    severity: Severity;
    previous_kind: string;
    previous_severity: Severity;
    subject: string;
    detail: string;
  }
  | { change: "recovering"; alert_id: string; dedupe_key: string; healthy_since_ms: number }
  | {
    change: "relapsed";
    alert_id: string;
    dedupe_key: string;
    kind: string;
    severity: Severity;
    subject: string;
    detail: string;
    flap_count: number;
    last_flap_at_ms: number;
    flapping: boolean;
  }
  | { change: "escalate"; alert_id: string; dedupe_key: string; escalated_at_ms: number }
  | {
    change: "resolve";
    alert_id: string;
    dedupe_key: string;
    reason: "healthy" | "duplicate";
  };

/** What one check did, for the response and the logs. */
export interface CheckReport {
  /** `sweep` or `number`. */
  scope: "sweep" | "number";
  numbers: number;
  runtimes: number;
  /** Verdicts by condition. */
  conditions: Record<string, number>;
  /** Alert changes by kind of change. */
  changes: Record<string, number>;
  /** Restart commands written. */
  restarts: number;
  /** Milliseconds spent in each phase. */
  timings_ms: Record<string, number>;
}

/** Where a runtime's `/status` answers, from `runtime_instances`. */
export interface ProbeTarget {
  id: string;
  status_url: string;
}

/** Lists the runtimes a sweep probes: those with a status URL and a recent heartbeat. */
export async function probeTargets(tx: Tx): Promise<ProbeTarget[]> {
  return await tx<ProbeTarget[]>`
    select id, status_url from public.runtime_instances
    where status_url is not null
      and last_heartbeat_at > now() - ${PROBED_RUNTIME_MAX_SILENCE}::interval
    order by id`;
}

/** Calls one runtime's `/status` with a timeout; never throws. */
export async function probeRuntime(target: ProbeTarget): Promise<RuntimeProbe> {
  const started = performance.now();
  try {
    const response = await fetch(target.status_url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return {
      runtime_id: target.id,
      http_status: response.status,
      latency_ms: Math.round(performance.now() - started),
      body,
      error: null,
    };
  } catch (error) {
    const reason = error instanceof DOMException && error.name === "TimeoutError"
      ? `timed out after ${PROBE_TIMEOUT_MS} ms`
      : error instanceof Error
      ? error.message
      : String(error);
    return {
      runtime_id: target.id,
      http_status: null,
      latency_ms: Math.round(performance.now() - started),
      body: null,
      error: reason,
    };
  }
}

/** An open or acknowledged alert, as the reconcile input wants it. */
interface OpenAlertRow {
  id: string;
  dedupe_key: string;
  kind: string;
  severity: Severity;
  subject: string;
  detail: string;
  status: "open" | "acknowledged";
  opened_at_ms: number;
  acknowledged_at_ms: number | null;
  escalated_at_ms: number | null;
  healthy_since_ms: number | null;
  flap_count: number;
  last_flap_at_ms: number | null;
  flapping: boolean;
}

/** Milliseconds since `started`, rounded to a tenth. */
function since(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** The SQL text of a like-pattern that matches one number's alert key, or every one. */
function numberKeyPattern(numberId: string | null): string {
  return numberId === null ? "number:%:session" : `number:${numberId}:session`;
}

/**
 * The operator's overrides of the evaluator's thresholds and the reconcile's
 * timing rules (`private.settings` keys `health_thresholds` and
 * `alert_reconcile`); `{}` keeps the core's defaults.
 */
export interface CheckSettings {
  health_thresholds: Record<string, unknown>;
  alert_reconcile: Record<string, unknown>;
}

/** Reads the {@link CheckSettings} in the check's transaction. */
export async function readCheckSettings(tx: Tx): Promise<CheckSettings> {
  const [row] = await tx<{ settings: CheckSettings }[]>`select private.health_check_settings() as settings`;
  return row.settings;
}

/**
 * Runs one check inside the caller's service-role transaction: reads the
 * snapshots (all numbers when `numberId` is null), judges them and the
 * `probes`, reconciles the alerts and writes the changes.
 */
export async function runCheck(
  tx: Tx,
  numberId: string | null,
  probes: RuntimeProbe[],
): Promise<CheckReport> {
  const timings: Record<string, number> = {};
  const settings = await readCheckSettings(tx);
  let started = performance.now();

  // Health checks take turns: two concurrent checks would reconcile from
  // the same open alerts and both write.
  await tx`select pg_advisory_xact_lock(hashtext('wabot.health-check'))`;

  const [snapshotRow] = await tx`
    with target as (
      select n.id, n.phone_number, n.label, n.session_status, n.session_status_changed_at,
             n.last_heartbeat_at
      from public.numbers as n
      where ${numberId}::uuid is null or n.id = ${numberId}::uuid
    ),
    losses as (
      select e.number_id,
             json_agg(json_build_object(
               'at_ms', (extract(epoch from e.occurred_at) * 1000)::bigint,
               'kind', case e.event
                 when 'qr' then 'qr_shown'
                 when 'pairing_code' then 'pair_code_shown'
                 else e.event end)
               order by e.occurred_at) as recent_events
      from public.number_connection_events as e
      where e.occurred_at > now() - ${EVENT_LOOKBACK}::interval
        and e.event in ('disconnected', 'stream_replaced', 'client_outdated', 'temporary_ban')
        and (${numberId}::uuid is null or e.number_id = ${numberId}::uuid)
      group by e.number_id
    ),
    traffic as (
      select m.number_id,
             max(m.created_at) filter (where m.direction = 'inbound') as last_inbound_at,
             max(m.sent_at) filter (
               where m.direction = 'outbound' and m.status in ('sent', 'delivered', 'read')) as last_sent_at,
             json_agg((extract(epoch from m.failed_at) * 1000)::bigint) filter (
               where m.direction = 'outbound' and m.status = 'failed' and m.failed_at is not null)
               as failures
      from public.messages as m
      where m.created_at > now() - ${MESSAGE_LOOKBACK}::interval
        and (${numberId}::uuid is null or m.number_id = ${numberId}::uuid)
      group by m.number_id
    )
    select
      (extract(epoch from now()) * 1000)::bigint as now_ms,
      coalesce(json_agg(json_strip_nulls(json_build_object(
        'number_id', t.id,
        'state', t.session_status,
        'since_ms', (extract(epoch from t.session_status_changed_at) * 1000)::bigint,
        'last_heartbeat_ms', (extract(epoch from t.last_heartbeat_at) * 1000)::bigint,
        'last_inbound_ms', (extract(epoch from k.last_inbound_at) * 1000)::bigint,
        'last_send_success_ms', (extract(epoch from k.last_sent_at) * 1000)::bigint,
        'recent_send_failures_ms', k.failures,
        'recent_events', l.recent_events,
        'rate_limited_until_ms', r.until_ms
      )) order by t.id), '[]')::text as snapshots,
      coalesce(json_object_agg(t.id, case when t.label = '' then t.phone_number
                                          else t.phone_number || ' (' || t.label || ')' end)
               filter (where t.id is not null), '{}')::text as subjects
    from target as t
    left join losses as l on l.number_id = t.id
    left join traffic as k on k.number_id = t.id
    left join lateral (
      select coalesce(
               case when e.detail ->> 'until_ms' ~ '^[0-9]{1,15}$' then (e.detail ->> 'until_ms')::bigint end,
               case when e.detail ->> 'until' ~ '^[0-9]{4}-' then
                 (extract(epoch from (e.detail ->> 'until')::timestamptz) * 1000)::bigint end
             ) as until_ms
      from public.number_connection_events as e
      where t.session_status = 'rate_limited' and e.number_id = t.id
        and e.event in ('rate_limited', 'temporary_ban')
      order by e.occurred_at desc
      limit 1
    ) as r on true`;
  const nowMs = Number(snapshotRow.now_ms);
  const snapshots = JSON.parse(snapshotRow.snapshots) as Array<{ number_id: string }>;
  const subjects = JSON.parse(snapshotRow.subjects) as Record<string, string>;
  timings.read_snapshots = since(started);

  started = performance.now();
  const keyPattern = numberKeyPattern(numberId);
  const openAlerts = await tx<OpenAlertRow[]>`
    select a.id, a.dedupe_key, a.kind, a.severity,
           coalesce(a.details ->> 'subject', a.number_id::text, a.runtime_instance_id, a.dedupe_key) as subject,
           coalesce(a.details ->> 'detail', '') as detail,
           a.status,
           (extract(epoch from a.created_at) * 1000)::float8 as opened_at_ms,
           (extract(epoch from a.acknowledged_at) * 1000)::float8 as acknowledged_at_ms,
           (extract(epoch from a.escalated_at) * 1000)::float8 as escalated_at_ms,
           (extract(epoch from a.healthy_since) * 1000)::float8 as healthy_since_ms,
           a.flap_count,
           (extract(epoch from a.last_flap_at) * 1000)::float8 as last_flap_at_ms,
           a.flapping
    from public.alerts as a
    where a.status in ('open', 'acknowledged')
      and (a.dedupe_key like ${keyPattern}
           or (${numberId}::uuid is null and a.dedupe_key like 'runtime:%:status'))
    order by a.created_at, a.id`;
  const recentlyResolved = await tx`
    select distinct on (a.dedupe_key) a.dedupe_key,
           (extract(epoch from a.resolved_at) * 1000)::float8 as resolved_at_ms, a.flap_count
    from public.alerts as a
    where a.status = 'resolved' and a.resolved_at > now() - ${RECENTLY_RESOLVED_WINDOW}::interval
      and (a.dedupe_key like ${keyPattern}
           or (${numberId}::uuid is null and a.dedupe_key like 'runtime:%:status'))
    order by a.dedupe_key, a.resolved_at desc`;
  timings.read_alerts = since(started);

  started = performance.now();
  const verdicts = snapshots.length === 0
    ? []
    : health<Verdict[]>("evaluate_all", { snapshots, thresholds: settings.health_thresholds, now_ms: nowMs });
  const runtimeVerdicts = probes.map((probe) =>
    health<RuntimeVerdict>("evaluate_runtime", {
      probe: {
        runtime_id: probe.runtime_id,
        http_status: probe.http_status,
        latency_ms: probe.latency_ms,
        body: probe.body,
        error: probe.error,
      },
    })
  );
  timings.evaluate = since(started);

  started = performance.now();
  const openKeys = new Set(openAlerts.map((alert) => alert.dedupe_key));
  const signals: Signal[] = [];
  const conditions: Record<string, number> = {};
  const restartNumberIds: string[] = [];
  /** Per dedupe key: the verdict's condition and its other recommendations. */
  const context = new Map<string, { condition: string; recommendations: RecommendedAction[] }>();
  const addSignals = (
    subjectId: string,
    subject: string,
    verdict: { condition: string; severity: Severity; reason: string; actions: RecommendedAction[] },
  ) => {
    conditions[verdict.condition] = (conditions[verdict.condition] ?? 0) + 1;
    const recommendations = verdict.actions.filter((action) =>
      action.action !== "open_alert" && action.action !== "resolve_alert"
    );
    for (const action of verdict.actions) {
      if (action.action === "open_alert") {
        signals.push({
          dedupe_key: action.dedupe_key,
          kind: action.kind,
          severity: action.severity,
          subject,
          healthy: false,
          detail: verdict.reason,
        });
        context.set(action.dedupe_key, { condition: verdict.condition, recommendations });
      } else if (action.action === "resolve_alert" && openKeys.has(action.dedupe_key)) {
        // A healthy signal matters only to an open alert; leaving the rest
        // out keeps a sweep of healthy numbers cheap.
        signals.push({
          dedupe_key: action.dedupe_key,
          kind: verdict.condition,
          severity: "info",
          subject,
          healthy: true,
          detail: verdict.reason,
        });
      } else if (action.action === "restart_session") {
        restartNumberIds.push(subjectId);
      }
    }
  };
  for (const verdict of verdicts) {
    addSignals(verdict.number_id, subjects[verdict.number_id] ?? verdict.number_id, verdict);
  }
  for (const verdict of runtimeVerdicts) {
    addSignals(verdict.runtime_id, verdict.runtime_id, verdict);
  }

  const changes = signals.length === 0 && openAlerts.length === 0
    ? []
    : alerting<AlertChange[]>("reconcile", {
      signals,
      open_alerts: openAlerts.map((alert) => ({
        ...alert,
        opened_at_ms: Math.round(alert.opened_at_ms),
        acknowledged_at_ms: roundOrNull(alert.acknowledged_at_ms),
        escalated_at_ms: roundOrNull(alert.escalated_at_ms),
        healthy_since_ms: roundOrNull(alert.healthy_since_ms),
        last_flap_at_ms: roundOrNull(alert.last_flap_at_ms),
      })),
      recently_resolved: recentlyResolved.map((row) => ({
        dedupe_key: row.dedupe_key,
        resolved_at_ms: Math.round(row.resolved_at_ms),
        flap_count: row.flap_count,
      })),
      now_ms: nowMs,
      config: settings.alert_reconcile,
    });
  timings.reconcile = since(started);

  started = performance.now();
  const changeCounts = await writeChanges(tx, changes, context);
  const restarts = restartNumberIds.length === 0 ? 0 : await writeRestarts(tx, restartNumberIds);
  timings.write = since(started);

  return {
    scope: numberId === null ? "sweep" : "number",
    numbers: snapshots.length,
    runtimes: probes.length,
    conditions,
    changes: changeCounts,
    restarts,
    timings_ms: timings,
  };
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** The subject id of a health-check key: the number id or the runtime id. */
function subjectOfKey(dedupeKey: string): { numberId: string | null; runtimeId: string | null } {
  const number = /^number:(.+):session$/.exec(dedupeKey);
  if (number !== null) return { numberId: number[1], runtimeId: null };
  const runtime = /^runtime:(.+):status$/.exec(dedupeKey);
  return { numberId: null, runtimeId: runtime === null ? null : runtime[1] };
}

/** The `details` an alert carries about its latest verdict. */
function verdictDetails(
  subject: string,
  detail: string,
  context: { condition: string; recommendations: RecommendedAction[] } | undefined,
): Record<string, unknown> {
  return {
    subject,
    detail,
    condition: context?.condition ?? null,
    recommended_actions: context?.recommendations ?? [],
  };
}

/** A column update of one alert, merged from its changes; absent keys stay as they are. */
type AlertPatch = Record<string, unknown>;

/**
 * Writes the reconcile changes: one insert for the new alerts, one update
 * for the rest. Returns the written changes by kind.
 */
async function writeChanges(
  tx: Tx,
  changes: AlertChange[],
  context: Map<string, { condition: string; recommendations: RecommendedAction[] }>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const inserts: Record<string, unknown>[] = [];
  const patches = new Map<string, AlertPatch>();
  const patch = (alertId: string) => {
    let existing = patches.get(alertId);
    if (existing === undefined) {
      existing = { id: alertId };
      patches.set(alertId, existing);
    }
    return existing;
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const change of changes) {
    if (
      change.change !== "update" || change.kind !== change.previous_kind ||
      change.severity !== change.previous_severity
    ) {
      counts[change.change] = (counts[change.change] ?? 0) + 1;
    }
    switch (change.change) {
      case "open": {
        const { numberId, runtimeId } = subjectOfKey(change.dedupe_key);
        inserts.push({
          kind: change.kind,
          severity: change.severity,
          number_id: numberId,
          runtime_instance_id: runtimeId,
          dedupe_key: change.dedupe_key,
          title: `${change.kind.replaceAll("_", " ")} on ${change.subject}`,
          details: verdictDetails(change.subject, change.detail, context.get(change.dedupe_key)),
          flap_count: change.flap_count,
          last_flap_at: change.last_flap_at_ms === null ? null : iso(change.last_flap_at_ms),
          flapping: change.flapping,
        });
        break;
      }
      case "update":
        // The detail alone (say, "disconnected for 300 s" becoming "for
        // 360 s") changes at every sweep; writing it would dispatch an
        // event per open alert per minute. Only a new kind or severity is
        // written.
        if (change.kind === change.previous_kind && change.severity === change.previous_severity) continue;
        Object.assign(patch(change.alert_id), {
          kind: change.kind,
          severity: change.severity,
          title: `${change.kind.replaceAll("_", " ")} on ${change.subject}`,
          details: verdictDetails(change.subject, change.detail, context.get(change.dedupe_key)),
        });
        break;
      case "recovering":
        Object.assign(patch(change.alert_id), { healthy_since: iso(change.healthy_since_ms) });
        break;
      case "relapsed":
        Object.assign(patch(change.alert_id), {
          kind: change.kind,
          severity: change.severity,
          title: `${change.kind.replaceAll("_", " ")} on ${change.subject}`,
          details: verdictDetails(change.subject, change.detail, context.get(change.dedupe_key)),
          healthy_since: null,
          flap_count: change.flap_count,
          last_flap_at: iso(change.last_flap_at_ms),
          flapping: change.flapping,
        });
        break;
      case "escalate":
        Object.assign(patch(change.alert_id), { escalated_at: iso(change.escalated_at_ms) });
        break;
      case "resolve":
        Object.assign(patch(change.alert_id), {
          status: "resolved",
          details: { resolve_reason: change.reason },
        });
        break;
    }
  }

  if (inserts.length > 0) {
    await tx`
      insert into public.alerts
        (kind, severity, number_id, runtime_instance_id, dedupe_key, title, details,
         flap_count, last_flap_at, flapping)
      select r.kind, r.severity,
             (select n.id from public.numbers as n where n.id = r.number_id),
             (select i.id from public.runtime_instances as i where i.id = r.runtime_instance_id),
             r.dedupe_key, r.title, r.details, r.flap_count, r.last_flap_at, r.flapping
      from jsonb_to_recordset(${tx.json(inserts as never)}::jsonb) as r(
        kind text, severity text, number_id uuid, runtime_instance_id text, dedupe_key text,
        title text, details jsonb, flap_count integer, last_flap_at timestamptz, flapping boolean)
      on conflict (dedupe_key) where status in ('open', 'acknowledged') do nothing`;
  }
  if (patches.size > 0) {
    await tx`
      update public.alerts as a
      set kind = coalesce(p.patch ->> 'kind', a.kind),
          severity = coalesce(p.patch ->> 'severity', a.severity),
          title = coalesce(p.patch ->> 'title', a.title),
          details = a.details || coalesce(p.patch -> 'details', '{}'::jsonb),
          healthy_since = case when p.patch ? 'healthy_since'
                               then (p.patch ->> 'healthy_since')::timestamptz else a.healthy_since end,
          flap_count = coalesce((p.patch ->> 'flap_count')::integer, a.flap_count),
          last_flap_at = case when p.patch ? 'last_flap_at'
                              then (p.patch ->> 'last_flap_at')::timestamptz else a.last_flap_at end,
          flapping = coalesce((p.patch ->> 'flapping')::boolean, a.flapping),
          escalated_at = coalesce(a.escalated_at, (p.patch ->> 'escalated_at')::timestamptz),
          status = coalesce(p.patch ->> 'status', a.status)
      from (
        select (e.value ->> 'id')::uuid as id, e.value as patch
        from jsonb_array_elements(${tx.json([...patches.values()] as never)}::jsonb) as e
      ) as p
      where a.id = p.id and a.status <> 'resolved'`;
  }
  return counts;
}

/**
 * Requests a restart of each number, skipping numbers with a restart
 * pending, claimed or requested within {@link RESTART_COOLDOWN}. Returns how
 * many commands were written.
 */
async function writeRestarts(tx: Tx, numberIds: string[]): Promise<number> {
  const rows = await tx`
    insert into public.session_commands (number_id, command, requested_by)
    select n.id, 'restart', null
    from public.numbers as n
    where n.id = any(${numberIds}::uuid[])
      and not exists (
        select 1 from public.session_commands as c
        where c.number_id = n.id and c.command = 'restart'
          and (c.status in ('pending', 'claimed')
               or c.requested_at > now() - ${RESTART_COOLDOWN}::interval))
    returning id`;
  return rows.length;
}
