/**
 * `route-message`: routes one inbound WhatsApp message through its bot.
 *
 * Called by the outbox relay (service-role bearer only) with
 * `{"outbox_id": <n>, "message_id": "<uuid of the inbound messages row>"}`.
 * In one transaction, as `service_role`, it locks the inbound message, finds
 * or creates its conversation, runs the Wasm routing over the conversation's
 * bot version, and writes the replies as queued outbound messages together
 * with the conversation's new state and the inbound's `routed_at`.
 *
 * Responses (all JSON):
 * - 200 `{"replies": n, "outcome": "<routing outcome>"}`: routed.
 * - 200 `{"replies": 0, "skipped": "<reason>"}`: nothing to route with
 *   (`no_bot`, `no_published_version`, `conversation_mode_human`,
 *   `conversation_mode_closed`); the message is marked routed.
 * - 200 `{"duplicate": true, "replies": n}`: already routed; nothing written.
 * - 400 malformed body, 401/403 not the service role, 404 unknown inbound
 *   message, 413 body too large.
 * - 422 `{"error": "<why>"}`: the routing rejected the definition or input;
 *   nothing is written, so the relay can retry or dead-letter it.
 *
 * Idempotency rests on the inbound message: its row is locked `for update`
 * and `routed_at` is set in the same transaction as the replies, so
 * concurrent or repeated deliveries produce the replies exactly once.
 *
 * @module
 */

import { requireServiceRole } from "../_shared/auth.ts";
import { type Tx, withServiceRole } from "../_shared/db.ts";
import { errorResponse, HttpError, json, readJson } from "../_shared/http.ts";
import { route } from "../_shared/wasm.ts";

/** The largest request body accepted; the real payload is under 200 bytes. */
const MAX_BODY_BYTES = 64 * 1024;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The validated request body. */
interface RouteMessageRequest {
  /** The outbox row being delivered, for logs; absent when called directly. */
  outboxId: number | null;
  /** The id of the inbound `messages` row to route. */
  messageId: string;
}

/** What the handler answers, before it becomes a Response. */
interface Outcome {
  status: number;
  body: Record<string, unknown>;
}

function parseRequest(body: unknown): RouteMessageRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  const fields = body as Record<string, unknown>;
  const messageId = fields.message_id;
  if (typeof messageId !== "string" || !UUID_PATTERN.test(messageId)) {
    throw new HttpError(400, "message_id must be a UUID string");
  }
  const outboxId = fields.outbox_id ?? null;
  if (outboxId !== null && !Number.isSafeInteger(outboxId)) {
    throw new HttpError(400, "outbox_id must be an integer when present");
  }
  return { outboxId: outboxId as number | null, messageId: messageId.toLowerCase() };
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 0;
}

