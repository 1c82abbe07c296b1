/**
 * Conversations: the inbox (list with filters), a conversation's thread,
 * taking over from the bot, handing back, closing, and replying as an agent.
 *
 * @module
 */

import { type ConversationState, releaseHandoff } from "../../_shared/routing.ts";
import {
  afterCursor,
  type Context,
  likePattern,
  onlyFields,
  PAGE_PARAMETERS,
  pageRequest,
  queryBoolean,
  queryChoices,
  queryText,
  queryUuid,
  type RouteDefinition,
  toPage,
  uuidParam,
} from "../api.ts";
import { conflict, notFound } from "../errors.ts";
import { pageOf, ref } from "../schemas.ts";
import {
  checkWindowAndTemplate,
  insertMessage,
  MAX_TEXT_CHARACTERS,
  quotedWaMessageId,
  readContent,
  readReplyTo,
  refuseProblems,
  type SendScope,
  settleContent,
} from "../send.ts";

const MODES = ["bot", "human", "closed"] as const;

const CONVERSATION_COLUMNS = [
  "id",
  "number_id",
  "contact_wa_id",
  "contact_name",
  "contact_id",
  "bot_version_id",
  "mode",
  "assigned_to",
  "opted_out",
  "tags",
  "flow_state",
  "last_activity_at",
  "last_inbound_at",
  "created_at",
  "updated_at",
];

/** The conversation's 24-hour window, beside its columns (`private.service_window`). */
const WINDOW_COLUMNS = ["window_applies", "window_open", "window_closes_at"];

const MESSAGE_COLUMNS = [
  "id",
  "number_id",
  "conversation_id",
  "direction",
  "wa_message_id",
  "type",
  "body",
  "content",
  "context_wa_message_id",
  "payload",
  "status",
  "author_id",
  "in_reply_to",
  "reply_index",
  "created_at",
  "sent_at",
  "delivered_at",
  "read_at",
  "failed_at",
  "error",
];

/** The longest reply an agent may send (WhatsApp's limit for a text message). */
const MAX_REPLY_CHARACTERS = MAX_TEXT_CHARACTERS;

async function readConversation(context: Context, conversationId: string): Promise<Record<string, unknown>> {
  const [conversation] = await context.tx`
    select ${context.tx(CONVERSATION_COLUMNS)}, ${context.tx(WINDOW_COLUMNS)}
    from public.conversations cross join lateral private.service_window(id)
    where id = ${conversationId}`;
  if (conversation === undefined) throw notFound(`conversation ${conversationId}`);
  return conversation;
}

const conversationIdParameter = { conversation_id: { type: "string", format: "uuid" } };

function isEmptyObject(value: unknown): boolean {
  return typeof value !== "object" || value === null || Object.keys(value).length === 0;
}

