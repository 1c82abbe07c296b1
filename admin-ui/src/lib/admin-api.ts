/**
 * The admin API's routes as typed calls (docs/api.md). One method per route
 * the console uses; paths and bodies follow `functions/admin-api/routes/`.
 */
import type { ApiClient } from "./api";
import type { Content, MessageTemplate } from "./message-content";
import type {
  Alert,
  AlertChannel,
  AlertDelivery,
  AlertStatus,
  AuditEntry,
  DeadLetter,
  Bot,
  BotVersion,
  ChannelKind,
  ConnectionEvent,
  Conversation,
  ConversationMode,
  Dashboard,
  MediaUpload,
  Me,
  Member,
  Message,
  Page,
  Pairing,
  Role,
  Runtime,
  RuntimeStatus,
  SessionAction,
  SessionCommand,
  SessionCommandResult,
  Severity,
  Transport,
  ValidationReport,
  WaNumber,
} from "./types";

const id = (value: string) => encodeURIComponent(value);

export type PageQuery = {
  limit?: number;
  cursor?: string | null;
};

export class AdminApi {
  constructor(readonly client: ApiClient) {}

  // Identity and dashboard.
  me(): Promise<Me> {
    return this.client.get("/me");
  }
  dashboard(signal?: AbortSignal): Promise<Dashboard> {
    return this.client.get("/dashboard", undefined, signal);
  }

  // Bots and versions.
  listBots(query: { archived?: "false" | "true" | "all"; q?: string } & PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<Bot>>("/bots", query, signal);
  }
  getBot(botId: string, signal?: AbortSignal): Promise<Bot> {
    return this.client.get(`/bots/${id(botId)}`, undefined, signal);
  }
  createBot(body: { name: string; description?: string }): Promise<Bot> {
    return this.client.post("/bots", body);
  }
  updateBot(botId: string, body: { name?: string; description?: string }): Promise<Bot> {
    return this.client.patch(`/bots/${id(botId)}`, body);
  }
  archiveBot(botId: string): Promise<Bot> {
    return this.client.post(`/bots/${id(botId)}/archive`);
  }
  unarchiveBot(botId: string): Promise<Bot> {
    return this.client.post(`/bots/${id(botId)}/unarchive`);
  }
  listVersions(botId: string, query: PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<BotVersion>>(`/bots/${id(botId)}/versions`, { limit: 100, ...query }, signal);
  }
  getVersion(botId: string, versionId: string): Promise<BotVersion> {
    return this.client.get(`/bots/${id(botId)}/versions/${id(versionId)}`);
  }
  createVersion(botId: string, definition: unknown, publish = false): Promise<BotVersion> {
    return this.client.post(`/bots/${id(botId)}/versions`, { definition, publish });
  }
  publishVersion(botId: string, versionId: string): Promise<BotVersion> {
    return this.client.post(`/bots/${id(botId)}/versions/${id(versionId)}/publish`);
  }
  rollback(botId: string, versionId?: string): Promise<BotVersion> {
    return this.client.post(`/bots/${id(botId)}/rollback`, versionId === undefined ? {} : { version_id: versionId });
  }
  setCanary(botId: string, versionId: string, sharePercent: number): Promise<Bot> {
    return this.client.put(`/bots/${id(botId)}/canary`, { version_id: versionId, share_percent: sharePercent });
  }
  stopCanary(botId: string): Promise<Bot> {
    return this.client.delete(`/bots/${id(botId)}/canary`);
  }
  validateDefinition(definition: unknown): Promise<ValidationReport> {
    return this.client.post("/bot-definitions/validate", { definition });
  }

  // Numbers and sessions.
  listNumbers(query: { session_status?: string[]; bot_id?: string; q?: string } & PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<WaNumber>>("/numbers", { limit: 200, ...query }, signal);
  }
  getNumber(numberId: string, signal?: AbortSignal): Promise<WaNumber> {
    return this.client.get(`/numbers/${id(numberId)}`, undefined, signal);
  }
  createNumber(body: { phone_number: string; label?: string; transport?: Transport; bot_id?: string | null }) {
    return this.client.post<WaNumber>("/numbers", body);
  }
  updateNumber(numberId: string, body: { bot_id?: string | null; label?: string; transport?: Transport }) {
    return this.client.patch<WaNumber>(`/numbers/${id(numberId)}`, body);
  }
  sessionCommand(numberId: string, action: SessionAction): Promise<SessionCommandResult> {
    return this.client.post(`/numbers/${id(numberId)}/session/${action}`);
  }
  pairing(numberId: string, signal?: AbortSignal): Promise<Pairing> {
    return this.client.get(`/numbers/${id(numberId)}/pairing`, undefined, signal);
  }
  events(numberId: string, query: { event?: string[]; include_heartbeats?: boolean } & PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<ConnectionEvent>>(`/numbers/${id(numberId)}/events`, { limit: 50, ...query }, signal);
  }
  commands(numberId: string, query: PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<SessionCommand>>(`/numbers/${id(numberId)}/commands`, { limit: 10, ...query }, signal);
  }
  runtimes(signal?: AbortSignal) {
    return this.client.get<{ data: Runtime[] }>("/runtimes", undefined, signal);
  }
  /** A runtime's `/status`, probed by the admin API (2-second timeout). */
  runtimeStatus(runtimeId: string, signal?: AbortSignal) {
    return this.client.get<
      { ok: boolean; http_status: number | null; latency_ms: number | null; body: RuntimeStatus | null; error: string | null }
    >(
      `/runtimes/${id(runtimeId)}/status`,
      undefined,
      signal,
    );
  }

