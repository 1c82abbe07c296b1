/**
 * The checks every send makes, whoever sends: an agent in the admin API
 * (`POST /conversations/{id}/messages`) or another system through the
 * messaging API (`messages-api`, `POST /v1/messages`). Content against
 * WhatsApp's limits, media settled into the bucket (a stored object or a
 * URL fetched through the outbound-URL guard), templates approved and
 * filled, the 24-hour window, and a quoted message of the conversation.
 *
 * @module
 */

import type { Tx } from "../_shared/db.ts";
import { checkOutbound } from "../_shared/content-check.ts";
import { type FetchedMedia, fetchMediaUrl, MediaFetchError } from "../_shared/media-fetch.ts";
import { mediaStore } from "../_shared/media.ts";
import { checkTemplateParameters, type ParameterSpec } from "../_shared/templates.ts";
import { serviceWindow, windowClosedMessage } from "../_shared/window.ts";
import { isMediaKind, type MediaKind } from "../_shared/whatsapp-limits.ts";
import { ApiError, invalid } from "./errors.ts";
import { storeUpload } from "./routes/media.ts";

/** Who sends, for the checks: the transaction and the acting user (null for an API key). */
export interface SendScope {
  tx: Tx;
  /** The signed-in member, recorded as the creator of fetched media; null for an API key. */
  actorId: string | null;
}

/** The longest text message (WhatsApp's limit). */
export const MAX_TEXT_CHARACTERS = 4096;

/**
 * Reads a send's content from a body: `content` (an object with a `kind`)
 * or, in the admin API, `body` (a text message). 400 naming the field.
 */
export function readContent(body: Record<string, unknown>, allowText: boolean): Record<string, unknown> {
  if (body.content !== undefined) {
    if (allowText && body.body !== undefined) throw invalid("send either body or content, not both", "body");
    if (typeof body.content !== "object" || body.content === null || Array.isArray(body.content)) {
      throw invalid('content must be a JSON object with a "kind"', "content");
    }
    return { ...body.content as Record<string, unknown> };
  }
  if (!allowText) throw invalid('content is required: a JSON object with a "kind"', "content");
  const reply = body.body;
  if (typeof reply !== "string") throw invalid("body is required and must be a string", "body");
  if ([...reply].length > MAX_TEXT_CHARACTERS) {
    throw invalid(`body must be at most ${MAX_TEXT_CHARACTERS} characters long`, "body");
  }
  if (reply.trim() === "") throw invalid("body must not be blank", "body");
  return { kind: "text", text: reply };
}

/** `reply_to`, when given: a message UUID (400 otherwise). */
export function readReplyTo(body: Record<string, unknown>): string | undefined {
  const replyTo = body.reply_to;
  if (replyTo === undefined) return undefined;
  if (
    typeof replyTo !== "string" ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(replyTo)
  ) {
    throw invalid("reply_to must be a message's UUID", "reply_to");
  }
  return replyTo.toLowerCase();
}

/**
 * The window and template rules of a send in a conversation: a template
 * must be approved (where the window applies) and its header media
 * stored; free-form content outside an applying window is 422
 * `window_closed`.
 */
export async function checkWindowAndTemplate(
  scope: SendScope,
  conversationId: string | null,
  numberId: string,
  content: Record<string, unknown>,
  windowApplies: boolean,
): Promise<void> {
  const window = conversationId === null ? null : await serviceWindow(scope.tx, conversationId);
  const applies = window?.applies ?? windowApplies;
  if (content.kind === "template") {
    // Templates are the Cloud API's: there they must be approved and
    // synced; other transports render them as they can.
    if (applies) await checkTemplateSend(scope, numberId, content);
    await checkTemplateMedia(scope, content);
  } else if (applies && !(window?.open ?? false)) {
    throw new ApiError(
      422,
      "window_closed",
      window === null
        ? 'content: the contact has never written to this number, so only a template may be sent (content.kind = "template")'
        : windowClosedMessage(window),
      { field: "content", window_closes_at: window?.closesAt ?? null },
    );
  }
}

/** The WhatsApp id of the message `replyTo` quotes, which must be of the conversation and sent. */
export async function quotedWaMessageId(
  scope: SendScope,
  conversationId: string | null,
  replyTo: string | undefined,
): Promise<string | null> {
  if (replyTo === undefined) return null;
  const [quoted] = conversationId === null ? [] : await scope.tx`
    select wa_message_id from public.messages
    where id = ${replyTo}::uuid and conversation_id = ${conversationId}`;
  if (quoted === undefined) {
    throw new ApiError(422, "invalid_content", "reply_to names no message of this conversation", {
      field: "reply_to",
    });
  }
  if (quoted.wa_message_id === null) {
    throw new ApiError(422, "invalid_content", "the quoted message has no WhatsApp id yet (not sent)", {
      field: "reply_to",
    });
  }
  return quoted.wa_message_id as string;
}

/**
 * Settles a media send's file (see {@link settleMedia}) and checks the
 * content again; returns the content and the key of a file fetched for it
 * (to delete when the message cannot be written).
 */
export async function settleContent(
  scope: SendScope,
  content: Record<string, unknown>,
): Promise<{ content: Record<string, unknown>; fetchedKey: string | null }> {
  if (!isMediaKind(content.kind)) return { content, fetchedKey: null };
  const hadUrl = typeof content.url === "string" && typeof content.storage_key !== "string";
  const settled = await settleMedia(scope, content.kind, content);
  refuseProblems(settled);
  return { content: settled, fetchedKey: hadUrl ? settled.storage_key as string : null };
}

