/**
 * Alerts (list, acknowledge, resolve, post-incident summary, delivery log)
 * and the outbox's dead letters.
 *
 * @module
 */

import {
  afterCursor,
  type Context,
  onlyFields,
  optionalText,
  PAGE_PARAMETERS,
  pageRequest,
  queryChoices,
  queryText,
  queryTimestamp,
  queryUuid,
  type RouteDefinition,
  text,
  toPage,
  uuidParam,
} from "../api.ts";
import { invalid, notFound } from "../errors.ts";
import { object, pageOf, ref } from "../schemas.ts";

const STATUSES = ["open", "acknowledged", "resolved"] as const;
const SEVERITIES = ["info", "warning", "critical"] as const;

/** The longest post-incident summary. */
const MAX_SUMMARY_CHARACTERS = 20_000;

const ALERT_COLUMNS = [
  "id",
  "kind",
  "severity",
  "number_id",
  "runtime_instance_id",
  "dedupe_key",
  "status",
  "title",
  "details",
  "summary",
  "acknowledged_by",
  "acknowledged_at",
  "escalated_at",
  "resolved_by",
  "resolved_at",
  "healthy_since",
  "flap_count",
  "flapping",
  "created_at",
  "updated_at",
];

async function readAlert(context: Context, alertId: string): Promise<Record<string, unknown>> {
  const [alert] = await context.tx`select ${
    context.tx(ALERT_COLUMNS)
  } from public.alerts where id = ${alertId}`;
  if (alert === undefined) throw notFound(`alert ${alertId}`);
  return alert;
}

const alertIdParameter = { alert_id: { type: "string", format: "uuid" } };

