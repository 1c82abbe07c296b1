/** Badges for the platform's states: each an icon and a word on a fill. */
import { Badge } from "@/components/ui/Badge";
import { StatusText } from "@/components/ui/StatusText";
import { alertStatusLook, deliveryLook, modeLook, sessionLook, severityLook } from "@/lib/status";

export function SessionBadge({ status }: { status: string }) {
  const look = sessionLook(status);
  return <Badge tone={look.tone} icon={look.icon}>{look.word}</Badge>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  const look = severityLook(severity);
  return <Badge tone={look.tone} icon={look.icon}>{look.word}</Badge>;
}

export function AlertStatusBadge({ status }: { status: string }) {
  const look = alertStatusLook(status);
  return <Badge tone={look.tone} icon={look.icon}>{look.word}</Badge>;
}

export function ModeBadge({ mode }: { mode: string }) {
  const look = modeLook(mode);
  return <Badge tone={look.tone} icon={look.icon}>{look.word}</Badge>;
}

/** A message's delivery status as coloured text with an icon (it sits inside message bubbles). */
export function DeliveryStatus({ status }: { status: string }) {
  const look = deliveryLook(status);
  const tone = look.tone === "success" || look.tone === "danger" || look.tone === "info" ? look.tone : "neutral";
  return <StatusText tone={tone} icon={look.icon}>{look.word}</StatusText>;
}
