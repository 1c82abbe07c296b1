"use client";
import { QrCode } from "@/components/QrCode";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { useApi } from "@/lib/auth";
import { dateTime, relativeTime } from "@/lib/format";
import type { Pairing } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

/**
 * What to show: the latest QR code and the latest pair code of this pairing
 * (`GET /pairing` gives both), until they expire. The connection events never
 * carry a code: they are readable by every member, the codes by operators
 * only (`number_pairing_codes`).
 */
export function currentCodes(
  pairing: Pairing["pairing"],
  nowMs: number = Date.now(),
): { qr: string | null; pairCode: string | null; expiresAt: string | null; shownAt: string | null } {
  if (pairing === null || (pairing.expires_at !== null && Date.parse(pairing.expires_at) <= nowMs)) {
    return { qr: null, pairCode: null, expiresAt: null, shownAt: null };
  }
  return { qr: pairing.qr, pairCode: pairing.pair_code, expiresAt: pairing.expires_at, shownAt: pairing.shown_at };
}

/**
 * While the number pairs: the QR code to scan and the code to type, refreshed
 * as new ones arrive (`GET /pairing`, polled every 2 s while pairing).
 */
export function PairingCard({ numberId, status }: { numberId: string; status: string }) {
  const api = useApi();
  const pairing = usePoll(
    async (signal) => ({ answer: await api.pairing(numberId, signal) }),
    [api, numberId, status === "pairing"],
    status === "pairing" ? 2000 : null,
  );
  const codes = pairing.data ? currentCodes(pairing.data.answer.pairing) : null;
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
