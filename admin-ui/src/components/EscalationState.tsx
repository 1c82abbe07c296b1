import { Badge } from "@/components/ui/Badge";
import { relativeTime } from "@/lib/format";
import type { Alert } from "@/lib/types";

/** pg_cron escalates alerts left open and unacknowledged for this long (docs/api.md). */
export const ESCALATION_AFTER_MS = 30 * 60 * 1000;

/** Where an alert stands on escalation: escalated, due at, stopped by acknowledgement, or over. */
export function escalationOf(alert: Alert, nowMs: number = Date.now()): { word: string; tone: "danger" | "warning" | "neutral" | "success"; detail: string } {
  if (alert.escalated_at) {
    return { word: "Escalated", tone: "danger", detail: relativeTime(alert.escalated_at, nowMs) };
  }
  if (alert.status === "resolved") return { word: "Not needed", tone: "neutral", detail: "resolved" };
  if (alert.status === "acknowledged") return { word: "Stopped", tone: "success", detail: "acknowledged" };
  const due = Date.parse(alert.created_at) + ESCALATION_AFTER_MS;
  return {
    word: due <= nowMs ? "Due now" : "Pending",
    tone: "warning",
    detail: due <= nowMs ? "at the next pg_cron tick" : relativeTime(new Date(due).toISOString(), nowMs),
  };
}

export function EscalationState({ alert }: { alert: Alert }) {
  const state = escalationOf(alert);
  return (
    <span className="ns-inline">
      <Badge
        tone={state.tone === "neutral" ? "neutral" : state.tone}
        icon={state.tone === "danger" ? "escalate" : state.tone === "success" ? "check" : state.tone === "warning" ? "clock" : "stop"}
      >
        {state.word}
      </Badge>
      <span className="ns-muted">{state.detail}</span>
    </span>
  );
}