export const alertRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/alerts",
    operationId: "listAlerts",
    summary: "List alerts, newest first",
    tag: "alerts",
    minRole: "viewer",
    query: [
      {
        name: "status",
        description: "Only these statuses (comma-separated): open, acknowledged, resolved.",
        schema: { type: "string", example: "open,acknowledged" },
      },
      {
        name: "severity",
        description: "Only these severities (comma-separated): info, warning, critical.",
        schema: { type: "string" },
      },
      { name: "kind", description: "Only this kind, such as `disconnected`.", schema: { type: "string" } },
      {
        name: "number_id",
        description: "Only alerts about this number.",
        schema: { type: "string", format: "uuid" },
      },
      { name: "dedupe_key", description: "Only alerts with this key.", schema: { type: "string" } },
      {
        name: "since",
        description: "Only alerts opened at or after this time.",
        schema: { type: "string", format: "date-time" },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of alerts.", schema: pageOf("Alert") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const statuses = queryChoices(url, "status", STATUSES);
      const severities = queryChoices(url, "severity", SEVERITIES);
      const kind = queryText(url, "kind");
      const numberId = queryUuid(url, "number_id");
      const dedupeKey = queryText(url, "dedupe_key", 500);
      const since = queryTimestamp(url, "since");
      const rows = await tx`
        select ${tx(ALERT_COLUMNS)}, json_build_array(created_at, id)::text as _key
        from public.alerts
        where (${statuses ?? null}::text[] is null or status = any(${statuses ?? null}::text[]))
          and (${severities ?? null}::text[] is null or severity = any(${severities ?? null}::text[]))
          and (${kind ?? null}::text is null or kind = ${kind ?? null}::text)
          and (${numberId ?? null}::uuid is null or number_id = ${numberId ?? null}::uuid)
          and (${dedupeKey ?? null}::text is null or dedupe_key = ${dedupeKey ?? null}::text)
          and (${since ?? null}::text is null or created_at >= ${since ?? null}::text::timestamptz)
          and ${afterCursor(tx, page, "created_at", "id")}
        order by created_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/alerts/{alert_id}",
    operationId: "getAlert",
    summary: "Read an alert",
    tag: "alerts",
    minRole: "viewer",
    pathParameters: alertIdParameter,
    response: { status: 200, description: "The alert.", schema: ref("Alert") },
    async handler(context) {
      return { body: await readAlert(context, uuidParam(context, "alert_id")) };
    },
  },
  {
    method: "POST",
    path: "/alerts/{alert_id}/acknowledge",
    operationId: "acknowledgeAlert",
    summary: "Acknowledge an alert (status acknowledged; stops its escalation)",
    description:
      "The runbook's first response. Stamps `acknowledged_by` (the caller) and `acknowledged_at`; audited as `alerts.acknowledged`. Acknowledging an acknowledged alert changes nothing; a resolved one is 409.",
    tag: "alerts",
    minRole: "operator",
    pathParameters: alertIdParameter,
    response: { status: 200, description: "The alert.", schema: ref("Alert") },
    async handler(context) {
      const alertId = uuidParam(context, "alert_id");
      const alert = await readAlert(context, alertId);
      if (alert.status !== "acknowledged") {
        await context.tx`update public.alerts set status = 'acknowledged' where id = ${alertId}`;
      }
      return { body: await readAlert(context, alertId) };
    },
  },
  {
    method: "POST",
    path: "/alerts/{alert_id}/resolve",
    operationId: "resolveAlert",
    summary: "Resolve an alert, optionally with its post-incident summary",
    description:
      "Resolved is final: a recurrence opens a new alert. Audited as `alerts.resolved`; a `summary` given here is also recorded as an `incident.summary` audit entry.",
    tag: "alerts",
    minRole: "operator",
    pathParameters: alertIdParameter,
    requestBody: object({ summary: { type: "string", maxLength: MAX_SUMMARY_CHARACTERS } }, ["summary"]),
    response: { status: 200, description: "The alert.", schema: ref("Alert") },
    async handler(context) {
      const alertId = uuidParam(context, "alert_id");
      const body = await context.body();
      onlyFields(body, ["summary"]);
      const summary = optionalText(body, "summary", { min: 1, max: MAX_SUMMARY_CHARACTERS });
      const alert = await readAlert(context, alertId);
      if (alert.status !== "resolved") {
        await context.tx`
          update public.alerts set status = 'resolved', summary = coalesce(${summary ?? null}, summary)
          where id = ${alertId}`;
      }
      if (summary !== undefined) await recordSummary(context, alert, summary);
      return { body: await readAlert(context, alertId) };
    },
  },
  {
    method: "POST",
    path: "/alerts/{alert_id}/summary",
    operationId: "addIncidentSummary",
    summary: "Add the post-incident summary",
    description:
      "Stores the summary on the alert and appends an `incident.summary` entry to `audit_log_entries` in the caller's name, as the runbook's post-incident step asks.",
    tag: "alerts",
    minRole: "operator",
    pathParameters: alertIdParameter,
    requestBody: object({ summary: { type: "string", minLength: 1, maxLength: MAX_SUMMARY_CHARACTERS } }),
    bodyRequired: true,
    response: {
      status: 201,
      description: "The alert and the audit entry.",
      schema: object({ alert: ref("Alert"), audit_entry: ref("AuditEntry") }),
    },
    async handler(context) {
      const alertId = uuidParam(context, "alert_id");
      const body = await context.body();
      onlyFields(body, ["summary"]);
      const summary = text(body, "summary", { min: 1, max: MAX_SUMMARY_CHARACTERS });
      if (summary.trim() === "") throw invalid("summary must not be blank", "summary");
      const alert = await readAlert(context, alertId);
      await context.tx`update public.alerts set summary = ${summary} where id = ${alertId}`;
      const entry = await recordSummary(context, alert, summary);
      return { status: 201, body: { alert: await readAlert(context, alertId), audit_entry: entry } };
    },
  },
  {
    method: "GET",
    path: "/alerts/{alert_id}/deliveries",
    operationId: "listAlertDeliveries",
    summary: "The alert's notification attempts, newest first",
    tag: "alerts",
    minRole: "viewer",
    pathParameters: alertIdParameter,
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of delivery attempts.", schema: pageOf("AlertDelivery") },
    async handler(context) {
      const { tx, url } = context;
      const alertId = uuidParam(context, "alert_id");
      await readAlert(context, alertId);
      const page = pageRequest(url, ["integer"]);
      const rows = await tx`
        select id, alert_id, channel_id, outbox_id, status, attempt, response_code,
               private.alert_delivery_error(id) as error, attempted_at,
               json_build_array(id)::text as _key
        from public.alert_deliveries
        where alert_id = ${alertId}
          and (${page.after?.[0] ?? null}::bigint is null or id < ${page.after?.[0] ?? null}::bigint)
        order by id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/dead-letters",
    operationId: "listDeadLetters",
    summary: "Outbox rows given up after their last attempt, newest first",
    description:
      "A dead letter is work (an alert notification, a routing, a health check) the outbox relay gave up on; `last_error` says why. Read through `private.outbox_dead_letters`, which checks the caller's role.",
    tag: "alerts",
    minRole: "operator",
    query: [
      {
        name: "topic",
        description: "Only this topic, such as `alert-dispatch`.",
        schema: { type: "string" },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of dead letters.", schema: pageOf("DeadLetter") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["integer"]);
      const topic = queryText(url, "topic", 100);
      const rows = await tx`
        select d.*, json_build_array(d.id)::text as _key
        from private.outbox_dead_letters(${topic ?? null}, ${page.limit + 1}, ${
        page.after?.[0] ?? null
      }::bigint)
          as d`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/dead-letters/{outbox_id}/retry",
    operationId: "retryDeadLetter",
    summary: "Give a dead letter another round of attempts",
    description:
      "Clears `dead_at`, resets the attempts and makes the row due now. Audited as `outbox.retried`.",
    tag: "alerts",
    minRole: "admin",
    pathParameters: { outbox_id: { type: "integer", minimum: 1 } },
    response: {
      status: 200,
      description: "The row is due again.",
      schema: object({ outbox_id: { type: "integer" }, retried: { type: "boolean" } }),
    },
    async handler(context) {
      const raw = context.params.outbox_id;
      if (!/^[1-9][0-9]{0,18}$/.test(raw)) {
        throw invalid("outbox_id in the path must be a positive integer", "outbox_id");
      }
      const [{ retried }] = await context
        .tx`select private.retry_outbox_dead_letter(${raw}::bigint) as retried`;
      if (!retried) throw notFound(`dead letter ${raw}`);
      return { body: { outbox_id: Number(raw), retried: true } };
    },
  },
];

/** Appends the `incident.summary` audit entry for an alert, as the caller. */
async function recordSummary(
  context: Context,
  alert: Record<string, unknown>,
  summary: string,
): Promise<Record<string, unknown>> {
  const [entry] = await context.tx`
    insert into public.audit_log_entries (action, target_table, target_id, details)
    values ('incident.summary', 'alerts', ${alert.id as string}, ${
    context.tx.json({
      summary,
      kind: alert.kind,
      severity: alert.severity,
      dedupe_key: alert.dedupe_key,
      number_id: alert.number_id,
      alert_status: alert.status,
    } as never)
  })
    returning id, occurred_at, actor_id, actor_role, action, target_table, target_id, details`;
  return entry;
}
