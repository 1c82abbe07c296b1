/**
 * Sending through the messaging API: one message (`POST /v1/messages`) or
 * many (`POST /v1/messages/bulk`), with the same checks as an agent's send
 * (`../admin-api/send.ts`) plus the API's own: the key's numbers, the
 * number connected, the contact not opted out, the conversation not taken
 * over by an agent (unless the key holds `conversations:override_handoff`),
 * and idempotency keys.
 *
 * A send writes a queued outbound message; the session daemon sends it
 * through the same queue, pacing and ban-risk rules as the bot's replies.
 *
 * @module
 */

import type { Tx } from "../_shared/db.ts";
import { isUuid, onlyFields } from "../admin-api/api.ts";
import { ApiError, invalid } from "../admin-api/errors.ts";
import {
  checkWindowAndTemplate,
  insertMessage,
  quotedWaMessageId,
  readContent,
  readReplyTo,
  refuseProblems,
  type SendScope,
  settleContent,
} from "../admin-api/send.ts";
import { type ApiKeyInfo, requireNumber, sha256Hex } from "./auth.ts";

/** The most messages one bulk call takes. */
export const MAX_BULK_MESSAGES = 100;

/** The fields of one send. */
export const SEND_FIELDS = ["number_id", "to", "content", "reply_to"];

/** Session statuses a number can be sent from (the daemon queues and paces). */
const SENDABLE_STATUSES = ["connected", "degraded", "rate_limited"];

/** An Idempotency-Key: 1 to 255 printable ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** What a send answers (202). */
export interface SendAccepted {
  id: string;
  status: string;
  number_id: string;
  conversation_id: string;
  to: string;
  created_at: string;
}

/** Reads `to`: a phone number in E.164 (`+15551234567`, the `+` optional); returns its digits. */
export function readRecipient(body: Record<string, unknown>, prefix = ""): string {
  const to = body.to;
  if (typeof to !== "string" || !/^\+?[1-9][0-9]{6,14}$/.test(to)) {
    throw invalid(`${prefix}to must be a phone number in E.164 form, such as +15551234567`, `${prefix}to`);
  }
  return to.replace(/^\+/, "");
}

/** Reads `Idempotency-Key`, or null. 400 when malformed. */
export function idempotencyKeyOf(req: Request): string | null {
  const key = req.headers.get("idempotency-key");
  if (key === null) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalid("Idempotency-Key must be 1 to 255 printable ASCII characters", "Idempotency-Key");
  }
  return key;
}

/** A stable text of a JSON value (sorted keys), for the request's hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${
      Object.keys(value).sort().map((key) =>
        `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A stored answer to replay. */
export interface Replayed {
  status: number;
  body: SendAccepted;
}

/**
 * Claims an idempotency key for this request in the transaction: null when
 * the key is new (the send goes on, and {@link rememberAnswer} stores its
 * answer), the stored answer when the same request came before, 422
 * `idempotency_key_reused` for another request under the same key. A
 * concurrent duplicate waits for the first to commit, then replays it; a
 * failed send rolls its claim back, so it can be retried.
 */
export async function claimIdempotencyKey(
  tx: Tx,
  key: ApiKeyInfo,
  idempotencyKey: string,
  request: unknown,
): Promise<Replayed | null> {
  const requestHash = await sha256Hex(canonical(request));
  for (let attempt = 0; attempt < 2; attempt++) {
    const [claimed] = await tx`
      insert into private.api_idempotency_keys (api_key_id, idempotency_key, request_sha256)
      values (${key.id}, ${idempotencyKey}, ${requestHash})
      on conflict (api_key_id, idempotency_key) do nothing
      returning 1 as claimed`;
    if (claimed !== undefined) return null;
    const [existing] = await tx`
      select request_sha256, response_status, response, created_at < now() - interval '24 hours' as expired
      from private.api_idempotency_keys
      where api_key_id = ${key.id} and idempotency_key = ${idempotencyKey}`;
    if (existing === undefined) continue;
    if (existing.expired) {
      await tx`
        delete from private.api_idempotency_keys
        where api_key_id = ${key.id} and idempotency_key = ${idempotencyKey}`;
      continue;
    }
    if (existing.request_sha256 !== requestHash) {
      throw new ApiError(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request in the last 24 hours; use a new key",
        { field: "Idempotency-Key" },
      );
    }
    return { status: existing.response_status as number, body: existing.response as SendAccepted };
  }
  throw new ApiError(409, "conflict", "the Idempotency-Key is being used by a concurrent request; retry");
}

/** Stores a send's answer under its idempotency key. */
export async function rememberAnswer(
  tx: Tx,
  key: ApiKeyInfo,
  idempotencyKey: string,
  status: number,
  body: SendAccepted,
): Promise<void> {
  await tx`
    update private.api_idempotency_keys
    set response_status = ${status}, response = ${tx.json(body as never)}
    where api_key_id = ${key.id} and idempotency_key = ${idempotencyKey}`;
}

