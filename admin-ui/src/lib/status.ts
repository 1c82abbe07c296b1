/**
 * How each state is shown: a tone, an icon and a word, so no state is told
 * by colour alone.
 */
import type { IconName } from "@/components/ui/Icon";
import type { Tone } from "@/components/ui/Badge";
import type { AlertStatus, ConversationMode, SessionStatus, Severity } from "./types";

export interface StatusLook {
  tone: Tone;
  icon: IconName;
  word: string;
}

const SESSION: Record<SessionStatus, StatusLook> = {
  connected: { tone: "success", icon: "check", word: "Connected" },
  starting: { tone: "info", icon: "play", word: "Starting" },
  connecting: { tone: "info", icon: "plug", word: "Connecting" },
  pairing: { tone: "highlight", icon: "qr", word: "Pairing" },
  stopped: { tone: "neutral", icon: "stop", word: "Stopped" },
  degraded: { tone: "warning", icon: "alert", word: "Degraded" },
  rate_limited: { tone: "warning", icon: "pause", word: "Rate limited" },
  disconnected: { tone: "danger", icon: "unplug", word: "Disconnected" },
  logged_out: { tone: "danger", icon: "logout", word: "Logged out" },
  banned: { tone: "danger", icon: "ban", word: "Banned" },
  failed: { tone: "danger", icon: "x", word: "Failed" },
};

export function sessionLook(status: string): StatusLook {
  return SESSION[status as SessionStatus] ?? { tone: "neutral", icon: "question", word: status.replace(/_/g, " ") };
}

const SEVERITY: Record<Severity, StatusLook> = {
  critical: { tone: "danger", icon: "alert", word: "Critical" },
  warning: { tone: "warning", icon: "alert", word: "Warning" },
  info: { tone: "info", icon: "info", word: "Info" },
};

export function severityLook(severity: string): StatusLook {
  return SEVERITY[severity as Severity] ?? { tone: "neutral", icon: "question", word: severity };
}

const ALERT_STATUS: Record<AlertStatus, StatusLook> = {
  open: { tone: "danger", icon: "bell", word: "Open" },
  acknowledged: { tone: "primary", icon: "eye", word: "Acknowledged" },
  resolved: { tone: "success", icon: "check", word: "Resolved" },
};

export function alertStatusLook(status: string): StatusLook {
  return ALERT_STATUS[status as AlertStatus] ?? { tone: "neutral", icon: "question", word: status };
}

const MODE: Record<ConversationMode, StatusLook> = {
  bot: { tone: "info", icon: "bot", word: "Bot" },
  human: { tone: "accent", icon: "hand", word: "Agent" },
  closed: { tone: "neutral", icon: "stop", word: "Closed" },
};

export function modeLook(mode: string): StatusLook {
  return MODE[mode as ConversationMode] ?? { tone: "neutral", icon: "question", word: mode };
}

/** A message's delivery status: queued, sending, sent, delivered, read, failed, received. */
export function deliveryLook(status: string): StatusLook {
  switch (status) {
    case "queued":
    case "pending":
      return { tone: "neutral", icon: "clock", word: "Queued" };
    case "sending":
    case "claimed":
      return { tone: "info", icon: "send", word: "Sending" };
    case "sent":
      return { tone: "info", icon: "check", word: "Sent" };
    case "delivered":
      return { tone: "success", icon: "doubleCheck", word: "Delivered" };
    case "read":
      return { tone: "success", icon: "eye", word: "Read" };
    case "failed":
      return { tone: "danger", icon: "x", word: "Failed" };
    case "received":
      return { tone: "neutral", icon: "check", word: "Received" };
    default:
      return { tone: "neutral", icon: "question", word: status.replace(/_/g, " ") };
  }
}

/** A connection event on the number's timeline. */
export function eventLook(event: string): StatusLook & { tone: "neutral" | "success" | "warning" | "danger" | "info" } {
  switch (event) {
    case "connected":
      return { tone: "success", icon: "check", word: "Connected" };
    case "reconnected":
      return { tone: "success", icon: "check", word: "Reconnected" };
    case "connecting":
      return { tone: "info", icon: "plug", word: "Connecting" };
    case "reconnecting":
      return { tone: "warning", icon: "plug", word: "Reconnecting" };
    case "degraded":
      return { tone: "warning", icon: "alert", word: "Degraded" };
    case "failed":
    case "connect_failed":
      return { tone: "danger", icon: "x", word: event === "failed" ? "Failed" : "Connect failed" };
    case "restarted":
      return { tone: "info", icon: "restart", word: "Restarted" };
    case "disconnected":
      return { tone: "danger", icon: "unplug", word: "Disconnected" };
    case "logged_out":
      return { tone: "danger", icon: "logout", word: "Logged out" };
    case "banned":
      return { tone: "danger", icon: "ban", word: "Banned" };
    case "rate_limited":
      return { tone: "warning", icon: "pause", word: "Rate limited" };
    case "qr":
    case "qr_shown":
      return { tone: "info", icon: "qr", word: "QR code shown" };
    case "pairing_code":
    case "pair_code_shown":
      return { tone: "info", icon: "qr", word: "Pair code shown" };
    case "pairing":
      return { tone: "info", icon: "qr", word: "Pairing" };
    case "paired":
      return { tone: "success", icon: "check", word: "Paired" };
    case "starting":
    case "start_requested":
      return { tone: "info", icon: "play", word: "Starting" };
    case "stopped":
    case "stop_requested":
      return { tone: "neutral", icon: "stop", word: "Stopped" };
    case "restart_requested":
    case "restarting":
      return { tone: "info", icon: "restart", word: "Restarting" };
    case "heartbeat":
      return { tone: "neutral", icon: "spark", word: "Heartbeat" };
    default:
      return { tone: "neutral", icon: "info", word: event.replace(/_/g, " ") };
  }
}
