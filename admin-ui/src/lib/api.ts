/**
 * The admin API client: every call goes to the Edge Function URL
 * (`${NEXT_PUBLIC_SUPABASE_URL}/functions/v1/admin-api/...`) with the
 * signed-in user's access token as the bearer. Errors become {@link ApiError}
 * whatever their shape: the API's `{"error": {code, message, details}}`, the
 * router's `{"code": 401, "message": "Invalid JWT"}`, a worker's
 * `{"error": "..."}`, or no answer at all.
 */

/** An admin API error, with the code and details the API sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | null;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Turns a failed response's body into an {@link ApiError}. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (typeof body === "object" && body !== null) {
    const record = body as Record<string, unknown>;
    const error = record.error;
    if (typeof error === "object" && error !== null) {
      const inner = error as Record<string, unknown>;
      const details = typeof inner.details === "object" && inner.details !== null
        ? inner.details as Record<string, unknown>
        : null;
      return new ApiError(
        status,
        typeof inner.code === "string" ? inner.code : "error",
        typeof inner.message === "string" ? inner.message : `request failed with status ${status}`,
        details,
      );
    }
    if (typeof error === "string") return new ApiError(status, codeForStatus(status), error);
    if (typeof record.message === "string") return new ApiError(status, codeForStatus(status), record.message);
  }
  return new ApiError(status, codeForStatus(status), `request failed with status ${status}`);
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

/** Query parameters: undefined, null and "" are left out; arrays are comma-joined ("any of"). */
export type Query = Record<string, string | number | boolean | string[] | null | undefined>;

/** Builds `base + path + ?query`. */
export function buildUrl(base: string, path: string, query?: Query): string {
  const url = `${base}${path}`;
  if (query === undefined) return url;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(","));
    } else {
      params.set(name, String(value));
    }
  }
  const text = params.toString();
  return text === "" ? url : `${url}?${text}`;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** A transport for the admin API: base URL, token source, fetch. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly getToken: () => Promise<string | null>,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const token = await this.getToken();
    if (token === null) throw new ApiError(401, "unauthorized", "You are signed out. Sign in again.");
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(buildUrl(this.baseUrl, path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network", `Cannot reach the admin API (${this.baseUrl}). Is the stack running?`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) throw errorFromBody(response.status, parsed);
    return parsed as T;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { query, signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, { body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }
}

/** A human sentence for an error, for toasts and error states. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "forbidden" && typeof error.details?.required_role === "string") {
      return `${error.message} (needs ${error.details.required_role}).`;
    }
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