/**
 * Runs the message's insert; when it fails after a file was fetched and
 * stored for it, the object is deleted (its media_objects row rolls back
 * with the transaction).
 */
export async function insertMessage<T>(
  fetchedKey: string | null,
  insert: () => Promise<T>,
): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (fetchedKey !== null) await mediaStore().delete(fetchedKey).catch(() => {});
    throw error;
  }
}

/** 422 `invalid_content` when WhatsApp would refuse the content: the first problem's path as `details.field`. */
export function refuseProblems(content: Record<string, unknown>): void {
  const problems = checkOutbound(content);
  if (problems.length === 0) return;
  const errors = problems.map((problem) => ({
    ...problem,
    path: problem.path === "" ? "content" : `content.${problem.path}`,
  }));
  throw new ApiError(422, "invalid_content", `${errors[0].path}: ${errors[0].message}`, {
    field: errors[0].path,
    errors,
  });
}

/**
 * A media send's file: a stored object (`storage_key`, which must have a
 * `media_objects` row; its type, size and hash are filled from it) or a
 * `url`, fetched through the outbound-URL guard, checked and stored, so
 * the content names a storage key either way.
 */
export async function settleMedia(
  context: SendScope,
  kind: MediaKind,
  content: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (typeof content.storage_key === "string") {
    const [object] = await context.tx`
      select storage_key, mime_type, size_bytes, sha256, filename from public.media_objects
      where storage_key = ${content.storage_key}`;
    if (object === undefined) {
      throw new ApiError(
        422,
        "invalid_content",
        `content.storage_key: no stored file ${content.storage_key}`,
        {
          field: "content.storage_key",
        },
      );
    }
    return {
      ...content,
      mime_type: object.mime_type,
      size_bytes: Number(object.size_bytes),
      sha256: object.sha256,
      filename: content.filename ?? object.filename ?? undefined,
    };
  }
  if (typeof content.url !== "string") return content;
  let fetched: FetchedMedia;
  try {
    fetched = await fetchMediaUrl(
      content.url,
      kind,
      typeof content.mime_type === "string" ? content.mime_type : null,
    );
  } catch (error) {
    if (!(error instanceof MediaFetchError)) throw error;
    throw error.status === 413
      ? new ApiError(413, "payload_too_large", `content.url: ${error.message}`, {
        field: "content.url",
        max_bytes: error.maxBytes,
      })
      : new ApiError(422, "invalid_content", `content.url: ${error.message}`, { field: "content.url" });
  }
  const { bytes } = fetched;
  const filename = typeof content.filename === "string" ? content.filename : null;
  const stored = await storeUpload(context, { bytes, mimeType: fetched.mimeType, kind, filename }, {
    type: "content.mime_type",
    size: "content.url",
  });
  const { url: _, ...rest } = content;
  return {
    ...rest,
    storage_key: stored.storage_key,
    mime_type: stored.mime_type,
    size_bytes: stored.size_bytes,
    sha256: stored.sha256,
  };
}

/**
 * A template's header media named by `storage_key` must be a stored file
 * (422 naming its path); its type and size are filled from the row and
 * checked again.
 */
export async function checkTemplateMedia(context: SendScope, content: Record<string, unknown>) {
  const components = Array.isArray(content.components) ? content.components : [];
  for (const [c, component] of components.entries()) {
    const parameters = Array.isArray(component?.parameters) ? component.parameters : [];
    for (const [p, parameter] of parameters.entries()) {
      const media = parameter?.media as Record<string, unknown> | undefined;
      if (typeof media?.storage_key !== "string") continue;
      const path = `content.components[${c}].parameters[${p}].media.storage_key`;
      const [object] = await context.tx`
        select mime_type, size_bytes, sha256 from public.media_objects where storage_key = ${media.storage_key}`;
      if (object === undefined) {
        throw new ApiError(422, "invalid_content", `${path}: no stored file ${media.storage_key}`, {
          field: path,
        });
      }
      Object.assign(media, {
        mime_type: object.mime_type,
        size_bytes: Number(object.size_bytes),
        sha256: object.sha256,
      });
    }
  }
  refuseProblems(content);
}

/**
 * A template send must name an APPROVED template of the number (422
 * `template_not_approved` naming `content.name`) and fill its parameters
 * (422 `template_parameters` naming the component).
 */
export async function checkTemplateSend(
  context: SendScope,
  numberId: string,
  content: Record<string, unknown>,
) {
  const [template] = await context.tx`
    select status, parameter_spec from public.message_templates
    where number_id = ${numberId} and name = ${content.name as string} and language = ${content
    .language as string}`;
  if (template === undefined || template.status !== "APPROVED") {
    throw new ApiError(
      422,
      "template_not_approved",
      template === undefined
        ? `content.name: the number has no template ${content.name} in ${content.language}; sync its templates (POST /numbers/{id}/templates/sync) or pick an approved one`
        : `content.name: the template ${content.name} (${content.language}) is ${template.status}, not APPROVED`,
      { field: "content.name", status: template?.status ?? null },
    );
  }
  const problem = checkTemplateParameters(content, template.parameter_spec as ParameterSpec[]);
  if (problem !== null) {
    throw new ApiError(422, problem.code, `${problem.field}: ${problem.message}`, { field: problem.field });
  }
}
