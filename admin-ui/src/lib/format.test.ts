import { describe, expect, it } from "vitest";
import { duration, humanize, plural, relativeTime, shortId } from "./format";
import { threadOrder } from "./thread";
import type { Message } from "./types";

describe("format", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  it("says how long ago", () => {
    expect(relativeTime(null, now)).toBe("never");
    expect(relativeTime("2026-11-26T11:59:58Z", now)).toBe("just now");
    expect(relativeTime("2026-11-26T11:59:30Z", now)).toBe("30 s ago");
    expect(relativeTime("2026-11-26T11:45:00Z", now)).toBe("15 min ago");
    expect(relativeTime("2026-11-26T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-11-24T12:00:00Z", now)).toBe("2 d ago");
    expect(relativeTime("2026-11-26T12:30:00Z", now)).toBe("in 30 min");
    expect(relativeTime("not a date", now)).toBe("unknown");
  });
  it("formats durations, ids, words and counts", () => {
    expect(duration(3725)).toBe("1 h 2 min");
    expect(duration(62)).toBe("1 min 2 s");
    expect(duration(5)).toBe("5 s");
    expect(shortId("00000000-0000-4000-8000-00000000a001")).toBe("00000000");
    expect(humanize("rate_limited")).toBe("rate limited");
    expect([plural(1, "number"), plural(2, "number")]).toEqual(["1 number", "2 numbers"]);
  });
});

describe("threadOrder", () => {
  const message = (id: string, created_at: string, sent_at: string | null) => ({ id, created_at, sent_at }) as Message;
  it("puts replies written together in the order they were sent", () => {
    const thread = threadOrder([
      message("menu", "2026-11-26T10:00:01Z", "2026-11-26T10:00:01.866Z"),
      message("welcome", "2026-11-26T10:00:01Z", "2026-11-26T10:00:01.865Z"),
      message("hi", "2026-11-26T10:00:00Z", null),
      message("queued", "2026-11-26T10:00:01Z", null),
    ]);
    expect(thread.map((item) => item.id)).toEqual(["hi", "welcome", "menu", "queued"]);
  });
});
