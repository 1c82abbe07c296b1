import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { QrCode } from "@/components/QrCode";
import { currentCodes } from "./PairingCard";

describe("currentCodes", () => {
  const now = Date.parse("2026-11-26T10:00:30Z");
  const pairing = {
    method: "qr" as const,
    qr: "2@ref,key",
    pair_code: "ABCD-1234",
    expires_at: "2026-11-26T10:01:00Z",
    shown_at: "2026-11-26T10:00:01Z",
  };

  it("shows the QR code and the pair code of this pairing together", () => {
    expect(currentCodes(pairing, now)).toMatchObject({ qr: "2@ref,key", pairCode: "ABCD-1234" });
  });

  it("shows nothing once the codes expired, or before there are any", () => {
    expect(currentCodes(pairing, Date.parse("2026-11-26T10:02:00Z"))).toMatchObject({ qr: null, pairCode: null });
    expect(currentCodes(null, now)).toMatchObject({ qr: null, pairCode: null });
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
