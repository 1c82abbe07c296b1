/**
 * The Cloud API's 24-hour customer-service window, from the functions.
 *
 * A contact's message opens (or renews) the window; 24 hours later it
 * closes, and WhatsApp then accepts only templates (a free-form message
 * fails with 131047). The database keeps `conversations.last_inbound_at`
 * (a trigger on inbound messages) and answers `private.service_window`;
 * it also refuses a queued free-form message outside the window for any
 * writer (SQLSTATE `WA024`). This module asks the same function, so the
 * admin API refuses before anything is written, with a message naming the
 * template path. WhatsApp Web and the simulator have no window.
 *
 * @module
 */

import type { Tx } from "./db.ts";

/** A conversation's window. */
export interface ServiceWindow {
  /** Whether a window applies (Cloud API numbers only). */
  applies: boolean;
  /** Whether a free-form message may be sent now. */
  open: boolean;
  /** When the window closes (or closed); null when the contact never wrote. */
  closesAt: string | null;
}

/** The window of a conversation the caller can read; null when there is none. */
export async function serviceWindow(tx: Tx, conversationId: string): Promise<ServiceWindow | null> {
  const [row] = await tx`
    select window_applies, window_open, window_closes_at
    from private.service_window(${conversationId}::uuid)`;
  if (row === undefined || row.window_applies === null) return null;
  return {
    applies: row.window_applies as boolean,
    open: row.window_open as boolean,
    closesAt: row.window_closes_at === null ? null : new Date(row.window_closes_at as string).toISOString(),
  };
}

/** Why a free-form message may not be sent, naming the template path. */
export function windowClosedMessage(window: ServiceWindow): string {
  const when = window.closesAt === null
    ? "the 24-hour customer-service window is closed: the contact never wrote to this number"
    : `the 24-hour window closed at ${window.closesAt.replace(/\.\d{3}Z$/, "Z")}`;
  return `${when}; send a template: content.kind = "template"`;
}
