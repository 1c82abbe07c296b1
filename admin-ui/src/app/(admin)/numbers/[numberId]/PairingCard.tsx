"use client";
import { QrCode } from "@/components/QrCode";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { useApi } from "@/lib/auth";
import { dateTime, relativeTime } from "@/lib/format";
import type { ConnectionEvent, Pairing } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

/** The pairing events' kinds: the daemon shows a QR code and a pair code together. */
const PAIRING_EVENTS = ["qr", "qr_shown", "pairing_code", "pair_code_shown"];

/** What to show: the latest QR code and the latest pair code of this pairing, each until it expires. */
export function currentCodes(
  pairing: Pairing["pairing"],
  events: ConnectionEvent[],
  pairingSince: string,
  nowMs: number = Date.now(),
): { qr: string | null; pairCode: string | null; expiresAt: string | null; shownAt: string | null } {
  const since = Date.parse(pairingSince) - 5000;
  const fresh = events
    .filter((event) => PAIRING_EVENTS.includes(event.event) && Date.parse(event.occurred_at) >= since)
    .filter((event) => typeof event.detail.expires_at !== "string" || Date.parse(event.detail.expires_at) > nowMs)
    .sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
  const qrEvent = fresh.find((event) => text(event.detail.qr) !== null);
  const codeEvent = fresh.find((event) => text(event.detail.pair_code) ?? text(event.detail.code));
  return {
    qr: pairing?.qr ?? (qrEvent ? text(qrEvent.detail.qr) : null),
    pairCode: pairing?.pair_code ?? (codeEvent ? text(codeEvent.detail.pair_code) ?? text(codeEvent.detail.code) : null),
    expiresAt: pairing?.expires_at ?? text(qrEvent?.detail.expires_at) ?? text(codeEvent?.detail.expires_at),
    shownAt: pairing?.shown_at ?? qrEvent?.occurred_at ?? codeEvent?.occurred_at ?? null,
  };
}

/**
 * While the number pairs: the QR code to scan and the code to type, refreshed
 * as new ones arrive. `GET /pairing` names the latest one; the connection
 * events give the other, since the daemon shows both at once.
 */
export function PairingCard({ numberId, status, statusSince }: { numberId: string; status: string; statusSince: string }) {
  const api = useApi();
  const pairing = usePoll(
    async (signal) => {
      const [answer, events] = await Promise.all([
        api.pairing(numberId, signal),
        api.events(numberId, { event: PAIRING_EVENTS, limit: 10 }, signal),
      ]);
      return { answer, events: events.data };
    },
    [api, numberId, status === "pairing"],
    status === "pairing" ? 2000 : null,
  );
  const codes = pairing.data ? currentCodes(pairing.data.answer.pairing, pairing.data.events, statusSince) : null;
  return (
    <Card title="Pairing" id="pairing" region description="Link the WhatsApp account: scan the QR code or type the pair code.">
      {status !== "pairing"
        ? <p className="ns-muted">The number is not pairing. Start or restart a session that is logged out to get a code.</p>
        : pairing.loading
        ? <Loading label="Waiting for a code…" />
        : pairing.error && !pairing.data
        ? <ErrorState error={pairing.error} what="the pairing code" onRetry={pairing.reload} />
        : codes === null || (codes.qr === null && codes.pairCode === null)
        ? <EmptyState id="pairing-wait" title="Waiting for a code">The daemon has not shown a QR code or pair code yet.</EmptyState>
        : (
          <div className="ns-pairing">
            {codes.qr
              ? (
                <div>
                  <h3>Scan with WhatsApp</h3>
                  <p className="ns-muted">WhatsApp → Settings → Linked devices → Link a device.</p>
                  <QrCode text={codes.qr} label="QR code to link the WhatsApp account" />
                </div>
              )
              : null}
            {codes.pairCode
              ? (
                <div>
                  <h3>{codes.qr ? "Or type this pair code" : "Type this pair code"}</h3>
                  <p className="ns-muted">WhatsApp → Linked devices → Link with phone number instead.</p>
                  <p className="ns-pair-code ns-mono">{codes.pairCode}</p>
                </div>
              )
              : null}
            <p className="ns-muted">
              Shown {relativeTime(codes.shownAt)}
              {codes.expiresAt ? `; expires ${dateTime(codes.expiresAt)}` : ""}. New codes appear here by themselves.
            </p>
          </div>
        )}
    </Card>
  );
}
