/**
 * Bots and their versions: list, create, rename, archive; versions with
 * validation by JSON path, publishing, rollback and the canary share.
 *
 * @module
 */

import { validateDefinition } from "../../_shared/routing.ts";
import {
  type Context,
  isUuid,
  likePattern,
  onlyFields,
  optionalBoolean,
  optionalText,
  PAGE_PARAMETERS,
  pageRequest,
  queryChoice,
  queryText,
  type RouteDefinition,
  text,
  toPage,
  uuidParam,
} from "../api.ts";
import { ApiError, conflict, invalid, notFound } from "../errors.ts";
import { object, pageOf, ref } from "../schemas.ts";

const BOT_COLUMNS_SQL = `
  b.id, b.name, b.description, b.archived_at, b.canary_version_id, b.canary_share_percent,
  b.created_at, b.updated_at,
  (select json_build_object('id', v.id, 'version', v.version, 'published_at', v.published_at)
     from public.bot_versions as v where v.bot_id = b.id and v.status = 'published') as published_version,
  (select count(*) from public.numbers as n where n.bot_id = b.id)::int as number_count`;

const VERSION_COLUMNS = [
  "id",
  "bot_id",
  "version",
  "status",
  "checksum",
  "created_by",
  "created_at",
  "published_at",
  "updated_at",
];

async function readBot(context: Context, botId: string): Promise<Record<string, unknown>> {
  const [bot] = await context.tx.unsafe(
    `select ${BOT_COLUMNS_SQL} from public.bots as b where b.id = $1::uuid`,
    [
      botId,
    ],
  );
  if (bot === undefined) throw notFound(`bot ${botId}`);
  return bot;
}

async function readVersion(
  context: Context,
  botId: string,
  versionId: string,
  withDefinition = false,
): Promise<Record<string, unknown>> {
  const columns = withDefinition ? [...VERSION_COLUMNS, "definition"] : VERSION_COLUMNS;
  const [version] = await context.tx`
    select ${context.tx(columns)} from public.bot_versions where id = ${versionId} and bot_id = ${botId}`;
  if (version === undefined) throw notFound(`version ${versionId} of bot ${botId}`);
  return version;
}

/** Reads the `definition` field: a JSON object. */
function definitionOf(body: Record<string, unknown>): Record<string, unknown> {
  const definition = body.definition;
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    throw invalid(
      "definition is required and must be a JSON object (see docs/bot-definition.md)",
      "definition",
    );
  }
  return definition as Record<string, unknown>;
}

const botIdParameter = { bot_id: { type: "string", format: "uuid" } };

