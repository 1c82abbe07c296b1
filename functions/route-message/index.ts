/**
 * `route-message`: routes one inbound WhatsApp message through its bot.
 *
 * Called by the outbox relay (the relay secret, or the service role: a
 * legacy service-role JWT or an `sb_secret_…` key) with
 * `{"outbox_id": <n>, "message_id": "<uuid of the inbound messages row>"}`.
 * In one transaction, as `service_role`, it locks the inbound message, finds
 * or creates its conversation, runs the Wasm routing over the conversation's
 * bot version, and writes the replies as queued outbound messages together
 * with the conversation's new state and the inbound's `routed_at`.
 *
 * The work is {@link handleRouteMessage}, which the `outbox-relay` function
 * also calls in-process for `route-message` rows.
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

import { WasmTrapError } from "../_shared/wasm-instance.ts";
import { authenticateWorkerCall, readClaims } from "../_shared/auth.ts";
import { type Tx, withServiceRole } from "../_shared/db.ts";
import { errorResponse, HttpError, json, readJson } from "../_shared/http.ts";
import {
  type Content,
  type ConversationState,
  hasCompiledBot,
  type OutboundMessage,
  route,
  selectVersion,
} from "../_shared/routing.ts";
import type { WorkerOutcome } from "../_shared/worker.ts";
import { fetchMediaUrl, MediaFetchError } from "../_shared/media-fetch.ts";
import { mediaStore, sha256Hex } from "../_shared/media.ts";
import { isMediaKind, mimeProblem } from "../_shared/whatsapp-limits.ts";

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
type Outcome = WorkerOutcome;

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

/** A row of the bot version a conversation routes with. */
interface VersionRow {
  id: string;
  checksum: string;
  definition: unknown;
}

/** The shape of a `system` notice that says the contact changed number. */
function changedNumber(content: Content | null): string | null {
  if (content?.kind !== "system" || content.system_type !== "user_changed_number") return null;
  const newWaId = content.new_wa_id;
  return typeof newWaId === "string" && /^[0-9]{5,20}$/.test(newWaId) ? newWaId : null;
}

/** How long route-message waits for a bot's media URL (WhatsApp Web copies). */
const BOT_MEDIA_FETCH_TIMEOUT_MS = 10_000;

/**
 * A WhatsApp Web session uploads a file's bytes itself, and the daemon
 * reads only the media bucket, never a user's URL: a bot's media named by
 * URL is fetched once per version through the outbound-URL guard, checked,
 * stored at `bots/<bot id>/<sha256>` and recorded in `bot_version_media`;
 * the reply then names the stored copy. A URL that cannot be used leaves the
 * reply with `storage_error` saying why (the daemon then fails it, unsent).
 */
async function webCopyOf(
  tx: Tx,
  botId: string,
  versionId: string,
  content: OutboundMessage,
): Promise<OutboundMessage> {
  if (!isMediaKind(content.kind)) return content;
  const media = content as OutboundMessage & {
    url?: string | null;
    storage_key?: string | null;
    media_id?: string | null;
    mime_type?: string | null;
    filename?: string | null;
  };
  if (typeof media.url !== "string" || media.storage_key || media.media_id) return content;
  const kind = content.kind;
  const [known] = await tx`
    select o.storage_key, o.mime_type, o.size_bytes, o.sha256
    from public.bot_version_media b join public.media_objects o using (storage_key)
    where b.bot_version_id = ${versionId} and b.url = ${media.url}`;
  if (known !== undefined) {
    return {
      ...media,
      storage_key: known.storage_key as string,
      mime_type: known.mime_type as string,
      size_bytes: Number(known.size_bytes),
      sha256: known.sha256 as string,
    } as OutboundMessage;
  }
  try {
    const fetched = await fetchMediaUrl(media.url, kind, media.mime_type ?? null, BOT_MEDIA_FETCH_TIMEOUT_MS);
    const problem = mimeProblem(kind, fetched.mimeType);
    if (problem !== null) throw new MediaFetchError(problem, 422);
    const sha256 = await sha256Hex(fetched.bytes);
    const storageKey = `bots/${botId}/${sha256}`;
    await mediaStore().put(storageKey, fetched.bytes, fetched.mimeType, sha256);
    await tx`
      insert into public.media_objects (storage_key, kind, mime_type, size_bytes, sha256, filename, source)
      values (${storageKey}, ${kind}, ${fetched.mimeType}, ${fetched.bytes.byteLength}, ${sha256},
              ${media.filename ?? null}, 'import')
      on conflict (storage_key) do nothing`;
    await tx`
      insert into public.bot_version_media (bot_version_id, url, storage_key)
      values (${versionId}, ${media.url}, ${storageKey})
      on conflict do nothing`;
    return {
      ...media,
      storage_key: storageKey,
      mime_type: fetched.mimeType,
      size_bytes: fetched.bytes.byteLength,
      sha256,
    } as OutboundMessage;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ...media,
      storage_error: `the file at the url cannot be sent on WhatsApp Web: ${reason.slice(0, 300)}`,
    } as OutboundMessage;
  }
}