  // Conversations.
  listConversations(
    query: { number_id?: string; mode?: ConversationMode[]; opted_out?: boolean; tag?: string; assigned_to?: string; q?: string } &
      PageQuery = {},
    signal?: AbortSignal,
  ) {
    return this.client.get<Page<Conversation>>("/conversations", query, signal);
  }
  getConversation(conversationId: string, signal?: AbortSignal): Promise<Conversation> {
    return this.client.get(`/conversations/${id(conversationId)}`, undefined, signal);
  }
  messages(conversationId: string, query: PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<Message>>(`/conversations/${id(conversationId)}/messages`, { limit: 100, ...query }, signal);
  }
  takeOver(conversationId: string): Promise<Conversation> {
    return this.client.post(`/conversations/${id(conversationId)}/takeover`);
  }
  release(conversationId: string): Promise<Conversation> {
    return this.client.post(`/conversations/${id(conversationId)}/release`);
  }
  closeConversation(conversationId: string): Promise<Conversation> {
    return this.client.post(`/conversations/${id(conversationId)}/close`);
  }
  sendAsAgent(conversationId: string, body: string): Promise<Message> {
    return this.client.post(`/conversations/${id(conversationId)}/messages`, { body });
  }
  /** Sends any kind as the agent; `replyTo` quotes a message (its id in this conversation). */
  sendContent(conversationId: string, content: Content, replyTo?: string | null): Promise<Message> {
    return this.client.post(
      `/conversations/${id(conversationId)}/messages`,
      replyTo ? { content, reply_to: replyTo } : { content },
    );
  }
  /** A message's stored media file, downloaded with the member's token. */
  messageMedia(messageId: string, signal?: AbortSignal): Promise<Blob> {
    return this.client.blob(`/messages/${id(messageId)}/media`, signal);
  }
  /** Uploads a file to the private media bucket; the body is the file itself. */
  uploadMedia(file: Blob, filename?: string): Promise<MediaUpload> {
    return this.client.request("POST", "/media", {
      raw: file,
      contentType: file.type || "application/octet-stream",
      query: { filename: filename ?? (file instanceof File ? file.name : undefined) },
    });
  }
  /** The number's message templates, synced from the Graph API. */
  async templates(numberId: string, signal?: AbortSignal): Promise<MessageTemplate[]> {
    const answer = await this.client.get<MessageTemplate[] | Page<MessageTemplate>>(
      `/numbers/${id(numberId)}/templates`,
      undefined,
      signal,
    );
    return Array.isArray(answer) ? answer : answer.data;
  }

  // Alerts.
  listAlerts(
    query: { status?: AlertStatus[]; severity?: Severity[]; kind?: string; number_id?: string; since?: string } & PageQuery = {},
    signal?: AbortSignal,
  ) {
    return this.client.get<Page<Alert>>("/alerts", query, signal);
  }
  getAlert(alertId: string, signal?: AbortSignal): Promise<Alert> {
    return this.client.get(`/alerts/${id(alertId)}`, undefined, signal);
  }
  acknowledgeAlert(alertId: string): Promise<Alert> {
    return this.client.post(`/alerts/${id(alertId)}/acknowledge`);
  }
  resolveAlert(alertId: string, summary?: string): Promise<Alert> {
    return this.client.post(`/alerts/${id(alertId)}/resolve`, summary ? { summary } : {});
  }
  summarizeAlert(alertId: string, summary: string) {
    return this.client.post<{ alert: Alert; audit_entry: AuditEntry }>(`/alerts/${id(alertId)}/summary`, { summary });
  }
  deliveries(alertId: string, signal?: AbortSignal) {
    return this.client.get<Page<AlertDelivery>>(`/alerts/${id(alertId)}/deliveries`, { limit: 50 }, signal);
  }

  // Alert channels.
  listChannels(signal?: AbortSignal) {
    return this.client.get<Page<AlertChannel>>("/alert-channels", { limit: 200 }, signal);
  }
  createChannel(body: { name: string; kind: ChannelKind; target: string; min_severity?: Severity; enabled?: boolean }) {
    return this.client.post<AlertChannel>("/alert-channels", body);
  }
  updateChannel(channelId: string, body: Partial<Pick<AlertChannel, "name" | "target" | "min_severity" | "enabled">>) {
    return this.client.patch<AlertChannel>(`/alert-channels/${id(channelId)}`, body);
  }
  deleteChannel(channelId: string) {
    return this.client.delete<unknown>(`/alert-channels/${id(channelId)}`);
  }

  // Members and the audit log.
  listMembers(signal?: AbortSignal) {
    return this.client.get<Page<Member>>("/members", { limit: 200 }, signal);
  }
  addMember(body: { email: string; role: Role }) {
    return this.client.post<Member>("/members", body);
  }
  updateMember(userId: string, role: Role) {
    return this.client.patch<Member>(`/members/${id(userId)}`, { role });
  }
  removeMember(userId: string) {
    return this.client.delete<unknown>(`/members/${id(userId)}`);
  }
  /** Outbox rows that used up their attempts (operators read, admins retry). */
  deadLetters(query: { topic?: string } & PageQuery = {}, signal?: AbortSignal) {
    return this.client.get<Page<DeadLetter>>("/dead-letters", query, signal);
  }
  retryDeadLetter(outboxId: number) {
    return this.client.post<{ outbox_id: number; retried: boolean }>(`/dead-letters/${outboxId}/retry`, {});
  }
  auditLog(
    query: { action?: string; target_table?: string; target_id?: string; actor_id?: string; since?: string; until?: string } &
      PageQuery = {},
    signal?: AbortSignal,
  ) {
    return this.client.get<Page<AuditEntry>>("/audit-log", query, signal);
  }
}
