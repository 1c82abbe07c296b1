/**
 * Administration: members and roles, alert channels, the audit log, the
 * dashboard summary, and the caller's own identity.
 *
 * @module
 */

import { sql } from "../../_shared/db.ts";
import { checkOutboundUrlSyntax, OutboundUrlError } from "../../_shared/outbound-url.ts";
import {
  afterCursor,
  type Context,
  onlyFields,
  optionalBoolean,
  optionalChoice,
  optionalText,
  optionalUuid,
  PAGE_PARAMETERS,
  pageRequest,
  queryText,
  queryTimestamp,
  queryUuid,
  ROLES,
  type RouteDefinition,
  text,
  toPage,
  uuidParam,
} from "../api.ts";
import { ApiError, conflict, invalid, notFound } from "../errors.ts";
import { object, pageOf, ref } from "../schemas.ts";

const SEVERITIES = ["info", "warning", "critical"] as const;
const CHANNEL_KINDS = ["webhook", "slack", "whatsapp"] as const;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const HTTP_URL = /^https?:\/\/\S+$/;

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

/**
 * The emails of some users. `auth.users` is not readable by signed-in users
 * (it is GoTrue's), so this reads it with the function's own login role:
 * system work, limited to the ids the caller could already see.
 */
async function emailsOf(userIds: string[]): Promise<Map<string, string | null>> {
  if (userIds.length === 0) return new Map();
  const rows = await sql`select id, email from auth.users where id = any(${userIds}::uuid[])`;
  return new Map(rows.map((row) => [row.id as string, row.email as string | null]));
}

async function readMember(context: Context, userId: string): Promise<Record<string, unknown>> {
  const [member] = await context.tx`
    select user_id, role, invited_by, created_at, updated_at from public.members where user_id = ${userId}`;
  if (member === undefined) throw notFound(`member ${userId}`);
  const emails = await emailsOf([userId]);
  return { ...member, email: emails.get(userId) ?? null };
}

const userIdParameter = { user_id: { type: "string", format: "uuid" } };

const memberRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/members",
    operationId: "listMembers",
    summary: "List the members and their roles",
    tag: "members",
    minRole: "viewer",
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of members.", schema: pageOf("Member") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const rows = await tx`
        select user_id, role, invited_by, created_at, updated_at,
               json_build_array(created_at, user_id)::text as _key
        from public.members
        where ${afterCursor(tx, page, "created_at", "user_id", "ascending")}
        order by created_at, user_id
        limit ${page.limit + 1}`;
      const result = toPage(rows, page.limit);
      const emails = await emailsOf(result.data.map((member) => member.user_id as string));
      return {
        body: {
          ...result,
          data: result.data.map((member) => ({
            ...member,
            email: emails.get(member.user_id as string) ?? null,
          })),
        },
      };
    },
  },
  {
    method: "POST",
    path: "/members",
    operationId: "addMember",
    summary: "Make a signed-up user a member (by user_id or email)",
    description:
      "Admins add members below owner; owners add anyone. The user must have signed up already (404 when no such user).",
    tag: "members",
    extraErrorStatuses: ["404"],
    minRole: "admin",
    requestBody: object({
      user_id: { type: "string", format: "uuid" },
      email: { type: "string", format: "email" },
      role: { type: "string", enum: [...ROLES] },
    }, ["user_id", "email"]),
    bodyRequired: true,
    response: { status: 201, description: "The member.", schema: ref("Member") },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, ["user_id", "email", "role"]);
      const role = optionalChoice(body, "role", ROLES);
      if (role === undefined) throw invalid(`role is required: one of ${ROLES.join(", ")}`, "role");
      let userId = optionalUuid(body, "user_id") ?? undefined;
      const email = optionalText(body, "email", { min: 3, max: 320, pattern: /^[^@\s]+@[^@\s]+$/ });
      if ((userId === undefined) === (email === undefined)) {
        throw invalid("give exactly one of user_id and email");
      }
      if (email !== undefined) {
        const [user] = await sql`select id from auth.users where lower(email) = lower(${email})`;
        if (user === undefined) throw notFound(`user with email ${email} (they must sign up first)`);
        userId = user.id as string;
      } else {
        const [user] = await sql`select id from auth.users where id = ${userId!}`;
        if (user === undefined) throw notFound(`user ${userId}`);
      }
      await context.tx`insert into public.members (user_id, role) values (${userId!}, ${role})`;
      return { status: 201, body: await readMember(context, userId!) };
    },
  },
  {
    method: "PATCH",
    path: "/members/{user_id}",
    operationId: "changeMemberRole",
    summary: "Change a member's role",
    description:
      "Admins change members below owner; owners change anyone. The last owner cannot be demoted (409).",
    tag: "members",
    minRole: "admin",
    pathParameters: userIdParameter,
    requestBody: object({ role: { type: "string", enum: [...ROLES] } }),
    bodyRequired: true,
    response: { status: 200, description: "The member.", schema: ref("Member") },
    async handler(context) {
      const userId = uuidParam(context, "user_id");
      const body = await context.body();
      onlyFields(body, ["role"]);
      const role = optionalChoice(body, "role", ROLES);
      if (role === undefined) throw invalid(`role is required: one of ${ROLES.join(", ")}`, "role");
      const existing = await readMember(context, userId);
      if ((existing.role === "owner" || role === "owner") && context.role !== "owner") {
        throw new ApiError(403, "forbidden", "only owners may make or unmake owners");
      }
      await context.tx`update public.members set role = ${role} where user_id = ${userId}`;
      return { body: await readMember(context, userId) };
    },
  },
  {
    method: "DELETE",
    path: "/members/{user_id}",
    operationId: "removeMember",
    summary: "Remove a member",
    description: "The last owner cannot be removed (409).",
    tag: "members",
    minRole: "admin",
    pathParameters: userIdParameter,
    response: { status: 200, description: "The removed member.", schema: ref("Member") },
    async handler(context) {
      const userId = uuidParam(context, "user_id");
      const existing = await readMember(context, userId);
      if (existing.role === "owner" && context.role !== "owner") {
        throw new ApiError(403, "forbidden", "only owners may remove owners");
      }
      await context.tx`delete from public.members where user_id = ${userId}`;
      return { body: existing };
    },
  },
];

// ---------------------------------------------------------------------------
// Alert channels
// ---------------------------------------------------------------------------

const CHANNEL_COLUMNS_SQL = `
  c.id, c.name, c.kind, c.target, c.min_severity, c.enabled, c.kinds, c.sender_number_id,
  exists (select 1 from public.alert_channel_secrets as s where s.channel_id = c.id) as has_signing_secret,
  c.created_at, c.updated_at`;

async function readChannel(context: Context, channelId: string): Promise<Record<string, unknown>> {
  const [channel] = await context.tx.unsafe(
    `select ${CHANNEL_COLUMNS_SQL} from public.alert_channels as c where c.id = $1::uuid`,
    [channelId],
  );
  if (channel === undefined) throw notFound(`alert channel ${channelId}`);
  return channel;
}

/** A fresh signing secret: 32 random bytes, hex. */
function newSigningSecret(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

/** Reads `kinds`: a list of alert kinds (snake_case words). */
function kindsOf(body: Record<string, unknown>): string[] | undefined {
  const kinds = body.kinds;
  if (kinds === undefined) return undefined;
  if (
    !Array.isArray(kinds) || kinds.length > 50 ||
    !kinds.every((kind) => typeof kind === "string" && /^[a-z][a-z0-9_]*$/.test(kind))
  ) {
    throw invalid("kinds must be a list of at most 50 alert kinds such as disconnected, logged_out", "kinds");
  }
  return kinds as string[];
}

/** Checks a channel's target against its kind. */
function checkTarget(kind: string, target: string): void {
  if ((kind === "webhook" || kind === "slack") && !HTTP_URL.test(target)) {
    throw invalid(`target of a ${kind} channel must be an http(s) URL`, "target");
  }
  if (kind === "webhook" || kind === "slack") {
    // The outbound-URL guard without DNS (delivery checks the resolved
    // addresses too): no credentials, no loopback, private, link-local or
    // metadata address unless WABOT_OUTBOUND_ALLOW names it.
    try {
      checkOutboundUrlSyntax(target);
    } catch (error) {
      if (error instanceof OutboundUrlError) throw invalid(`target: ${error.message}`, "target");
      throw error;
    }
  }
  if (kind === "whatsapp" && !E164.test(target)) {
    throw invalid("target of a whatsapp channel must be an E.164 number such as +15551234567", "target");
  }
}

/** Reads an optional `signing_secret` (at least 16 characters). */
function signingSecretOf(body: Record<string, unknown>): string | undefined {
  return optionalText(body, "signing_secret", { min: 16, max: 500 });
}

const channelIdParameter = { channel_id: { type: "string", format: "uuid" } };

const channelRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/alert-channels",
    operationId: "listAlertChannels",
    summary: "List the alert channels (admins: targets are credentials)",
    tag: "alert-channels",
    minRole: "admin",
    response: {
      status: 200,
      description: "Every channel.",
      schema: object({ data: { type: "array", items: ref("AlertChannel") } }),
    },
    async handler(context) {
      const rows = await context.tx.unsafe(
        `select ${CHANNEL_COLUMNS_SQL} from public.alert_channels as c order by c.created_at, c.id`,
      );
      return { body: { data: rows } };
    },
  },
  {
    method: "POST",
    path: "/alert-channels",
    operationId: "createAlertChannel",
    summary: "Add an alert channel",
    description:
      "A `webhook` channel gets a signing secret: the one given, or a generated one, returned once in `signing_secret` (store it in the receiver; it cannot be read back). A `whatsapp` channel sends from `sender_number_id`, or from a connected number when it is null.",
    tag: "alert-channels",
    minRole: "admin",
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      kind: { type: "string", enum: [...CHANNEL_KINDS] },
      target: { type: "string" },
      min_severity: { type: "string", enum: [...SEVERITIES], default: "warning" },
      enabled: { type: "boolean", default: true },
      kinds: { type: "array", items: { type: "string" } },
      sender_number_id: { type: ["string", "null"], format: "uuid" },
      signing_secret: { type: "string", minLength: 16 },
    }, ["min_severity", "enabled", "kinds", "sender_number_id", "signing_secret"]),
    bodyRequired: true,
    response: { status: 201, description: "The channel.", schema: ref("AlertChannel") },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, [
        "name",
        "kind",
        "target",
        "min_severity",
        "enabled",
        "kinds",
        "sender_number_id",
        "signing_secret",
      ]);
      const name = text(body, "name", { min: 1, max: 200 });
      const kind = optionalChoice(body, "kind", CHANNEL_KINDS);
      if (kind === undefined) throw invalid(`kind is required: one of ${CHANNEL_KINDS.join(", ")}`, "kind");
      const target = text(body, "target", { min: 1, max: 2000 });
      checkTarget(kind, target);
      const minSeverity = optionalChoice(body, "min_severity", SEVERITIES) ?? "warning";
      const enabled = optionalBoolean(body, "enabled") ?? true;
      const kinds = kindsOf(body) ?? [];
      const senderNumberId = optionalUuid(body, "sender_number_id") ?? null;
      let signingSecret = signingSecretOf(body);
      if (signingSecret !== undefined && kind !== "webhook") {
        throw invalid("only webhook channels have a signing secret", "signing_secret");
      }
      const [created] = await context.tx`
        insert into public.alert_channels (name, kind, target, min_severity, enabled, kinds, sender_number_id)
        values (${name}, ${kind}, ${target}, ${minSeverity}, ${enabled}, ${kinds}, ${senderNumberId})
        returning id`;
      if (kind === "webhook") {
        signingSecret ??= newSigningSecret();
        await context.tx`
          insert into public.alert_channel_secrets (channel_id, signing_secret)
          values (${created.id}, ${signingSecret})`;
      }
      const channel = await readChannel(context, created.id);
      return {
        status: 201,
        body: signingSecret === undefined ? channel : { ...channel, signing_secret: signingSecret },
      };
    },
  },
  {
    method: "GET",
    path: "/alert-channels/{channel_id}",
    operationId: "getAlertChannel",
    summary: "Read an alert channel",
    tag: "alert-channels",
    minRole: "admin",
    pathParameters: channelIdParameter,
    response: { status: 200, description: "The channel.", schema: ref("AlertChannel") },
    async handler(context) {
      return { body: await readChannel(context, uuidParam(context, "channel_id")) };
    },
  },
  {
    method: "PATCH",
    path: "/alert-channels/{channel_id}",
    operationId: "updateAlertChannel",
    summary: "Change an alert channel (its kind stays)",
    tag: "alert-channels",
    minRole: "admin",
    pathParameters: channelIdParameter,
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      target: { type: "string" },
      min_severity: { type: "string", enum: [...SEVERITIES] },
      enabled: { type: "boolean" },
      kinds: { type: "array", items: { type: "string" } },
      sender_number_id: { type: ["string", "null"], format: "uuid" },
    }, ["name", "target", "min_severity", "enabled", "kinds", "sender_number_id"]),
    bodyRequired: true,
    response: { status: 200, description: "The channel.", schema: ref("AlertChannel") },
    async handler(context) {
      const channelId = uuidParam(context, "channel_id");
      const body = await context.body();
      onlyFields(body, ["name", "target", "min_severity", "enabled", "kinds", "sender_number_id"]);
      if (Object.keys(body).length === 0) throw invalid("give at least one field to change");
      const channel = await readChannel(context, channelId);
      const name = optionalText(body, "name", { min: 1, max: 200 });
      const target = optionalText(body, "target", { min: 1, max: 2000 });
      if (target !== undefined) checkTarget(channel.kind as string, target);
      const minSeverity = optionalChoice(body, "min_severity", SEVERITIES);
      const enabled = optionalBoolean(body, "enabled");
      const kinds = kindsOf(body);
      const senderNumberId = optionalUuid(body, "sender_number_id");
      await context.tx`
        update public.alert_channels
        set name = coalesce(${name ?? null}, name),
            target = coalesce(${target ?? null}, target),
            min_severity = coalesce(${minSeverity ?? null}, min_severity),
            enabled = coalesce(${enabled ?? null}::boolean, enabled),
            kinds = coalesce(${kinds ?? null}::text[], kinds),
            sender_number_id = case when ${senderNumberId !== undefined}
                                    then ${senderNumberId ?? null}::uuid else sender_number_id end
        where id = ${channelId}`;
      return { body: await readChannel(context, channelId) };
    },
  },
  {
    method: "DELETE",
    path: "/alert-channels/{channel_id}",
    operationId: "deleteAlertChannel",
    summary: "Remove an alert channel (and its secret)",
    tag: "alert-channels",
    minRole: "admin",
    pathParameters: channelIdParameter,
    response: { status: 200, description: "The removed channel.", schema: ref("AlertChannel") },
    async handler(context) {
      const channelId = uuidParam(context, "channel_id");
      const channel = await readChannel(context, channelId);
      await context.tx`delete from public.alert_channels where id = ${channelId}`;
      return { body: channel };
    },
  },
  {
    method: "PUT",
    path: "/alert-channels/{channel_id}/secret",
    operationId: "rotateAlertChannelSecret",
    summary: "Set or rotate a webhook channel's signing secret",
    description: "Without `signing_secret` a new one is generated. The answer carries it once.",
    tag: "alert-channels",
    minRole: "admin",
    pathParameters: channelIdParameter,
    requestBody: object({ signing_secret: { type: "string", minLength: 16 } }, ["signing_secret"]),
    response: { status: 200, description: "The channel with its new secret.", schema: ref("AlertChannel") },
    async handler(context) {
      const channelId = uuidParam(context, "channel_id");
      const body = await context.body();
      onlyFields(body, ["signing_secret"]);
      const channel = await readChannel(context, channelId);
      if (channel.kind !== "webhook") throw conflict(`a ${channel.kind} channel has no signing secret`);
      const signingSecret = signingSecretOf(body) ?? newSigningSecret();
      // Update, else insert: `on conflict do update` would need to read the
      // secret column, which signed-in users may not.
      const replaced = await context.tx`
        update public.alert_channel_secrets set signing_secret = ${signingSecret}
        where channel_id = ${channelId} returning channel_id`;
      if (replaced.length === 0) {
        await context.tx`
          insert into public.alert_channel_secrets (channel_id, signing_secret)
          values (${channelId}, ${signingSecret})`;
      }
      return { body: { ...(await readChannel(context, channelId)), signing_secret: signingSecret } };
    },
  },
];

// ---------------------------------------------------------------------------
// Audit log, dashboard, identity
// ---------------------------------------------------------------------------

const otherRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/audit-log",
    operationId: "listAuditLog",
    summary: "The audit log, newest first",
    tag: "audit",
    minRole: "viewer",
    query: [
      {
        name: "action",
        description: "Only this action (`alerts.acknowledged`), or a table's actions (`alerts.*`).",
        schema: { type: "string" },
      },
      { name: "target_table", description: "Only entries about this table.", schema: { type: "string" } },
      { name: "target_id", description: "Only entries about this row.", schema: { type: "string" } },
      {
        name: "actor_id",
        description: "Only this member's actions.",
        schema: { type: "string", format: "uuid" },
      },
      {
        name: "since",
        description: "At or after this time.",
        schema: { type: "string", format: "date-time" },
      },
      { name: "until", description: "Before this time.", schema: { type: "string", format: "date-time" } },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of entries.", schema: pageOf("AuditEntry") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["integer"]);
      const action = queryText(url, "action", 100);
      if (action !== undefined && !/^[a-z_]+\.([a-z_]+|\*)$/.test(action)) {
        throw invalid("query parameter action must look like alerts.acknowledged or alerts.*", "action");
      }
      const actionPrefix = action?.endsWith(".*") ? action.slice(0, -1) : null;
      const exactAction = action !== undefined && actionPrefix === null ? action : null;
      const targetTable = queryText(url, "target_table", 100);
      const targetId = queryText(url, "target_id", 200);
      const actorId = queryUuid(url, "actor_id");
      const since = queryTimestamp(url, "since");
      const until = queryTimestamp(url, "until");
      const rows = await tx`
        select id, occurred_at, actor_id, actor_role, action, target_table, target_id, details,
               json_build_array(id)::text as _key
        from public.audit_log_entries
        where (${exactAction}::text is null or action = ${exactAction}::text)
          and (${actionPrefix}::text is null or starts_with(action, ${actionPrefix}::text))
          and (${targetTable ?? null}::text is null or target_table = ${targetTable ?? null}::text)
          and (${targetId ?? null}::text is null or target_id = ${targetId ?? null}::text)
          and (${actorId ?? null}::uuid is null or actor_id = ${actorId ?? null}::uuid)
          and (${since ?? null}::text is null or occurred_at >= ${since ?? null}::text::timestamptz)
          and (${until ?? null}::text is null or occurred_at < ${until ?? null}::text::timestamptz)
          and (${page.after?.[0] ?? null}::bigint is null or id < ${page.after?.[0] ?? null}::bigint)
        order by id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/dashboard",
    operationId: "getDashboard",
    summary: "Message volumes per hour over 24 hours, sessions by state, open alerts",
    tag: "dashboard",
    minRole: "viewer",
    response: { status: 200, description: "The summary.", schema: ref("Dashboard") },
    async handler(context) {
      const { tx } = context;
      const [{ generated_at, messages_per_hour }] = await tx`
        select now() as generated_at, coalesce(json_agg(json_build_object(
                 'hour', h.hour, 'inbound', coalesce(m.inbound, 0), 'outbound', coalesce(m.outbound, 0))
               order by h.hour), '[]') as messages_per_hour
        from generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()),
                             interval '1 hour') as h(hour)
        left join (
          select date_trunc('hour', created_at) as hour,
                 count(*) filter (where direction = 'inbound')::int as inbound,
                 count(*) filter (where direction = 'outbound')::int as outbound
          from public.messages
          where created_at >= date_trunc('hour', now()) - interval '23 hours'
          group by 1
        ) as m on m.hour = h.hour`;
      const sessions = await tx`
        select session_status, count(*)::int as n from public.numbers group by session_status`;
      const [alertCounts] = await tx`
        select count(*)::int as total,
               count(*) filter (where severity = 'info')::int as info,
               count(*) filter (where severity = 'warning')::int as warning,
               count(*) filter (where severity = 'critical')::int as critical
        from public.alerts where status in ('open', 'acknowledged')`;
      const latest = await tx`
        select id, kind, severity, number_id, runtime_instance_id, dedupe_key, status, title, details, summary,
               acknowledged_by, acknowledged_at, escalated_at, resolved_by, resolved_at, healthy_since,
               flap_count, flapping, created_at, updated_at
        from public.alerts where status in ('open', 'acknowledged')
        order by case severity when 'critical' then 0 when 'warning' then 1 else 2 end, created_at desc
        limit 10`;
      const sessionsByState = Object.fromEntries(sessions.map((row) => [row.session_status, row.n]));
      return {
        body: {
          generated_at,
          messages_per_hour,
          sessions_by_state: sessionsByState,
          numbers_total: sessions.reduce((total, row) => total + (row.n as number), 0),
          open_alerts: {
            total: alertCounts.total,
            by_severity: {
              info: alertCounts.info,
              warning: alertCounts.warning,
              critical: alertCounts.critical,
            },
            latest,
          },
        },
      };
    },
  },
  {
    method: "GET",
    path: "/me",
    operationId: "getMe",
    summary: "The caller: user id, email and role (null when not a member)",
    tag: "meta",
    minRole: null,
    response: { status: 200, description: "The caller.", schema: ref("Me") },
    // deno-lint-ignore require-await
    async handler(context) {
      return {
        body: {
          user_id: context.claims.sub,
          email: typeof context.claims.email === "string" ? context.claims.email : null,
          role: context.role,
        },
      };
    },
  },
];

export const adminRoutes: RouteDefinition[] = [...memberRoutes, ...channelRoutes, ...otherRoutes];
