/**
 * WhatsApp message templates (Cloud API): reading a business account's
 * templates from the Graph API, deriving what a send must fill, and
 * checking a template send against the synced template.
 *
 * The Graph API call is Meta's documented
 * `GET <base>/<waba_id>/message_templates?fields=name,language,status,category,components,id&limit=100`
 * with a bearer token; pages follow `paging.next` (which must stay on the
 * configured Graph API origin, so the token never goes elsewhere).
 *
 * @module
 */

/** The Graph API's base URL by default (the daemon's default too). */
export const DEFAULT_CLOUD_API_BASE_URL = "https://graph.facebook.com/v21.0";

/** The most pages a sync reads (100 templates each). */
export const MAX_TEMPLATE_PAGES = 50;

/** A template as the Graph API lists it, checked. */
export interface GraphTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string | null;
  components: Record<string, unknown>[];
}

/** One component a send fills: its parameters' count (and a button's index and sub_type). */
export interface ParameterSpec {
  type: "header" | "body" | "button";
  /** A header's format: text, image, video, document, location. */
  format?: string;
  sub_type?: string;
  index?: number;
  parameters: number;
  /** The parameter type a header or button takes (image, video, document, text, payload). */
  parameter_type?: string;
}

/** The Graph API refused or answered something unexpected. */
export class GraphApiError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = "GraphApiError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The distinct placeholders (`{{1}}`, `{{order_id}}`) in a template text. */
export function placeholders(text: unknown): string[] {
  if (typeof text !== "string") return [];
  const found = [...text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((match) => match[1]);
  return [...new Set(found)];
}

/** What a send of a template with these components must fill. */
export function deriveParameterSpec(components: unknown[]): ParameterSpec[] {
  const spec: ParameterSpec[] = [];
  for (const component of components) {
    if (!isObject(component)) continue;
    const type = String(component.type ?? "").toUpperCase();
    if (type === "HEADER") {
      const format = String(component.format ?? "TEXT").toLowerCase();
      if (format === "text") {
        const n = placeholders(component.text).length;
        if (n > 0) spec.push({ type: "header", format, parameters: n, parameter_type: "text" });
      } else if (["image", "video", "document"].includes(format)) {
        spec.push({ type: "header", format, parameters: 1, parameter_type: format });
      } else if (format === "location") {
        spec.push({ type: "header", format, parameters: 1, parameter_type: "location" });
      }
    } else if (type === "BODY") {
      const n = placeholders(component.text).length;
      if (n > 0) spec.push({ type: "body", parameters: n, parameter_type: "text" });
    } else if (type === "BUTTONS" && Array.isArray(component.buttons)) {
      component.buttons.forEach((button, index) => {
        if (!isObject(button)) return;
        const buttonType = String(button.type ?? "").toUpperCase();
        if (buttonType === "URL" && placeholders(button.url).length > 0) {
          spec.push({ type: "button", sub_type: "url", index, parameters: 1, parameter_type: "text" });
        } else if (buttonType === "COPY_CODE") {
          spec.push({
            type: "button",
            sub_type: "copy_code",
            index,
            parameters: 1,
            parameter_type: "coupon_code",
          });
        }
      });
    }
  }
  return spec;
}

function checkGraphTemplate(item: unknown, index: number): GraphTemplate {
  const where = `data[${index}]`;
  if (!isObject(item)) throw new GraphApiError(`the Graph API's ${where} is not an object`);
  const text = (field: string, pattern: RegExp): string => {
    const value = item[field];
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new GraphApiError(`the Graph API's ${where}.${field} is missing or malformed`);
    }
    return value;
  };
  const components = item.components ?? [];
  if (!Array.isArray(components) || !components.every(isObject)) {
    throw new GraphApiError(`the Graph API's ${where}.components is not an array of objects`);
  }
  const category = item.category;
  return {
    id: text("id", /^[0-9]{1,32}$/),
    name: text("name", /^[a-z0-9_]{1,512}$/),
    language: text("language", /^[A-Za-z0-9_]{2,15}$/),
    status: text("status", /^[A-Z_]{1,40}$/),
    category: typeof category === "string" && /^[A-Z_]{1,40}$/.test(category) ? category : null,
    components: components as Record<string, unknown>[],
  };
}

