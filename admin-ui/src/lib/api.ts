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
    if (typeof error === "string") {
      // `{"error": "...", "details": {"field": "..."}}` (the media upload's shape) keeps its details.
      const details = typeof record.details === "object" && record.details !== null && !Array.isArray(record.details)
        ? record.details as Record<string, unknown>
        : null;
      const code = typeof record.code === "string" ? record.code : codeForStatus(status);
      return new ApiError(status, code, error, details);
    }
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
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
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
  /** A raw body (a file) sent as is with `contentType`, instead of JSON. */
  raw?: Blob;
  contentType?: string;
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
    let body: string | Blob | undefined;
    if (options.raw !== undefined) {
      headers["content-type"] = options.contentType || options.raw.type || "application/octet-stream";
      body = options.raw;
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const response = await this.send(method, path, { ...options, headers, body });
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

  /** Fetches `path` with the bearer token; a network failure becomes an {@link ApiError}. */
  private async send(
    method: Method,
    path: string,
    options: RequestOptions & { headers: Record<string, string>; body: string | Blob | undefined },
  ): Promise<Response> {
    try {
      return await this.fetchImpl(buildUrl(this.baseUrl, path, options.query), {
        method,
        headers: options.headers,
        body: options.body,
        signal: options.signal,
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network", `Cannot reach the admin API (${this.baseUrl}). Is the stack running?`);
    }
  }

  /**
   * Downloads a file (a message's media) with the bearer token, as a Blob:
   * the console shows it through an object URL, never a public link.
   */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const token = await this.getToken();
    if (token === null) throw new ApiError(401, "unauthorized", "You are signed out. Sign in again.");
    const response = await this.send("GET", path, { headers: { authorization: `Bearer ${token}` }, body: undefined, signal });
    if (!response.ok) {
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text === "" ? null : JSON.parse(text);
      } catch {
        parsed = null;
      }
      throw errorFromBody(response.status, parsed);
    }
    return await response.blob();
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

/** The JSON path or field an API error names (`details.field` or `details.path`), if any. */
export function errorField(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.details === null) return null;
  const { field, path } = error.details;
  if (typeof field === "string" && field !== "") return field;
  if (typeof path === "string" && path !== "") return path;
  return null;
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
