import { describe, expect, it } from "vitest";
import { alertStatusLook, deliveryLook, eventLook, modeLook, sessionLook, severityLook } from "./status";
import { SESSION_STATUSES } from "./types";

describe("status looks", () => {
  it("give every session state an icon and a word, not just a colour", () => {
    const words = new Set<string>();
    for (const status of SESSION_STATUSES) {
      const look = sessionLook(status);
      expect(look.icon).toBeTruthy();
      expect(look.word).toMatch(/^[A-Z]/);
      words.add(look.word);
    }
    expect(words.size).toBe(SESSION_STATUSES.length);
  });

  it("tell bad states from good ones by tone", () => {
    expect(sessionLook("connected").tone).toBe("success");
    for (const bad of ["disconnected", "logged_out", "banned", "failed"]) expect(sessionLook(bad).tone).toBe("danger");
    expect(sessionLook("rate_limited").tone).toBe("warning");
  });

  it("cope with values the UI does not know yet", () => {
    expect(sessionLook("hibernating")).toMatchObject({ word: "hibernating", icon: "question" });
    expect(eventLook("stream_replaced").word).toBe("stream replaced");
    expect(deliveryLook("mystery").word).toBe("mystery");
  });

  it("cover severities, alert statuses, modes and deliveries", () => {
    expect(severityLook("critical")).toMatchObject({ tone: "danger", word: "Critical" });
    expect(alertStatusLook("acknowledged").word).toBe("Acknowledged");
    expect(modeLook("human").word).toBe("Agent");
    expect(deliveryLook("delivered")).toMatchObject({ tone: "success", word: "Delivered" });
    expect(eventLook("qr").icon).toBe("qr");
  });
});
