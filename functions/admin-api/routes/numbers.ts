/**
 * Numbers and their sessions: list, create, assign a bot; start, stop and
 * restart the session; the pairing state; the connection-event timeline;
 * session commands; and the session daemons (runtimes).
 *
 * @module
 */

import {
  afterCursor,
  type Context,
  likePattern,
  onlyFields,
  optionalChoice,
  optionalText,
  optionalUuid,
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

const SESSION_STATUSES = [
  "stopped",
  "starting",
  "pairing",
  "connecting",
  "connected",
  "disconnected",
  "logged_out",
  "banned",
  "rate_limited",
  "degraded",
  "failed",
] as const;

const TRANSPORTS = ["simulator", "web", "cloud"] as const;

const SESSION_ACTIONS = ["start", "stop", "restart"] as const;

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** How long the admin API waits for a daemon's session endpoint. */
const DAEMON_TIMEOUT_MS = 5000;

const NUMBER_COLUMNS = [
  "id",
  "phone_number",
  "label",
  "transport",
  "bot_id",
  "session_status",
  "session_status_changed_at",
  "last_heartbeat_at",
  "lease_holder",
  "lease_expires_at",
  "created_at",
  "updated_at",
];

async function readNumber(context: Context, numberId: string): Promise<Record<string, unknown>> {
  const [number] = await context.tx`
    select ${context.tx(NUMBER_COLUMNS)} from public.numbers where id = ${numberId}`;
  if (number === undefined) throw notFound(`number ${numberId}`);
  return number;
}

const numberIdParameter = { number_id: { type: "string", format: "uuid" } };

/**
 * Calls the daemon holding the number's lease at
 * `<status_url without /status>/numbers/{id}/session/{action}` with
 * `WABOT_DAEMON_TOKEN`. Returns what happened; never throws.
 */
async function callDaemon(
  context: Context,
  numberId: string,
  action: string,
): Promise<{ called: boolean; ok: boolean; status?: number; reason?: string; runtime_id?: string }> {
  const token = Deno.env.get("WABOT_DAEMON_TOKEN");
  if (!token) return { called: false, ok: false, reason: "WABOT_DAEMON_TOKEN is not configured" };
  const [holder] = await context.tx`
    select r.id, r.status_url
    from public.numbers as n
    join public.runtime_instances as r on r.id = n.lease_holder
    where n.id = ${numberId} and n.lease_expires_at > now()`;
  if (holder === undefined) return { called: false, ok: false, reason: "no daemon holds the number's lease" };
  if (holder.status_url === null) {
    return {
      called: false,
      ok: false,
      reason: `daemon ${holder.id} has no status_url`,
      runtime_id: holder.id,
    };
  }
  const base = String(holder.status_url).replace(/\/status\/?$/, "");
  try {
    const response = await fetch(`${base}/numbers/${numberId}/session/${action}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(DAEMON_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { called: true, ok: response.ok, status: response.status, runtime_id: holder.id };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { called: true, ok: false, reason, runtime_id: holder.id };
  }
}

export const numberRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/numbers",
    operationId: "listNumbers",
    summary: "List numbers, newest first",
    tag: "numbers",
    minRole: "viewer",
    query: [
      {
        name: "session_status",
        description: "Only these statuses (comma-separated).",
        schema: { type: "string", example: "disconnected,logged_out" },
      },
      {
        name: "bot_id",
        description: "Only numbers serving this bot.",
        schema: { type: "string", format: "uuid" },
      },
      { name: "q", description: "A part of the phone number or label.", schema: { type: "string" } },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of numbers.", schema: pageOf("Number") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const statuses = queryChoices(url, "session_status", SESSION_STATUSES);
      const botId = queryUuid(url, "bot_id");
      const q = queryText(url, "q");
      const rows = await tx`
        select ${tx(NUMBER_COLUMNS)}, json_build_array(created_at, id)::text as _key
        from public.numbers
        where (${statuses ?? null}::text[] is null or session_status = any(${statuses ?? null}::text[]))
          and (${botId ?? null}::uuid is null or bot_id = ${botId ?? null}::uuid)
          and (${q ?? null}::text is null or phone_number ilike ${
        q === undefined ? null : likePattern(q)
      }::text
               or label ilike ${q === undefined ? null : likePattern(q)}::text)
          and ${afterCursor(tx, page, "created_at", "id")}
        order by created_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/numbers",
    operationId: "createNumber",
    summary: "Add a number",
    tag: "numbers",
    minRole: "admin",
    requestBody: object({
      phone_number: { type: "string", pattern: E164.source },
      label: { type: "string", maxLength: 200 },
      transport: { type: "string", enum: [...TRANSPORTS], default: "simulator" },
      bot_id: { type: ["string", "null"], format: "uuid" },
    }, ["label", "transport", "bot_id"]),
    bodyRequired: true,
    response: { status: 201, description: "The new number.", schema: ref("Number") },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, ["phone_number", "label", "transport", "bot_id"]);
      const phoneNumber = text(body, "phone_number", {
        pattern: E164,
        patternHint: "must be an E.164 number such as +15551234567",
      });
      const label = optionalText(body, "label", { max: 200 }) ?? "";
      const transport = optionalChoice(body, "transport", TRANSPORTS) ?? "simulator";
      const botId = optionalUuid(body, "bot_id") ?? null;
      const [created] = await context.tx`
        insert into public.numbers (phone_number, label, transport, bot_id)
        values (${phoneNumber}, ${label}, ${transport}, ${botId})
        returning id`;
      return { status: 201, body: await readNumber(context, created.id) };
    },
  },
  {
    method: "GET",
    path: "/numbers/{number_id}",
    operationId: "getNumber",
    summary: "Read a number and its session",
    tag: "numbers",
    minRole: "viewer",
    pathParameters: numberIdParameter,
    response: { status: 200, description: "The number.", schema: ref("Number") },
    async handler(context) {
      return { body: await readNumber(context, uuidParam(context, "number_id")) };
    },
  },
  {
    method: "PATCH",
    path: "/numbers/{number_id}",
    operationId: "updateNumber",
    summary: "Change a number: assign a bot (or null), relabel, change transport",
    tag: "numbers",
    minRole: "admin",
    pathParameters: numberIdParameter,
    requestBody: object({
      bot_id: { type: ["string", "null"], format: "uuid" },
      label: { type: "string", maxLength: 200 },
      transport: { type: "string", enum: [...TRANSPORTS] },
      phone_number: { type: "string", pattern: E164.source },
    }, ["bot_id", "label", "transport", "phone_number"]),
    bodyRequired: true,
    response: { status: 200, description: "The number.", schema: ref("Number") },
    async handler(context) {
      const numberId = uuidParam(context, "number_id");
      const body = await context.body();
      onlyFields(body, ["bot_id", "label", "transport", "phone_number"]);
      if (Object.keys(body).length === 0) {
        throw invalid("give at least one of bot_id, label, transport, phone_number");
      }
      const botId = optionalUuid(body, "bot_id");
      const label = optionalText(body, "label", { max: 200 });
      const transport = optionalChoice(body, "transport", TRANSPORTS);
      const phoneNumber = optionalText(body, "phone_number", {
        pattern: E164,
        patternHint: "must be an E.164 number such as +15551234567",
      });
      if (botId !== undefined && botId !== null) {
        const [bot] = await context.tx`select archived_at from public.bots where id = ${botId}`;
        if (bot === undefined) throw invalid(`bot ${botId} does not exist`, "bot_id");
        if (bot.archived_at !== null) throw invalid(`bot ${botId} is archived`, "bot_id");
      }
      const updated = await context.tx`
        update public.numbers
        set bot_id = case when ${botId !== undefined} then ${botId ?? null}::uuid else bot_id end,
            label = coalesce(${label ?? null}, label),
            transport = coalesce(${transport ?? null}, transport),
            phone_number = coalesce(${phoneNumber ?? null}, phone_number)
        where id = ${numberId}
        returning id`;
      if (updated.length === 0) throw notFound(`number ${numberId}`);
      return { body: await readNumber(context, numberId) };
    },
  },
  {
    method: "POST",
    path: "/numbers/{number_id}/session/{action}",
    operationId: "controlNumberSession",
    summary: "Start, stop or restart the number's session",
    description:
      "Writes a `session_commands` row in the caller's name (audited); the daemon holding the number's lease claims it, woken by NOTIFY. When `WABOT_DAEMON_TOKEN` is configured and a daemon holds the lease, that daemon's `POST /numbers/{id}/session/{action}` is also called at once; if it answers 2xx the command is recorded as done (`delivery: direct`), otherwise it stays pending for the daemon (`delivery: queued`).",
    tag: "numbers",
    minRole: "operator",
    pathParameters: {
      ...numberIdParameter,
      action: { type: "string", enum: [...SESSION_ACTIONS] },
    },
    response: { status: 202, description: "The command.", schema: ref("SessionCommandResult") },
    async handler(context) {
      const numberId = uuidParam(context, "number_id");
      const action = context.params.action;
      if (!(SESSION_ACTIONS as readonly string[]).includes(action)) {
        throw invalid(`action must be one of ${SESSION_ACTIONS.join(", ")}`, "action");
      }
      await readNumber(context, numberId);
      const [command] = await context.tx`
        insert into public.session_commands (number_id, command) values (${numberId}, ${action})
        returning *`;
      const daemon = await callDaemon(context, numberId, action);
      if (daemon.ok) {
        // System work: the caller may request commands, not complete them.
        await context.tx`set local role service_role`;
        await context.tx`
          update public.session_commands set status = 'done', claimed_by = ${daemon.runtime_id ?? null}
          where id = ${command.id}`;
        await context.tx`set local role authenticated`;
      }
      const [current] = await context.tx`select * from public.session_commands where id = ${command.id}`;
      return {
        status: 202,
        body: { command: current, delivery: daemon.ok ? "direct" : "queued", daemon },
      };
    },
  },
  {
    method: "GET",
    path: "/numbers/{number_id}/pairing",
    operationId: "getNumberPairing",
    summary: "The pairing state: the QR code or pair code to link the number",
    description:
      "While the session is `pairing`, the latest QR code and pair code shown since the last connection (`number_pairing_codes`), with the newest one's method and expiry. A code links the WhatsApp account, so this needs the operator role; the database enforces it too (row-level security), and the connection events keep no code (`detail.secret_redacted`).",
    tag: "numbers",
    minRole: "operator",
    pathParameters: numberIdParameter,
    response: { status: 200, description: "The pairing state.", schema: ref("Pairing") },
    async handler(context) {
      const numberId = uuidParam(context, "number_id");
      const number = await readNumber(context, numberId);
      let pairing: Record<string, unknown> | null = null;
      if (number.session_status === "pairing") {
        // The codes live in number_pairing_codes, which row-level security
        // shows to operators and above only (the events keep no secret). A
        // session shows a QR code and a pair code side by side, each in its
        // own event: the newest of each since the last connection.
        const codes = await context.tx`
          with since as (
            select coalesce(max(c.occurred_at), '-infinity') as at
            from public.number_connection_events as c
            where c.number_id = ${numberId}
              and c.event in ('connected', 'reconnected', 'logged_out', 'stopped'))
          select p.qr, p.pair_code, p.expires_at, p.shown_at
          from public.number_pairing_codes as p, since
          where p.number_id = ${numberId} and p.shown_at >= since.at
          order by p.shown_at desc, p.id desc
          limit 20`;
        if (codes.length > 0) {
          const newest = codes[0];
          const qr = codes.find((code) => code.qr !== null)?.qr ?? null;
          const pairCode = codes.find((code) => code.pair_code !== null)?.pair_code ?? null;
          pairing = {
            method: newest.pair_code !== null ? "pair_code" : "qr",
            qr,
            pair_code: pairCode,
            expires_at: newest.expires_at === null ? null : new Date(newest.expires_at).toISOString(),
            shown_at: newest.shown_at,
          };
        }
      }
      return { body: { number_id: numberId, session_status: number.session_status, pairing } };
    },
  },
  {
    method: "GET",
    path: "/numbers/{number_id}/events",
    operationId: "listNumberEvents",
    summary: "The number's connection-event timeline, newest first",
    tag: "numbers",
    minRole: "viewer",
    pathParameters: numberIdParameter,
    query: [
      {
        name: "event",
        description: "Only these events (comma-separated), such as `disconnected,connected`.",
        schema: { type: "string" },
      },
      {
        name: "include_heartbeats",
        description: "Heartbeats are left out unless this is `true`.",
        schema: { type: "boolean" },
      },
      {
        name: "since",
        description: "Only events at or after this time.",
        schema: { type: "string", format: "date-time" },
      },
      {
        name: "until",
        description: "Only events before this time.",
        schema: { type: "string", format: "date-time" },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of events.", schema: pageOf("ConnectionEvent") },
    async handler(context) {
      const { tx, url } = context;
      const numberId = uuidParam(context, "number_id");
      await readNumber(context, numberId);
      const page = pageRequest(url, ["integer"]);
      const eventText = queryText(url, "event", 500);
      const events = eventText?.split(",").map((event) => event.trim());
      if (events?.some((event) => !/^[a-z][a-z0-9_]*$/.test(event))) {
        throw invalid("query parameter event must list event names such as disconnected,connected", "event");
      }
      const includeHeartbeats = url.searchParams.get("include_heartbeats") === "true";
      const since = queryTimestamp(url, "since");
      const until = queryTimestamp(url, "until");
      const rows = await tx`
        select id, number_id, event, reason, code, detail, occurred_at, json_build_array(id)::text as _key
        from public.number_connection_events
        where number_id = ${numberId}
          and (${events ?? null}::text[] is null or event = any(${events ?? null}::text[]))
          and (${includeHeartbeats} or event <> 'heartbeat' or ${events ?? null}::text[] is not null)
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
    path: "/numbers/{number_id}/commands",
    operationId: "listNumberCommands",
    summary: "The number's session commands, newest first",
    tag: "numbers",
    minRole: "viewer",
    pathParameters: numberIdParameter,
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of commands.", schema: pageOf("SessionCommand") },
    async handler(context) {
      const { tx, url } = context;
      const numberId = uuidParam(context, "number_id");
      await readNumber(context, numberId);
      const page = pageRequest(url, ["integer"]);
      const rows = await tx`
        select *, json_build_array(id)::text as _key
        from public.session_commands
        where number_id = ${numberId}
          and (${page.after?.[0] ?? null}::bigint is null or id < ${page.after?.[0] ?? null}::bigint)
        order by id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/runtimes",
    operationId: "listRuntimes",
    summary: "The session daemons (runtime instances) and how many numbers each holds",
    tag: "numbers",
    minRole: "viewer",
    response: {
      status: 200,
      description: "Every runtime instance.",
      schema: object({ data: { type: "array", items: ref("Runtime") } }),
    },
    async handler(context) {
      const rows = await context.tx`
        select r.id, r.version, r.started_at, r.last_heartbeat_at, r.status_url,
               (select count(*) from public.numbers as n
                 where n.lease_holder = r.id and n.lease_expires_at > now())::int as leased_numbers
        from public.runtime_instances as r
        order by r.last_heartbeat_at desc, r.id`;
      return { body: { data: rows } };
    },
  },
  {
    method: "GET",
    path: "/runtimes/{runtime_id}/status",
    operationId: "probeRuntimeStatus",
    summary: "Probe a session daemon's GET /status",
    description:
      "Calls the `status_url` the daemon registered (written only by daemons, with the service role) with a 2-second timeout and returns what it answered: `ok` is true for a 2xx, `body` is its JSON (`database.reachable`, `sessions`, `uptime_seconds`, …). An unreachable daemon is `ok: false` with `error`, never a failure of this route.",
    tag: "numbers",
    minRole: "viewer",
    pathParameters: {
      runtime_id: { type: "string", minLength: 1, maxLength: 200 },
    },
    response: { status: 200, description: "The probe's result.", schema: ref("RuntimeProbe") },
    async handler(context) {
      const runtimeId = context.params.runtime_id;
      // Daemons name themselves (`WABOT_INSTANCE_ID`, `<hostname>-<pid>` by
      // default): any printable text up to 200 characters.
      const printable = [...runtimeId].every((character) => character.charCodeAt(0) >= 0x20);
      if (runtimeId.length === 0 || runtimeId.length > 200 || !printable) {
        throw invalid("runtime_id must be 1 to 200 printable characters", "runtime_id");
      }
      const [runtime] = await context.tx`
        select id, status_url from public.runtime_instances where id = ${runtimeId}`;
      if (runtime === undefined) throw notFound(`runtime ${runtimeId}`);
      return { body: await probeStatus(runtime.id, runtime.status_url) };
    },
  },
];

/** How long a daemon's `/status` may take before it counts as unreachable. */
const STATUS_PROBE_TIMEOUT_MS = 2000;

/** Calls a daemon's `/status`; never throws. */
async function probeStatus(runtimeId: string, statusUrl: string | null) {
  const result = {
    runtime_id: runtimeId,
    status_url: statusUrl,
    ok: false,
    http_status: null as number | null,
    latency_ms: null as number | null,
    body: null as unknown,
    error: null as string | null,
  };
  if (statusUrl === null) return { ...result, error: "the daemon registered no status_url" };
  if (!/^https?:\/\//.test(statusUrl)) return { ...result, error: "the status_url is not an http(s) URL" };
  const started = performance.now();
  try {
    const response = await fetch(statusUrl, { signal: AbortSignal.timeout(STATUS_PROBE_TIMEOUT_MS) });
    result.http_status = response.status;
    result.latency_ms = Math.round(performance.now() - started);
    const text = await response.text();
    try {
      result.body = JSON.parse(text);
    } catch {
      result.error = `GET ${statusUrl} answered ${response.status} without JSON`;
    }
    result.ok = response.ok && result.error === null;
    if (!response.ok && result.error === null) result.error = `GET ${statusUrl} answered ${response.status}`;
  } catch (error) {
    result.latency_ms = Math.round(performance.now() - started);
    result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return result;
}