/** Routes one inbound message inside the caller's service-role transaction. */
async function routeInbound(tx: Tx, messageId: string): Promise<Outcome> {
  const [inbound] = await tx`
    select id, number_id, contact_wa_id, contact_name, body, routed_at
    from public.messages
    where id = ${messageId} and direction = 'inbound'
    for update`;
  if (inbound === undefined) {
    throw new HttpError(404, `unknown inbound message ${messageId}`);
  }
  if (inbound.routed_at !== null) {
    const [existing] = await tx`
      select count(*)::int as n_replies from public.messages where in_reply_to = ${messageId}`;
    return { status: 200, body: { duplicate: true, replies: existing.n_replies } };
  }

  // The number exists: messages.number_id is a foreign key.
  const [number] = await tx`select id, bot_id from public.numbers where id = ${inbound.number_id}`;
  const [published] = number.bot_id === null ? [] : await tx`
    select id, definition from public.bot_versions
    where bot_id = ${number.bot_id} and status = 'published'`;

  await tx`
    insert into public.conversations (number_id, contact_wa_id, contact_name, bot_version_id)
    values (${number.id}, ${inbound.contact_wa_id}, ${inbound.contact_name}, ${published?.id ?? null})
    on conflict (number_id, contact_wa_id) do nothing`;
  const [conversation] = await tx`
    select c.id, c.bot_version_id, c.flow_state, c.mode, v.bot_id as version_bot_id, v.definition
    from public.conversations c
    left join public.bot_versions v on v.id = c.bot_version_id
    where c.number_id = ${number.id} and c.contact_wa_id = ${inbound.contact_wa_id}
    for update of c`;

  const skipped = number.bot_id === null
    ? "no_bot"
    : published === undefined
    ? "no_published_version"
    : conversation.mode !== "bot"
    ? `conversation_mode_${conversation.mode}`
    : null;
  if (skipped !== null) {
    await tx`
      update public.conversations
      set last_activity_at = now(), contact_name = coalesce(${inbound.contact_name}, contact_name)
      where id = ${conversation.id}`;
    await tx`
      update public.messages set conversation_id = ${conversation.id}, routed_at = now()
      where id = ${messageId}`;
    return { status: 200, body: { replies: 0, skipped } };
  }

  // Conversations stay on the version they started with. They move to the
  // published version only when they have none (new, or their version was
  // deleted) or when the number now serves a different bot; the saved state
  // belongs to the old definition then, so the flow starts afresh.
  const keepsVersion = conversation.bot_version_id !== null &&
    conversation.version_bot_id === number.bot_id;
  const botVersionId: string = keepsVersion ? conversation.bot_version_id : published.id;
  const definition: unknown = keepsVersion ? conversation.definition : published.definition;
  const savedState: unknown = keepsVersion && !isEmptyObject(conversation.flow_state)
    ? conversation.flow_state
    : null;

  let decision;
  try {
    decision = await route(
      {
        definition,
        state: savedState,
        message: { id: inbound.id, text: inbound.body },
        contact: { wa_id: inbound.contact_wa_id, name: inbound.contact_name ?? null },
        now_ms: Date.now(),
      } as Parameters<typeof route>[0],
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(422, reason);
  }

  if (decision.replies.length > 0) {
    const rows = decision.replies.map((reply, index) => ({
      number_id: number.id,
      conversation_id: conversation.id,
      direction: "outbound",
      contact_wa_id: inbound.contact_wa_id,
      body: reply.text,
      status: "queued",
      in_reply_to: inbound.id,
      reply_index: index,
    }));
    await tx`
      insert into public.messages ${
      tx(
        rows,
        "number_id",
        "conversation_id",
        "direction",
        "contact_wa_id",
        "body",
        "status",
        "in_reply_to",
        "reply_index",
      )
    }`;
  }
  await tx`
    update public.conversations
    set flow_state = ${tx.json(decision.state as Parameters<typeof tx.json>[0])},
        bot_version_id = ${botVersionId},
        contact_name = coalesce(${inbound.contact_name}, contact_name),
        last_activity_at = now()
    where id = ${conversation.id}`;
  await tx`
    update public.messages set conversation_id = ${conversation.id}, routed_at = now()
    where id = ${messageId}`;
  return { status: 200, body: { replies: decision.replies.length, outcome: decision.outcome } };
}

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method !== "POST") {
      return json(405, { error: "use POST" }, { headers: { allow: "POST" } });
    }
    const denied = requireServiceRole(req);
    if (denied !== null) return denied;

    let request: RouteMessageRequest | null = null;
    try {
      request = parseRequest(await readJson(req, MAX_BODY_BYTES));
      const { messageId } = request;
      const outcome = await withServiceRole((tx) => routeInbound(tx, messageId));
      return json(outcome.status, outcome.body);
    } catch (error) {
      if (error instanceof HttpError && error.status === 422) {
        console.warn(
          `route-message: message ${request?.messageId} (outbox ${request?.outboxId}) not routed: ${error.message}`,
        );
      }
      return errorResponse(error, `route-message ${request?.messageId ?? ""}`);
    }
  },
};
