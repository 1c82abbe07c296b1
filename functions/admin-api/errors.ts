/**
 * The admin API's one error shape, `{"error": {"code", "message",
 * "details"}}`, and the mapping from database errors to it.
 *
 * | status | code | when |
 * |---|---|---|
 * | 400 | `invalid_request` | malformed JSON, a missing or ill-typed field, a bad query parameter or path id |
 * | 401 | `unauthorized` | no bearer token, or one that is invalid, expired or not signed by this project |
 * | 403 | `forbidden` | the caller's role may not do this (or the token is not a signed-in user's) |
 * | 404 | `not_found` | no such route, or no such row visible to the caller |
 * | 405 | `method_not_allowed` | the path exists with other methods (`details.allow`) |
 * | 409 | `conflict` | the change contradicts the current state (a published version's definition, the last owner, a resolved alert, …) |
 * | 413 | `payload_too_large` | the body is over the limit |
 * | 413 | `payload_too_large` | an uploaded file larger than its kind allows (`details.field`, `details.max_bytes`) |
 * | 415 | `unsupported_media_type` | a file type WhatsApp does not accept for its kind, or bytes not of the declared type |
 * | 422 | `invalid_definition` | a bot definition with errors; `details.errors` lists each with its JSON path |
 * | 422 | `invalid_content` | content breaking WhatsApp's limits; `details.field` is the first problem's path, `details.errors` lists all |
 * | 422 | `window_closed` | a free-form send on a Cloud API number outside the 24-hour window (`details.field` = `content`) |
 * | 422 | `template_not_approved`, `template_parameters` | a template send naming no approved template, or with the wrong parameters |
 * | 503 | `storage_unavailable` | media storage is not configured or not reachable |
 * | 502 | `upstream_error` | the Graph API refused or could not be reached (template sync) |
 * | 502 | `daemon_unreachable` | reserved for calls to a session daemon that fail outright |
 * | 500 | `internal` | anything unexpected (logged, not described) |
 *
 * @module
 */

/** The machine-readable error codes (the admin API's and the messaging API's). */
export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "invalid_definition",
  "unsupported_media_type",
  "invalid_content",
  "window_closed",
  "template_not_approved",
  "template_parameters",
  "storage_unavailable",
  "upstream_error",
  "daemon_unreachable",
  "internal",
  // The messaging API's own (functions/messages-api, docs/integration.md).
  "insufficient_scope",
  "number_not_allowed",
  "rate_limited",
  "opted_out",
  "idempotency_key_reused",
  "unknown_number",
  "number_not_connected",
  "conversation_taken_over",
] as const;

/** A machine-readable error code. */
export type ErrorCode = typeof ERROR_CODES[number];

/** An error answered as `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The error's JSON body. */
  body(): { error: { code: ErrorCode; message: string; details: Record<string, unknown> | null } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** A 400 `invalid_request` naming the offending field. */
export function invalid(message: string, field?: string): ApiError {
  return new ApiError(400, "invalid_request", message, field === undefined ? null : { field });
}

/** A 404 `not_found`. */
export function notFound(what: string): ApiError {
  return new ApiError(404, "not_found", `${what} not found`);
}

/** A 409 `conflict`. */
export function conflict(message: string, details: Record<string, unknown> | null = null): ApiError {
  return new ApiError(409, "conflict", message, details);
}

/** The fields of a Postgres error as npm:postgres exposes them. */
interface PostgresErrorLike {
  name?: string;
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  constraint_name?: string;
  column_name?: string;
}

/**
 * Turns a Postgres error into an {@link ApiError}, or returns null for
 * anything else. Privilege and row-level-security refusals are 403;
 * constraint violations are 400 (the input is wrong) or 409 (it clashes
 * with a row that exists); the schema's own refusals (triggers raising
 * check violations, the last-owner guard) are 409 with their message.
 */
export function fromPostgresError(error: unknown): ApiError | null {
  if (typeof error !== "object" || error === null) return null;
  const pg = error as PostgresErrorLike;
  if (pg.name !== "PostgresError" || typeof pg.code !== "string") return null;
  const message = pg.message ?? "database error";
  const details: Record<string, unknown> = {};
  if (pg.constraint_name) details.constraint = pg.constraint_name;
  if (pg.hint) details.hint = pg.hint;
  const withDetails = Object.keys(details).length === 0 ? null : details;
  switch (pg.code) {
    case "42501":
      return new ApiError(
        403,
        "forbidden",
        message.startsWith("new row violates row-level security")
          ? "your role may not make this change"
          : message,
        withDetails,
      );
    case "23505":
      return new ApiError(409, "conflict", `already exists: ${pg.detail ?? message}`, withDetails);
    case "23503":
      return new ApiError(
        400,
        "invalid_request",
        `refers to something that does not exist: ${pg.detail ?? message}`,
        withDetails,
      );
    case "23502":
      return new ApiError(400, "invalid_request", message, withDetails);
    case "22P02":
    case "22007":
    case "22008":
    case "22003":
      return new ApiError(400, "invalid_request", message, withDetails);
    case "22021":
      // A NUL character (or invalid UTF-8) in a query parameter or a field:
      // text columns cannot hold it, so the input is wrong.
      return new ApiError(400, "invalid_request", "text must not contain NUL characters", withDetails);
    case "23514":
      // A named check constraint: the input is out of range. A trigger's
      // own check_violation (no constraint): the change clashes with state.
      return pg.constraint_name
        ? new ApiError(400, "invalid_request", `violates ${pg.constraint_name}`, withDetails)
        : new ApiError(409, "conflict", message, withDetails);
    case "WA024":
      // The database's own guard of the 24-hour window (a send that raced
      // the window's close, or a writer that skipped the API's check).
      return new ApiError(422, "window_closed", message, { field: "content", ...(withDetails ?? {}) });
    case "23P01":
    case "P0001":
      return new ApiError(409, "conflict", message, withDetails);
    default:
      // Any other data exception (class 22: a string too long for its
      // column, a bad regular expression, …) is about the input too.
      return pg.code.startsWith("22") ? new ApiError(400, "invalid_request", message, withDetails) : null;
  }
}