/** Finds or creates the conversation of a number with a contact (digits). */
async function conversationFor(tx: Tx, numberId: string, digits: string): Promise<Record<string, unknown>> {
  const forms = [digits, `+${digits}`, `${digits}@s.whatsapp.net`];
  const [found] = await tx`
    select id, contact_wa_id, mode, opted_out from public.conversations
    where number_id = ${numberId} and contact_wa_id = any(${forms}::text[])
    order by last_activity_at desc limit 1`;
  if (found !== undefined) return found;
  const [created] = await tx`
    insert into public.conversations (number_id, contact_wa_id)
    values (${numberId}, ${digits})
    on conflict (number_id, contact_wa_id) do update set contact_wa_id = excluded.contact_wa_id
    returning id, contact_wa_id, mode, opted_out`;
  return created;
}

/**
 * Sends one message (the body of `POST /v1/messages` or one item of a
 * bulk call) in the caller's transaction; `path` prefixes the fields
 * named in errors (`messages[3].`).
 */
export async function sendOne(
  tx: Tx,
  key: ApiKeyInfo,
  body: Record<string, unknown>,
  path = "",
): Promise<SendAccepted> {
  try {
    return await send(tx, key, body, path);
  } catch (error) {
    throw prefixed(error, path);
  }
}

async function send(
  tx: Tx,
  key: ApiKeyInfo,
  body: Record<string, unknown>,
  path: string,
): Promise<SendAccepted> {
  onlyFields(body, path === "" ? SEND_FIELDS : [...SEND_FIELDS, "idempotency_key"]);
  const numberId = body.number_id;
  if (!isUuid(numberId)) throw invalid(`${path}number_id must be a number's UUID`, `${path}number_id`);
  const digits = readRecipient(body, path);
  const replyTo = readReplyTo(body);
  let content = readContent(body, false);
  refuseProblems(content);
  requireNumber(key, numberId.toLowerCase(), `${path}number_id`);

  const [number] = await tx`
    select id, transport, session_status from public.numbers where id = ${numberId}::uuid`;
  if (number === undefined) {
    throw new ApiError(404, "unknown_number", `no number ${numberId}`, { field: `${path}number_id` });
  }
  if (!SENDABLE_STATUSES.includes(number.session_status as string)) {
    throw new ApiError(
      409,
      "number_not_connected",
      `the number's session is ${number.session_status}; it sends when connected (see GET /numbers/{id} in the admin API)`,
      { field: `${path}number_id`, session_status: number.session_status },
    );
  }
  const conversation = await conversationFor(tx, number.id as string, digits);
  if (conversation.opted_out) {
    throw new ApiError(422, "opted_out", `the contact ${digits} opted out of messages from this number`, {
      field: `${path}to`,
    });
  }
  if (conversation.mode === "human" && !key.scopes.includes("conversations:override_handoff")) {
    throw new ApiError(
      409,
      "conversation_taken_over",
      "an agent has taken this conversation over; the key needs the scope conversations:override_handoff to send into it",
      { field: `${path}to`, conversation_id: conversation.id },
    );
  }
  const scope: SendScope = { tx, actorId: null };
  const conversationId = conversation.id as string;
  {
    await checkWindowAndTemplate(
      scope,
      conversationId,
      number.id as string,
      content,
      number.transport === "cloud",
    );
    const contextWaMessageId = await quotedWaMessageId(scope, conversationId, replyTo);
    const settled = await settleContent(scope, content);
    content = settled.content;
    const [message] = await insertMessage(settled.fetchedKey, async () =>
      await tx`
      insert into public.messages
        (number_id, conversation_id, direction, contact_wa_id, body, content, context_wa_message_id,
         payload, status, api_key_id)
      values (${number.id as string}, ${conversationId}, 'outbound', ${conversation
        .contact_wa_id as string}, '',
              ${tx.json(content as never)}, ${contextWaMessageId}, '{}'::jsonb, 'queued', ${key.id})
      returning id, status, number_id, conversation_id, created_at`);
    return {
      id: message.id as string,
      status: message.status as string,
      number_id: message.number_id as string,
      conversation_id: message.conversation_id as string,
      to: `+${digits}`,
      created_at: new Date(message.created_at as string).toISOString(),
    };
  }
}

/** The error with its field (and message) under `path`, for a bulk item. */
function prefixed(error: unknown, path: string): unknown {
  if (path === "" || !(error instanceof ApiError)) return error;
  const field = error.details?.field;
  if (typeof field !== "string" || field.startsWith(path)) return error;
  return new ApiError(error.status, error.code, `${path}${error.message}`, {
    ...error.details,
    field: `${path}${field}`,
  });
}