/** Routes one inbound message inside the caller's service-role transaction. */
async function routeInbound(tx: Tx, messageId: string): Promise<Outcome> {
  // The message (locked), its number, the number's bot and its published
  // version, in one round trip. The number exists: messages.number_id is a
  // foreign key.
  const [inbound] = await tx`
    select m.id, m.number_id, m.contact_wa_id, m.contact_name, m.body, m.payload, m.routed_at, m.type,
           m.content, n.transport,
           n.bot_id, b.canary_version_id, b.canary_share_percent,
           p.id as published_id, p.version as published_version
    from public.messages m
    join public.numbers n on n.id = m.number_id
    left join public.bots b on b.id = n.bot_id
    left join lateral (
      select v.id, v.version from public.bot_versions v
      where v.bot_id = n.bot_id and v.status = 'published'
      limit 1
    ) p on true
    where m.id = ${messageId} and m.direction = 'inbound'
    for update of m`;
  if (inbound === undefined) {
    throw new HttpError(404, `unknown inbound message ${messageId}`);
  }
  if (inbound.routed_at !== null) {
    const [existing] = await tx`
      select count(*)::int as n_replies from public.messages where in_reply_to = ${messageId}`;
    return { status: 200, body: { duplicate: true, replies: existing.n_replies } };
  }
  const number = {
    id: inbound.number_id as string,
    bot_id: inbound.bot_id as string | null,
    canary_version_id: inbound.canary_version_id as string | null,
    canary_share_percent: inbound.canary_share_percent as number | null,
  };
  const published = inbound.published_id === null
    ? undefined
    : { id: inbound.published_id as string, version: inbound.published_version as number };

  const lockConversation = () =>
    tx`
    select c.id, c.bot_version_id, c.flow_state, c.mode, c.opted_out, c.contact_id,
           v.bot_id as version_bot_id, coalesce(k.attributes, '{}'::jsonb) as attributes
    from public.conversations c
    left join public.bot_versions v on v.id = c.bot_version_id
    left join public.contacts k on k.id = c.contact_id
    where c.number_id = ${number.id} and c.contact_wa_id = ${inbound.contact_wa_id}
    for update of c`;
  // Most messages continue a conversation, so look first: an insert, even
  // one that conflicts, runs the contact-linking trigger (about 0.6 ms of
  // Postgres time in the load profile).
  let [conversation] = await lockConversation();
  if (conversation === undefined) {
    await tx`
      insert into public.conversations (number_id, contact_wa_id, contact_name)
      values (${number.id}, ${inbound.contact_wa_id}, ${inbound.contact_name})
      on conflict (number_id, contact_wa_id) do nothing`;
    [conversation] = await lockConversation();
  }

  const markRouted = async () => {
    await tx`
      with touched as (
        update public.conversations
        set last_activity_at = now(), contact_name = coalesce(${inbound.contact_name}, contact_name)
        where id = ${conversation.id}
      )
      update public.messages set conversation_id = ${conversation.id}, routed_at = now()
      where id = ${messageId}`;
  };
  const content = inbound.content as Content | null;
  // The contact changed number: their identity moves to the new id and
  // nothing more goes to the old one (which may be someone else's now). The
  // notice itself is kept in the conversation; the bot does not answer it.
  const newWaId = changedNumber(content);
  if (newWaId !== null) {
    await markRouted();
    const [change] = await tx`
      select private.apply_contact_number_change(${number.id}, ${inbound.contact_wa_id}, ${newWaId}) as result`;
    return { status: 200, body: { replies: 0, skipped: "number_changed", change: change.result } };
  }
  if (number.bot_id === null || published === undefined) {
    await markRouted();
    const skipped = number.bot_id === null ? "no_bot" : "no_published_version";
    return { status: 200, body: { replies: 0, skipped } };
  }

  // A closed conversation that hears from the contact again starts afresh.
  const reopened = conversation.mode === "closed";
  // Conversations stay on the version they started with, unless the number
  // now serves another bot; new ones go to the published version or, for a
  // sticky share of contacts, to the canary (the Wasm core decides).
  const keepsVersion = !reopened && conversation.bot_version_id !== null &&
    conversation.version_bot_id === number.bot_id;
  const canary = number.canary_version_id === null ? null : await tx`
    select version from public.bot_versions where id = ${number.canary_version_id}`.then(([row]) =>
    row === undefined ? null : {
      version_id: number.canary_version_id as string,
      number: row.version as number,
      share_basis_points: (number.canary_share_percent as number) * 100,
    }
  );
  const choice = selectVersion({
    bot: {
      bot_id: number.bot_id,
      published: { version_id: published.id, number: published.version },
      canary,
    },
    conversation_version_id: keepsVersion ? conversation.bot_version_id : null,
    contact_id: inbound.contact_wa_id,
  });
  // The definition is read only when this isolate has not compiled it yet
  // (versions are immutable once published, and the key has the checksum).
  const [version] = await tx<Omit<VersionRow, "definition">[]>`
    select id, checksum from public.bot_versions where id = ${choice.version_id}`;
  const definitionKey = `${version.id}:${version.checksum}`;
  const definition = hasCompiledBot(definitionKey) ? null : (await tx<VersionRow[]>`
    select definition from public.bot_versions where id = ${version.id}`)[0].definition;

  // The conversation's row is the truth for take-over and opt-out (people
  // change them in the inbox); the flow state carries the rest.
  const savedState = keepsVersion && !isEmptyObject(conversation.flow_state)
    ? conversation.flow_state as ConversationState
    : null;
  const state: ConversationState = {
    ...(savedState ?? {}),
    handoff: conversation.mode === "human",
    opted_out: conversation.opted_out,
  };

  let decision;
  try {
    decision = route({
      definitionKey,
      definition,
      state,
      message: {
        id: inbound.id,
        text: inbound.body,
        reply_id: typeof inbound.payload?.reply_id === "string" ? inbound.payload.reply_id : null,
        content,
      },
      contact: {
        wa_id: inbound.contact_wa_id,
        name: inbound.contact_name ?? null,
        attributes: conversation.attributes,
      },
      now_ms: Date.now(),
      seed: seedFromId(inbound.id),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A trap is no verdict on the message: the instance was replaced, so
    // the outbox's retry meets a fresh one (503 is retried, 422 is not).
    if (error instanceof WasmTrapError) throw new HttpError(503, reason);
    throw new HttpError(422, reason);
  }

  let nReplies = 0;
  // The replies, written with the conversation and the routed mark below.
  const replies: Array<{ content: OutboundMessage; reply_index: number }> = [];
  let mode: string = reopened ? "bot" : conversation.mode;
  let optedOut: boolean = conversation.opted_out;
  const attributes: Record<string, string> = {};
  for (const action of decision.actions) {
    switch (action.type) {
      case "send_message": {
        // The content is stored as the routing wrote it (a WhatsApp Web
        // number's media by URL with its bucket copy); the messages trigger
        // derives `type` and the `body` summary from it.
        const content = inbound.transport === "web"
          ? await webCopyOf(tx, number.bot_id, version.id, action.message)
          : action.message;
        replies.push({ content, reply_index: nReplies });
        nReplies++;
        break;
      }
      case "handoff":
        mode = "human";
        break;
      case "opt_out":
        optedOut = true;
        break;
      case "opt_in":
        optedOut = false;
        break;
      case "set_contact_attribute":
        attributes[action.name] = action.value;
        break;
      case "notify":
        // A message for the team: an informational alert, delivered to the
        // alert channels and closed by a person.
        await tx`
          insert into public.alerts (kind, severity, number_id, dedupe_key, title, details)
          values ('bot_notification', 'info', ${number.id}, ${`bot_notification:${inbound.id}:${nReplies}`},
                  ${action.text},
                  ${tx.json({ conversation_id: conversation.id, contact_wa_id: inbound.contact_wa_id })})
          on conflict do nothing`;
        break;
      case "tag":
      case "untag":
        // Tags live in the state; they are mirrored into conversations.tags below.
        break;
    }
  }
  // A Cloud API conversation whose 24-hour window closed before the message
  // was routed (routing that lagged a day behind an outage) can take only
  // templates: free-form replies would be refused by WhatsApp (131047), and
  // by the database's window trigger. They are not queued; the team is told.
  let heldBack = 0;
  if (replies.some((reply) => reply.content.kind !== "template")) {
    const [window] = await tx`
      select window_applies, window_open from private.service_window(${conversation.id})`;
    if (window?.window_applies === true && window.window_open === false) {
      const kept = replies.filter((reply) => reply.content.kind === "template");
      heldBack = replies.length - kept.length;
      replies.splice(0, replies.length, ...kept.map((reply, index) => ({ ...reply, reply_index: index })));
      nReplies = replies.length;
      await tx`
        insert into public.alerts (kind, severity, number_id, dedupe_key, title, details)
        values ('bot_notification', 'info', ${number.id}, ${`window_closed:${inbound.id}`},
                ${`${heldBack} bot repl${
        heldBack === 1 ? "y" : "ies"
      } not sent: the 24-hour window had closed`},
                ${tx.json({ conversation_id: conversation.id, contact_wa_id: inbound.contact_wa_id })})
        on conflict do nothing`;
    }
  }
  if (Object.keys(attributes).length > 0 && conversation.contact_id !== null) {
    await tx`
      update public.contacts set attributes = attributes || ${tx.json(attributes)}
      where id = ${conversation.contact_id}`;
  }
  // The replies, the conversation and the routed mark in one round trip (a
  // data-modifying WITH runs whether or not it is referenced).
  await tx`
    with queued as (
      insert into public.messages
        (number_id, conversation_id, direction, contact_wa_id, content, status, in_reply_to, reply_index)
      select ${number.id}, ${conversation.id}, 'outbound', ${inbound.contact_wa_id}, r.content,
             'queued', ${inbound.id}, r.reply_index
      from jsonb_to_recordset(${tx.json(replies as Parameters<typeof tx.json>[0])})
        as r(content jsonb, reply_index int)
      order by r.reply_index
    ),
    saved as (
      update public.conversations
      set flow_state = ${tx.json(decision.state as Parameters<typeof tx.json>[0])},
          bot_version_id = ${version.id},
          mode = ${mode},
          opted_out = ${optedOut},
          tags = ${decision.state.tags ?? []},
          contact_name = coalesce(${inbound.contact_name}, contact_name),
          last_activity_at = now()
      where id = ${conversation.id}
    )
    update public.messages set conversation_id = ${conversation.id}, routed_at = now()
    where id = ${messageId}`;
  return {
    status: 200,
    body: {
      replies: nReplies,
      ...(heldBack > 0 ? { held_back_window_closed: heldBack } : {}),
      outcome: decision.outcome,
      version_id: version.id,
      version_reason: choice.reason,
    },
  };
}

/** A stable 32-bit seed from a message id, so a redelivery decides alike. */
export function seedFromId(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The topic handler for `route-message` outbox rows, called by the
 * `outbox-relay` function in-process and by this function's `fetch`.
 */
export async function handleRouteMessage(body: unknown): Promise<WorkerOutcome> {
  let request: RouteMessageRequest | null = null;
  try {
    request = parseRequest(body);
    const { messageId } = request;
    return await withServiceRole((tx) => routeInbound(tx, messageId));
  } catch (error) {
    if (error instanceof HttpError && error.status === 422) {
      console.warn(
        `route-message: message ${request?.messageId} (outbox ${request?.outboxId}) not routed: ${error.message}`,
      );
    }
    if (error instanceof HttpError) {
      return { status: error.status, body: { error: error.message } };
    }
    throw error;
  }
}

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method !== "POST") {
      return json(405, { error: "use POST" }, { headers: { allow: "POST" } });
    }
    // A user's or the anon key's JWT is refused with 403 without more ado
    // (decoded only: refusing needs no signature). Otherwise the caller is
    // authenticated like the other workers: the outbox relay's secret, the
    // service-role key (legacy JWT or an `sb_secret_…` key from
    // SUPABASE_SECRET_KEYS) or a verified service_role JWT. The function runs
    // with verify_jwt = false, because the router refuses `sb_secret_…`
    // bearers, which are not JWTs.
    const claims = readClaims(req);
    if (claims !== null && claims.role !== undefined && claims.role !== "service_role") {
      return json(403, { error: "this function requires the service_role role" });
    }
    const caller = await authenticateWorkerCall(req);
    if (caller instanceof Response) return caller;
    try {
      const outcome = await handleRouteMessage(await readJson(req, MAX_BODY_BYTES));
      return json(outcome.status, outcome.body);
    } catch (error) {
      return errorResponse(error, "route-message");
    }
  },
};
