import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { QrCode } from "@/components/QrCode";
import type { ConnectionEvent } from "@/lib/types";
import { currentCodes } from "./PairingCard";

const event = (id: number, kind: string, at: string, detail: Record<string, unknown>): ConnectionEvent => ({
  id,
  number_id: "n",
  event: kind,
  reason: null,
  code: null,
  detail,
  occurred_at: at,
});

describe("currentCodes", () => {
  const now = Date.parse("2026-11-26T10:00:30Z");
  const events = [
    event(3, "pair_code_shown", "2026-11-26T10:00:01Z", { pair_code: "ABCD-1234", expires_at: "2026-11-26T10:01:00Z" }),
    event(2, "qr_shown", "2026-11-26T10:00:00Z", { qr: "2@ref,key", expires_at: "2026-11-26T10:01:00Z" }),
    event(1, "qr_shown", "2026-11-26T09:00:00Z", { qr: "2@old", expires_at: "2026-11-26T09:01:00Z" }),
  ];

  it("shows the QR code and the pair code of this pairing together", () => {
    const pairing = { method: "pair_code" as const, qr: null, pair_code: "ABCD-1234", expires_at: null, shown_at: "2026-11-26T10:00:01Z" };
    expect(currentCodes(pairing, events, "2026-11-26T10:00:00Z", now)).toMatchObject({ qr: "2@ref,key", pairCode: "ABCD-1234" });
  });

  it("ignores expired codes and those of an earlier pairing", () => {
    expect(currentCodes(null, events, "2026-11-26T10:00:00Z", Date.parse("2026-11-26T10:02:00Z"))).toMatchObject({ qr: null, pairCode: null });
    expect(currentCodes(null, events.slice(2), "2026-11-26T10:00:00Z", now).qr).toBeNull();
  });
});

describe("QrCode", () => {
  it("draws a labelled QR code with a quiet zone", () => {
    render(<QrCode text="2@ref,key" label="Scan me" />);
    const image = screen.getByRole("img", { name: "Scan me" });
    const [, , width] = image.getAttribute("viewBox")!.split(" ").map(Number);
    expect(width).toBeGreaterThanOrEqual(21 + 8);
    expect(image.querySelector("path")!.getAttribute("d")!.length).toBeGreaterThan(100);
  });
});