export const botRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/bots",
    operationId: "listBots",
    summary: "List bots, newest first",
    tag: "bots",
    minRole: "viewer",
    query: [
      {
        name: "archived",
        description: "`false` (default): active bots; `true`: archived ones; `all`: both.",
        schema: { type: "string", enum: ["false", "true", "all"] },
      },
      { name: "q", description: "A part of the name (case-insensitive).", schema: { type: "string" } },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of bots.", schema: pageOf("Bot") },
    async handler(context) {
      const { tx, url } = context;
      const page = pageRequest(url, ["timestamp", "uuid"]);
      const archived = queryChoice(url, "archived", ["false", "true", "all"] as const) ?? "false";
      const q = queryText(url, "q");
      const rows = await tx.unsafe(
        `select ${BOT_COLUMNS_SQL}, json_build_array(b.created_at, b.id)::text as _key
         from public.bots as b
         where ($1::text = 'all' or ($1::text = 'true') = (b.archived_at is not null))
           and ($2::text is null or b.name ilike $2::text)
           and ($3::text is null or (b.created_at, b.id) < ($3::text::timestamptz, $4::uuid))
         order by b.created_at desc, b.id desc
         limit $5::int`,
        [
          archived,
          q === undefined ? null : likePattern(q),
          page.after?.[0] ?? null,
          page.after?.[1] ?? null,
          page.limit + 1,
        ] as never,
      );
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/bots",
    operationId: "createBot",
    summary: "Create a bot",
    tag: "bots",
    minRole: "admin",
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      description: { type: "string", maxLength: 2000 },
    }, ["description"]),
    bodyRequired: true,
    response: { status: 201, description: "The new bot.", schema: ref("Bot") },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, ["name", "description"]);
      const name = text(body, "name", { min: 1, max: 200 });
      const description = optionalText(body, "description", { max: 2000 }) ?? "";
      const [bot] = await context.tx`
        insert into public.bots (name, description) values (${name}, ${description}) returning id`;
      return { status: 201, body: await readBot(context, bot.id) };
    },
  },
  {
    method: "GET",
    path: "/bots/{bot_id}",
    operationId: "getBot",
    summary: "Read a bot",
    tag: "bots",
    minRole: "viewer",
    pathParameters: botIdParameter,
    response: { status: 200, description: "The bot.", schema: ref("Bot") },
    async handler(context) {
      return { body: await readBot(context, uuidParam(context, "bot_id")) };
    },
  },
  {
    method: "PATCH",
    path: "/bots/{bot_id}",
    operationId: "updateBot",
    summary: "Rename a bot or change its description",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    requestBody: object({
      name: { type: "string", minLength: 1, maxLength: 200 },
      description: { type: "string", maxLength: 2000 },
    }, ["name", "description"]),
    bodyRequired: true,
    response: { status: 200, description: "The bot.", schema: ref("Bot") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const body = await context.body();
      onlyFields(body, ["name", "description"]);
      const name = optionalText(body, "name", { min: 1, max: 200 });
      const description = optionalText(body, "description", { max: 2000 });
      if (name === undefined && description === undefined) throw invalid("give name and/or description");
      const updated = await context.tx`
        update public.bots
        set name = coalesce(${name ?? null}, name), description = coalesce(${
        description ?? null
      }, description)
        where id = ${botId} returning id`;
      if (updated.length === 0) throw notFound(`bot ${botId}`);
      return { body: await readBot(context, botId) };
    },
  },
  {
    method: "POST",
    path: "/bots/{bot_id}/archive",
    operationId: "archiveBot",
    summary: "Archive a bot",
    description:
      "Sets `archived_at` and clears the canary. Refused (409) while numbers are assigned to the bot; assign them another bot first. Archiving an archived bot changes nothing.",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    response: { status: 200, description: "The archived bot.", schema: ref("Bot") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const bot = await readBot(context, botId);
      if (bot.archived_at !== null) return { body: bot };
      const numbers = await context
        .tx`select id from public.numbers where bot_id = ${botId} order by id limit 20`;
      if (numbers.length > 0) {
        throw conflict("numbers still serve this bot; assign them another bot first", {
          number_ids: numbers.map((row) => row.id),
        });
      }
      await context.tx`
        update public.bots set archived_at = now(), canary_version_id = null, canary_share_percent = 0
        where id = ${botId}`;
      return { body: await readBot(context, botId) };
    },
  },
  {
    method: "POST",
    path: "/bots/{bot_id}/unarchive",
    operationId: "unarchiveBot",
    summary: "Bring an archived bot back",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    response: { status: 200, description: "The bot.", schema: ref("Bot") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      await readBot(context, botId);
      await context
        .tx`update public.bots set archived_at = null where id = ${botId} and archived_at is not null`;
      return { body: await readBot(context, botId) };
    },
  },
  {
    method: "GET",
    path: "/bots/{bot_id}/versions",
    operationId: "listBotVersions",
    summary: "List a bot's versions, newest first (without definitions)",
    tag: "bots",
    minRole: "viewer",
    pathParameters: botIdParameter,
    query: [
      {
        name: "status",
        description: "Only versions with this status.",
        schema: { type: "string", enum: ["draft", "published", "archived"] },
      },
      ...PAGE_PARAMETERS,
    ],
    response: { status: 200, description: "A page of versions.", schema: pageOf("BotVersion") },
    async handler(context) {
      const { tx, url } = context;
      const botId = uuidParam(context, "bot_id");
      await readBot(context, botId);
      const page = pageRequest(url, ["integer"]);
      const status = queryChoice(url, "status", ["draft", "published", "archived"] as const);
      const rows = await tx`
        select ${tx(VERSION_COLUMNS)}, json_build_array(version)::text as _key
        from public.bot_versions
        where bot_id = ${botId}
          and (${status ?? null}::text is null or status = ${status ?? null})
          and (${page.after?.[0] ?? null}::int is null or version < ${page.after?.[0] ?? null}::int)
        order by version desc
        limit ${page.limit + 1}`;
      return { body: toPage(rows, page.limit) };
    },
  },
  {
    method: "POST",
    path: "/bots/{bot_id}/versions",
    operationId: "createBotVersion",
    summary: "Create a version from a definition (validated), optionally publishing it",
    description:
      "The definition is validated by the routing core. With errors the answer is 422 `invalid_definition` and `details.errors` lists every problem with its JSON path (`details.warnings` too); nothing is stored. Warnings alone do not stop it; they come back in `warnings`.",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    requestBody: object({
      definition: { type: "object", description: "A bot definition (docs/bot-definition.md)." },
      publish: { type: "boolean", default: false, description: "Publish the new version at once." },
    }, ["publish"]),
    bodyRequired: true,
    response: { status: 201, description: "The new version.", schema: ref("BotVersion") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const body = await context.body();
      onlyFields(body, ["definition", "publish"]);
      const definition = definitionOf(body);
      const publish = optionalBoolean(body, "publish") ?? false;
      const report = validateDefinition(definition);
      if (report.errors.length > 0) {
        throw new ApiError(
          422,
          "invalid_definition",
          `the definition has ${report.errors.length} error(s): ${
            report.errors.slice(0, 3).map((problem) => `${problem.path}: ${problem.message}`).join("; ")
          }`,
          { errors: report.errors, warnings: report.warnings },
        );
      }
      const [bot] = await context.tx`select id, archived_at from public.bots where id = ${botId} for update`;
      if (bot === undefined) throw notFound(`bot ${botId}`);
      const [{ next_version }] = await context.tx`
        select coalesce(max(version), 0) + 1 as next_version from public.bot_versions where bot_id = ${botId}`;
      const [created] = await context.tx`
        insert into public.bot_versions (bot_id, version, definition, status)
        values (${botId}, ${next_version}, ${context.tx.json(definition as never)},
                ${publish ? "published" : "draft"})
        returning id`;
      const version = await readVersion(context, botId, created.id, true);
      return { status: 201, body: { ...version, warnings: report.warnings } };
    },
  },
  {
    method: "GET",
    path: "/bots/{bot_id}/versions/{version_id}",
    operationId: "getBotVersion",
    summary: "Read one version with its definition",
    tag: "bots",
    minRole: "viewer",
    pathParameters: { ...botIdParameter, version_id: { type: "string", format: "uuid" } },
    response: { status: 200, description: "The version.", schema: ref("BotVersion") },
    async handler(context) {
      return {
        body: await readVersion(
          context,
          uuidParam(context, "bot_id"),
          uuidParam(context, "version_id"),
          true,
        ),
      };
    },
  },
  {
    method: "POST",
    path: "/bots/{bot_id}/versions/{version_id}/publish",
    operationId: "publishBotVersion",
    summary: "Publish a version",
    description:
      "The bot's previously published version is archived in the same statement; running conversations stay on the version they started with. Publishing the canary promotes it and clears the canary.",
    tag: "bots",
    minRole: "admin",
    pathParameters: { ...botIdParameter, version_id: { type: "string", format: "uuid" } },
    response: { status: 200, description: "The published version.", schema: ref("BotVersion") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const versionId = uuidParam(context, "version_id");
      const version = await readVersion(context, botId, versionId);
      if (version.status !== "published") {
        await context.tx`update public.bot_versions set status = 'published' where id = ${versionId}`;
      }
      return { body: await readVersion(context, botId, versionId) };
    },
  },
  {
    method: "POST",
    path: "/bots/{bot_id}/rollback",
    operationId: "rollBackBot",
    summary: "Roll back to an earlier published version",
    description:
      "Publishes `version_id` (an archived version of the bot) or, without it, the version published most recently before the current one.",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    requestBody: object({ version_id: { type: "string", format: "uuid" } }, ["version_id"]),
    response: { status: 200, description: "The version now published.", schema: ref("BotVersion") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const body = await context.body();
      onlyFields(body, ["version_id"]);
      const requested = body.version_id;
      if (requested !== undefined && !isUuid(requested)) {
        throw invalid("version_id must be a UUID", "version_id");
      }
      await readBot(context, botId);
      let targetId: string;
      if (typeof requested === "string") {
        const target = await readVersion(context, botId, requested.toLowerCase());
        if (target.status !== "archived") {
          throw conflict(
            `version ${target.version} is ${target.status}; only an archived version can be rolled back to`,
          );
        }
        targetId = target.id as string;
      } else {
        const [target] = await context.tx`
          select id from public.bot_versions
          where bot_id = ${botId} and status = 'archived' and published_at is not null
          order by published_at desc, version desc limit 1`;
        if (target === undefined) throw conflict("no earlier published version to roll back to");
        targetId = target.id;
      }
      await context.tx`update public.bot_versions set status = 'published' where id = ${targetId}`;
      return { body: await readVersion(context, botId, targetId) };
    },
  },
  {
    method: "PUT",
    path: "/bots/{bot_id}/canary",
    operationId: "setBotCanary",
    summary: "Send a share of new conversations to a canary version",
    description:
      "The canary is a draft or archived version of the same bot; `share_percent` of new conversations (sticky per contact) use it.",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    requestBody: object({
      version_id: { type: "string", format: "uuid" },
      share_percent: { type: "integer", minimum: 0, maximum: 100 },
    }),
    bodyRequired: true,
    response: { status: 200, description: "The bot.", schema: ref("Bot") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      const body = await context.body();
      onlyFields(body, ["version_id", "share_percent"]);
      if (!isUuid(body.version_id)) throw invalid("version_id is required and must be a UUID", "version_id");
      const share = body.share_percent;
      if (!Number.isInteger(share) || (share as number) < 0 || (share as number) > 100) {
        throw invalid("share_percent is required and must be an integer from 0 to 100", "share_percent");
      }
      await readBot(context, botId);
      const version = await readVersion(context, botId, body.version_id.toLowerCase());
      if (version.status === "published") {
        throw conflict("the canary cannot be the published version; create a new version for it");
      }
      await context.tx`
        update public.bots set canary_version_id = ${version
        .id as string}, canary_share_percent = ${share as number}
        where id = ${botId}`;
      return { body: await readBot(context, botId) };
    },
  },
  {
    method: "DELETE",
    path: "/bots/{bot_id}/canary",
    operationId: "clearBotCanary",
    summary: "Stop the canary",
    tag: "bots",
    minRole: "admin",
    pathParameters: botIdParameter,
    response: { status: 200, description: "The bot.", schema: ref("Bot") },
    async handler(context) {
      const botId = uuidParam(context, "bot_id");
      await readBot(context, botId);
      await context.tx`
        update public.bots set canary_version_id = null, canary_share_percent = 0 where id = ${botId}`;
      return { body: await readBot(context, botId) };
    },
  },
  {
    method: "POST",
    path: "/bot-definitions/validate",
    operationId: "validateBotDefinition",
    summary: "Validate a bot definition without storing it",
    tag: "bots",
    minRole: "viewer",
    requestBody: object({ definition: { type: "object" } }),
    bodyRequired: true,
    response: {
      status: 200,
      description: "Every error and warning, by JSON path.",
      schema: ref("ValidationReport"),
    },
    async handler(context) {
      const body = await context.body();
      onlyFields(body, ["definition"]);
      const report = validateDefinition(definitionOf(body));
      return { body: { valid: report.errors.length === 0, ...report } };
    },
  },
];
