/**
 * The admin API's resources, as `functions/admin-api/schemas.ts` and
 * `docs/openapi.json` describe them.
 */

export type Role = "viewer" | "operator" | "admin" | "owner";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin", "owner"];

/** Whether `role` is at least `minimum` (viewer < operator < admin < owner). */
export function roleAtLeast(role: Role | null | undefined, minimum: Role): boolean {
  return role != null && ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Me {
  user_id: string;
  email: string | null;
  role: Role | null;
}

export interface Bot {
  id: string;
  name: string;
  description: string;
  archived_at: string | null;
  canary_version_id: string | null;
  canary_share_percent: number;
  published_version: { id: string; version: number; published_at: string | null } | null;
  number_count: number;
  created_at: string;
  updated_at: string;
}

export type VersionStatus = "draft" | "published" | "archived";

export interface DefinitionProblem {
  path: string;
  code: string;
  message: string;
}

export interface BotVersion {
  id: string;
  bot_id: string;
  version: number;
  status: VersionStatus;
  checksum: string;
  created_by: string | null;
  created_at: string;
  published_at: string | null;
  updated_at: string;
  definition?: unknown;
  warnings?: DefinitionProblem[];
}

export interface ValidationReport {
  valid: boolean;
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
}

export const SESSION_STATUSES = [
  "stopped",
  "starting",
  "pairing",
  "connecting",
  "connected",
  "disconnected",
  "logged_out",
  "banned",
  "rate_limited",
  "degraded",
  "failed",
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export type Transport = "simulator" | "web" | "cloud";

export interface WaNumber {
  id: string;
  phone_number: string;
  label: string;
  transport: Transport;
  bot_id: string | null;
  session_status: SessionStatus;
  session_status_changed_at: string;
  last_heartbeat_at: string | null;
  lease_holder: string | null;
  lease_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export type SessionAction = "start" | "stop" | "restart";

export interface SessionCommand {
  id: number;
  number_id: string;
  command: SessionAction;
  requested_by: string | null;
  requested_at: string;
  status: "pending" | "claimed" | "done" | "failed";
  claimed_by: string | null;
  claimed_at: string | null;
  completed_at: string | null;
  error: string | null;
}

export interface SessionCommandResult {
  command: SessionCommand;
  delivery: "queued" | "direct";
  daemon: Record<string, unknown> | null;
}

export interface Pairing {
  number_id: string;
  session_status: string;
  pairing: {
    method: "qr" | "pair_code";
    qr: string | null;
    pair_code: string | null;
    expires_at: string | null;
    shown_at: string;
  } | null;
}

export interface ConnectionEvent {
  id: number;
  number_id: string;
  event: string;
  reason: string | null;
  code: string | null;
  detail: Record<string, unknown>;
  occurred_at: string;
}

export interface Runtime {
  id: string;
  version: string;
  started_at: string;
  last_heartbeat_at: string;
  status_url: string | null;
  leased_numbers: number;
}

export type ConversationMode = "bot" | "human" | "closed";

export interface Conversation {
  id: string;
  number_id: string;
  contact_wa_id: string;
  contact_name: string | null;
  contact_id: string | null;
  bot_version_id: string | null;
  mode: ConversationMode;
  assigned_to: string | null;
  opted_out: boolean;
  tags: string[];
  flow_state: Record<string, unknown>;
  /** Whether WhatsApp's 24-hour customer-service window is open (free-form sends allowed); absent from an older API. */
  window_open?: boolean;
  /** When the window closes (or closed); null when it never opened. */
  window_closes_at?: string | null;
  last_activity_at: string;
  created_at: string;
  updated_at: string;
}

export interface Message {
  id: string;
  number_id: string;
  conversation_id: string | null;
  direction: "inbound" | "outbound";
  /** The content's kind (`content.kind`). */
  type: string;
  /** A one-line summary of the content. */
  body: string;
  /** The message's content by kind (src/lib/message-content.ts); absent from an older API. */
  content?: unknown;
  /** The WhatsApp id of this message (reactions and replies refer to it). */
  wa_message_id?: string | null;
  /** The WhatsApp id of the message this one quotes. */
  context_wa_message_id?: string | null;
  payload: Record<string, unknown>;
  status: string;
  author_id: string | null;
  in_reply_to: string | null;
  created_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
  failed_at: string | null;
  error: string | null;
}

export type Severity = "info" | "warning" | "critical";
export type AlertStatus = "open" | "acknowledged" | "resolved";

export interface Alert {
  id: string;
  kind: string;
  severity: Severity;
  number_id: string | null;
  runtime_instance_id: string | null;
  dedupe_key: string;
  status: AlertStatus;
  title: string;
  details: Record<string, unknown>;
  summary: string | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  escalated_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  healthy_since: string | null;
  flap_count: number;
  flapping: boolean;
  created_at: string;
  updated_at: string;
}

export interface AlertDelivery {
  id: number;
  alert_id: string;
  channel_id: string | null;
  outbox_id: number | null;
  status: "sent" | "failed" | "skipped";
  attempt: number;
  response_code: number | null;
  error: string | null;
  attempted_at: string;
}

export type ChannelKind = "webhook" | "slack" | "whatsapp";

export interface AlertChannel {
  id: string;
  name: string;
  kind: ChannelKind;
  target: string;
  min_severity: Severity;
  enabled: boolean;
  kinds: string[];
  sender_number_id: string | null;
  has_signing_secret: boolean;
  signing_secret?: string;
  created_at: string;
  updated_at: string;
}

export interface AuditEntry {
  id: number;
  occurred_at: string;
  actor_id: string | null;
  actor_role: string;
  action: string;
  target_table: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
}

export interface Member {
  user_id: string;
  email: string | null;
  role: Role;
  invited_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface Dashboard {
  generated_at: string;
  messages_per_hour: Array<{ hour: string; inbound: number; outbound: number }>;
  sessions_by_state: Record<string, number>;
  numbers_total: number;
  open_alerts: {
    total: number;
    by_severity: { info: number; warning: number; critical: number };
    latest: Alert[];
  };
}

/** What a runtime's `/status` answers (crates/session-daemon/src/http_api.rs). */
export interface RuntimeStatus {
  version?: string;
  instance_id?: string;
  uptime_seconds?: number;
  database?: { reachable: boolean; error?: string };
  relay?: string;
  sessions?: { total: number; by_state: Record<string, number> };
}

/** An outbox row that used up its delivery attempts (`GET /dead-letters`). */
export interface DeadLetter {
  id: number;
  topic: string;
  target: string;
  payload: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  created_at: string;
  dead_at: string;
}

/** A file uploaded to the private media bucket (`POST /media`). */
export interface MediaUpload {
  storage_key: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  filename: string | null;
}