export const conversationRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/conversations",
    operationId: "listConversations",
    summary: "The inbox: conversations, most recently active first",
    tag: "conversations",
    minRole: "viewer",
    query: [
      {
        name: "number_id",
        description: "Only this number's conversations.",
        schema: { type: "string", format: "uuid" },
      },
      {
        name: "mode",
        description: "Only these modes (comma-separated): bot, human, closed.",
        schema: { type: "string" },
      },
      {
        name: "opted_out",
        description: "Only opted-out (`true`) or not (`false`).",
        schema: { type: "boolean" },
      },
      { name: "tag", description: "Only conversations with this tag.", schema: { type: "string" } },
      {
        name: "assigned_to",
        description: "Only conversations assigned to this member (`me` for the caller).",
        schema: { type: "string" },
      },
      { name: "q", description: "A part of the contact's id or name.", schema: { type: "string" } },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of conversations.", schema: pageOf("Conversation") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const numberId = queryUuid(url, "number_id");
      const modes = queryChoices(url, "mode", MODES);
      const optedOut = queryBoolean(url, "opted_out");
      const tag = queryText(url, "tag");
      const assignedText = queryText(url, "assigned_to");
      let assignedTo: string | null = null;
      if (assignedText !== undefined) {
        assignedTo = assignedText === "me" ? context.claims.sub : queryUuid(url, "assigned_to")!;
      }
      const q = queryText(url, "q");
      const pattern = q === undefined ? null : likePattern(q);
      const rows = await tx`
        select ${tx(CONVERSATION_COLUMNS)}, ${tx(WINDOW_COLUMNS)},
               json_build_array(last_activity_at, id)::text as _key
        from public.conversations cross join lateral private.service_window(id)
        where (${numberId ?? null}::uuid is null or number_id = ${numberId ?? null}::uuid)
          and (${modes ?? null}::text[] is null or mode = any(${modes ?? null}::text[]))
          and (${optedOut ?? null}::boolean is null or opted_out = ${optedOut ?? null}::boolean)
          and (${tag ?? null}::text is null or ${tag ?? null}::text = any(tags))
          and (${assignedTo}::uuid is null or assigned_to = ${assignedTo}::uuid)
          and (${pattern}::text is null or contact_wa_id ilike ${pattern}::text
               or contact_name ilike ${pattern}::text)
          and ${afterCursor(tx, page, "last_activity_at", "id")}
        order by last_activity_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "GET",
    path: "/conversations/{conversation_id}",
    operationId: "getConversation",
    summary: "Read a conversation",
    tag: "conversations",
    minRole: "viewer",
    pathParameters: conversationIdParameter,
    response: { status: 200, description: "The conversation.", schema: ref("Conversation") },
    async handler(context) {
      return { body: await readConversation(context, uuidParam(context, "conversation_id")) };
    },
  },
  {
    method: "GET",
    path: "/conversations/{conversation_id}/messages",
    operationId: "listConversationMessages",
    summary: "The conversation's thread, newest first",
    tag: "conversations",
    minRole: "viewer",
    pathParameters: conversationIdParameter,
    query: PAGE_PARAMETERS,
    response: { status: 200, description: "A page of messages.", schema: pageOf("Message") },
    async handler(context) {
      const { tx, url } = context;
      const conversationId = uuidParam(context, "conversation_id");
      await readConversation(context, conversationId);
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const rows = await tx`
        select ${tx(MESSAGE_COLUMNS)}, json_build_array(created_at, id)::text as _key
        from public.messages
        where conversation_id = ${conversationId}
          and ${afterCursor(tx, page, "created_at", "id")}
        order by created_at desc, id desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/conversations/{conversation_id}/takeover",
    operationId: "takeOverConversation",
    summary: "Take the conversation over from the bot (mode human, assigned to the caller)",
    description:
      "The bot stays silent while the conversation is in human mode. Audited as `conversations.mode_changed`.",
    tag: "conversations",
    minRole: "operator",
    pathParameters: conversationIdParameter,
    response: { status: 200, description: "The conversation.", schema: ref("Conversation") },
    async handler(context) {
      const conversationId = uuidParam(context, "conversation_id");
      await readConversation(context, conversationId);
      await context.tx`
        update public.conversations set mode = 'human', assigned_to = ${context.claims.sub}
        where id = ${conversationId}`;
      return { body: await readConversation(context, conversationId) };
    },
  },
  {
    method: "POST",
    path: "/conversations/{conversation_id}/release",
    operationId: "releaseConversation",
    summary: "Hand the conversation back to the bot",
    description:
      "Sets mode `bot` (unassigning it) as the caller, and releases the handoff in the stored flow state with the routing core's `release_handoff`, so the bot picks up where the flow allows.",
    tag: "conversations",
    minRole: "operator",
    pathParameters: conversationIdParameter,
    response: { status: 200, description: "The conversation.", schema: ref("Conversation") },
    async handler(context) {
      const conversationId = uuidParam(context, "conversation_id");
      const conversation = await readConversation(context, conversationId);
      await context.tx`update public.conversations set mode = 'bot' where id = ${conversationId}`;
      if (!isEmptyObject(conversation.flow_state)) {
        const released = releaseHandoff(conversation.flow_state as ConversationState);
        // The flow state is the bot's bookkeeping, which signed-in users do
        // not write: this one update runs as the service role, after the
        // caller's own update above passed row-level security.
        await context.tx`set local role service_role`;
        await context.tx`
          update public.conversations set flow_state = ${context.tx.json(released as never)}
          where id = ${conversationId}`;
        await context.tx`set local role authenticated`;
      }
      return { body: await readConversation(context, conversationId) };
    },
  },
  {
    method: "POST",
    path: "/conversations/{conversation_id}/close",
    operationId: "closeConversation",
    summary: "Close the conversation (the contact's next message starts afresh with the bot)",
    tag: "conversations",
    minRole: "operator",
    pathParameters: conversationIdParameter,
    response: { status: 200, description: "The conversation.", schema: ref("Conversation") },
    async handler(context) {
      const conversationId = uuidParam(context, "conversation_id");
      await readConversation(context, conversationId);
      await context.tx`update public.conversations set mode = 'closed' where id = ${conversationId}`;
      return { body: await readConversation(context, conversationId) };
    },
  },
  {
    method: "POST",
    path: "/conversations/{conversation_id}/messages",
    operationId: "sendAgentMessage",
    summary:
      "Send a message as an agent in a conversation taken over: text, media, location, contacts, a reaction, buttons, a list or a template",
    description:
      'Queues an outbound message authored by the caller (`author_id`); the daemon sends it. Either `{"body": "..."}` (text) or `{"content": <Content>, "reply_to": "<message uuid>"}`. The content is checked against WhatsApp\'s limits (422 `invalid_content`, `details.field` the JSON path such as `content.buttons[1].title`). Media come from `content.storage_key` (a file of `POST /media`) or `content.url` (fetched through the outbound-URL guard, checked and stored in the bucket, so the daemon reads only the bucket). `reply_to` quotes an earlier message of the conversation. On a Cloud API number, a free-form message outside the 24-hour customer-service window is refused (422 `window_closed`, `details.field` = `content`): send an approved template (`content.kind = "template"`; 422 `template_not_approved` naming `content.name` otherwise, `template_parameters` for the wrong parameters). The conversation must be in human mode (take it over first) and the contact must not have opted out.',
    tag: "conversations",
    minRole: "operator",
    pathParameters: conversationIdParameter,
    requestBody: {
      type: "object",
      properties: {
        body: {
          type: "string",
          minLength: 1,
          maxLength: MAX_REPLY_CHARACTERS,
          description: "A text message.",
        },
        content: ref("Content"),
        reply_to: {
          type: "string",
          format: "uuid",
          description: "The message of this conversation to quote.",
        },
      },
    },
    bodyRequired: true,
    response: { status: 201, description: "The queued message.", schema: ref("Message") },
    extraErrorStatuses: ["413", "415", "422", "503"],
    async handler(context) {
      const conversationId = uuidParam(context, "conversation_id");
      const body = await context.body();
      onlyFields(body, ["body", "content", "reply_to"]);
      const replyTo = readReplyTo(body);
      let content = readContent(body, true);
      refuseProblems(content);

      const conversation = await readConversation(context, conversationId);
      if (conversation.mode !== "human") {
        throw conflict("the conversation is not taken over; POST .../takeover first", {
          mode: conversation.mode,
        });
      }
      if (conversation.opted_out) throw conflict("the contact opted out of messages");
      const scope: SendScope = { tx: context.tx, actorId: context.claims.sub };
      await checkWindowAndTemplate(scope, conversationId, conversation.number_id as string, content, false);
      const contextWaMessageId = await quotedWaMessageId(scope, conversationId, replyTo);

      // A file fetched from content.url is stored before the message is
      // written; it is deleted again when the message cannot be.
      const settled = await settleContent(scope, content);
      content = settled.content;

      const [message] = await insertMessage(settled.fetchedKey, async () =>
        await context.tx`
        insert into public.messages
          (number_id, conversation_id, direction, contact_wa_id, body, content, context_wa_message_id,
           payload, status)
        values (${conversation.number_id as string}, ${conversationId}, 'outbound',
                ${conversation.contact_wa_id as string}, '', ${context.tx.json(content as never)},
                ${contextWaMessageId}, '{}'::jsonb, 'queued')
        returning ${context.tx(MESSAGE_COLUMNS)}`);
      return { status: 201, body: message };
    },
  },
];
