/**
 * Message templates of Cloud API numbers: syncing them from the Graph API
 * and listing them (for the inbox, which offers the approved ones when the
 * 24-hour window is closed, and for template nodes).
 *
 * @module
 */

import {
  DEFAULT_CLOUD_API_BASE_URL,
  deriveParameterSpec,
  fetchTemplates,
  GraphApiError,
} from "../../_shared/templates.ts";
import { type Context, queryChoices, type RouteDefinition, uuidParam } from "../api.ts";
import { ApiError, conflict, notFound } from "../errors.ts";
import { object, ref } from "../schemas.ts";

const TEMPLATE_COLUMNS = [
  "id",
  "number_id",
  "waba_id",
  "template_id",
  "name",
  "language",
  "status",
  "category",
  "components",
  "parameter_spec",
  "status_reason",
  "synced_at",
  "updated_at",
];

const STATUSES = [
  "APPROVED",
  "PENDING",
  "REJECTED",
  "PAUSED",
  "DISABLED",
  "IN_APPEAL",
  "PENDING_DELETION",
  "DELETED",
  "LIMIT_EXCEEDED",
] as const;

const numberIdParameter = { number_id: { type: "string", format: "uuid" } };

async function readCloudNumber(context: Context, numberId: string): Promise<Record<string, unknown>> {
  const [number] = await context.tx`select id, transport from public.numbers where id = ${numberId}`;
  if (number === undefined) throw notFound(`number ${numberId}`);
  return number;
}

async function listTemplates(context: Context, numberId: string, statuses?: string[]) {
  return await context.tx`
    select ${context.tx(TEMPLATE_COLUMNS)} from public.message_templates
    where number_id = ${numberId}
      and (${statuses ?? null}::text[] is null or status = any(${statuses ?? null}::text[]))
    order by name, language`;
}

export const templateRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/numbers/{number_id}/templates",
    operationId: "listNumberTemplates",
    summary: "The number's message templates (Cloud API), as last synced",
    tag: "templates",
    minRole: "viewer",
    pathParameters: numberIdParameter,
    query: [{
      name: "status",
      description: "Only these statuses (comma-separated), e.g. APPROVED.",
      schema: { type: "string" },
    }],
    response: {
      status: 200,
      description: "The templates, by name and language.",
      schema: object({ data: { type: "array", items: ref("MessageTemplate") } }),
    },
    async handler(context) {
      const numberId = uuidParam(context, "number_id");
      const statuses = queryChoices(context.url, "status", STATUSES);
      await readCloudNumber(context, numberId);
      return { body: { data: await listTemplates(context, numberId, statuses) } };
    },
  },
  {
    method: "POST",
    path: "/numbers/{number_id}/templates/sync",
    operationId: "syncNumberTemplates",
    summary: "Sync the number's templates from the Graph API",
    description:
      "Reads every template of the number's WhatsApp Business Account (`GET <WABOT_CLOUD_API_BASE_URL>/<waba_id>/message_templates`, following `paging.next`) with the number's Cloud credentials (`session_credentials.credentials`: `waba_id`, and `access_token` or the function secret `WABOT_CLOUD_ACCESS_TOKEN`), and upserts them; templates no longer listed are removed. 409 for a number that is not on the Cloud API or has no `waba_id`; 502 `upstream_error` when the Graph API refuses.",
    tag: "templates",
    minRole: "operator",
    pathParameters: numberIdParameter,
    extraErrorStatuses: ["502"],
    response: {
      status: 200,
      description: "What the sync did, and the templates now stored.",
      schema: object({
        synced: { type: "integer" },
        removed: { type: "integer" },
        data: { type: "array", items: ref("MessageTemplate") },
      }),
    },
    async handler(context) {
      const numberId = uuidParam(context, "number_id");
      const number = await readCloudNumber(context, numberId);
      if (number.transport !== "cloud") {
        throw conflict(
          `the number uses the ${number.transport} transport; templates are a Cloud API feature`,
          {
            transport: number.transport,
          },
        );
      }
      // Credentials are readable by the service role only.
      await context.tx`set local role service_role`;
      const [row] = await context.tx`
        select credentials from public.session_credentials where number_id = ${numberId}`;
      const credentials = (row?.credentials ?? {}) as Record<string, unknown>;
      const wabaId = typeof credentials.waba_id === "string" ? credentials.waba_id.trim() : "";
      if (!/^[0-9]{1,32}$/.test(wabaId)) {
        throw conflict(
          'the number\'s session_credentials.credentials has no "waba_id" (its WhatsApp Business Account id); add it to sync templates',
        );
      }
      const token = (typeof credentials.access_token === "string" && credentials.access_token.trim()) ||
        Deno.env.get("WABOT_CLOUD_ACCESS_TOKEN")?.trim() || "";
      if (token === "") {
        throw conflict(
          'no access token: set "access_token" in session_credentials.credentials or the function secret WABOT_CLOUD_ACCESS_TOKEN',
        );
      }
      const baseUrl = Deno.env.get("WABOT_CLOUD_API_BASE_URL")?.trim() || DEFAULT_CLOUD_API_BASE_URL;
      let templates;
      try {
        templates = await fetchTemplates(baseUrl, wabaId, token);
      } catch (error) {
        if (error instanceof GraphApiError) {
          throw new ApiError(502, "upstream_error", error.message, { graph_status: error.status });
        }
        throw new ApiError(
          502,
          "upstream_error",
          `the Graph API is not reachable: ${String(error).slice(0, 200)}`,
        );
      }
      for (const template of templates) {
        const spec = deriveParameterSpec(template.components);
        await context.tx`
          insert into public.message_templates
            (number_id, waba_id, template_id, name, language, status, category, components, parameter_spec,
             synced_at)
          values (${numberId}, ${wabaId}, ${template.id}, ${template.name}, ${template.language},
                  ${template.status}, ${template.category}, ${context.tx.json(template.components as never)},
                  ${context.tx.json(spec as never)}, now())
          on conflict (number_id, name, language) do update
            set waba_id = excluded.waba_id, template_id = excluded.template_id, status = excluded.status,
                category = excluded.category, components = excluded.components,
                parameter_spec = excluded.parameter_spec, synced_at = excluded.synced_at`;
      }
      const keep = templates.map((template) => `${template.name}\u0001${template.language}`);
      const removed = await context.tx`
        delete from public.message_templates
        where number_id = ${numberId} and not (name || chr(1) || language = any(${keep}::text[]))
        returning id`;
      await context.tx`set local role authenticated`;
      return {
        body: {
          synced: templates.length,
          removed: removed.length,
          data: await listTemplates(context, numberId),
        },
      };
    },
  },
];
