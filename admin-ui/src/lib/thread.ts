import type { Message } from "./types";

/**
 * A conversation's messages, oldest first. Replies written in one
 * transaction share `created_at`, so the time they were sent breaks the tie
 * (the daemon sends them in order); unsent ones come last among equals.
 */
export function threadOrder(messages: readonly Message[]): Message[] {
  const time = (value: string | null) => (value === null ? Number.POSITIVE_INFINITY : Date.parse(value));
  return [...messages].sort((a, b) => time(a.created_at) - time(b.created_at) || time(a.sent_at) - time(b.sent_at));
}