/**
 * Reads every template of a business account, following `paging.next`.
 * Throws {@link GraphApiError} with Meta's error message on a refusal.
 */
export async function fetchTemplates(
  baseUrl: string,
  wabaId: string,
  accessToken: string,
  fetchImpl: typeof fetch = fetch,
): Promise<GraphTemplate[]> {
  const base = new URL(baseUrl.replace(/\/+$/, "") + "/");
  let next: string | null = new URL(
    `${
      encodeURIComponent(wabaId)
    }/message_templates?fields=name,language,status,category,components,id&limit=100`,
    base,
  ).toString();
  const templates: GraphTemplate[] = [];
  for (let page = 0; next !== null; page++) {
    if (page >= MAX_TEMPLATE_PAGES) {
      throw new GraphApiError(`more than ${MAX_TEMPLATE_PAGES} pages of templates; stopped`);
    }
    if (new URL(next).origin !== base.origin) {
      throw new GraphApiError("the Graph API's paging.next leaves the Graph API's origin; not followed");
    }
    const response: Response = await fetchImpl(next, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new GraphApiError(
        `the Graph API answered ${response.status} with a body that is not JSON`,
        response.status,
      );
    }
    if (!response.ok) {
      const error = isObject(body) && isObject(body.error) ? body.error : {};
      const message = typeof error.message === "string" ? error.message.slice(0, 300) : "no message";
      const code = typeof error.code === "number" ? ` (code ${error.code})` : "";
      throw new GraphApiError(`the Graph API refused the template list: ${message}${code}`, response.status);
    }
    if (!isObject(body) || !Array.isArray(body.data)) {
      throw new GraphApiError("the Graph API's answer has no data array");
    }
    body.data.forEach((item, index) => templates.push(checkGraphTemplate(item, index)));
    const paging = isObject(body.paging) ? body.paging : {};
    next = typeof paging.next === "string" && paging.next !== "" ? paging.next : null;
  }
  return templates;
}

/** A problem with a template send: its JSON path (from `content`), code and message. */
export interface TemplateSendProblem {
  field: string;
  code: "template_not_approved" | "template_parameters";
  message: string;
}

/**
 * Checks a template send's components against the synced template's
 * parameter spec: each component that takes parameters must be given with
 * that many, and no other component may carry parameters.
 */
export function checkTemplateParameters(
  content: { components?: unknown },
  spec: ParameterSpec[],
): TemplateSendProblem | null {
  const given = Array.isArray(content.components) ? content.components as Record<string, unknown>[] : [];
  const key = (type: unknown, index: unknown) =>
    type === "button" ? `button:${Number(index ?? 0)}` : String(type);
  const expected = new Map(spec.map((item) => [key(item.type, item.index), item]));
  const seen = new Set<string>();
  for (let c = 0; c < given.length; c++) {
    const component = given[c];
    const k = key(component.type, component.index);
    const parameters = Array.isArray(component.parameters) ? component.parameters : [];
    const want = expected.get(k);
    if (seen.has(k)) {
      return {
        field: `content.components[${c}]`,
        code: "template_parameters",
        message: `the ${k.replace(":", " ")} component is given twice`,
      };
    }
    seen.add(k);
    if (want === undefined) {
      if (parameters.length === 0) continue;
      return {
        field: `content.components[${c}].parameters`,
        code: "template_parameters",
        message: `the template's ${k.replace(":", " ")} takes no parameters; ${parameters.length} given`,
      };
    }
    if (parameters.length !== want.parameters) {
      return {
        field: `content.components[${c}].parameters`,
        code: "template_parameters",
        message: `the template's ${
          k.replace(":", " ")
        } takes ${want.parameters} parameter(s); ${parameters.length} given`,
      };
    }
  }
  for (const [k, want] of expected) {
    if (!seen.has(k)) {
      return {
        field: "content.components",
        code: "template_parameters",
        message: `the template's ${
          k.replace(":", " ")
        } takes ${want.parameters} parameter(s); add a component {"type": "${want.type}"${
          want.index === undefined ? "" : `, "index": ${want.index}`
        }, "parameters": [...]}`,
      };
    }
  }
  return null;
}
