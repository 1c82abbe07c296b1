import { describe, expect, it } from "vitest";
import {
  approvedTemplates,
  attachmentKind,
  bodyParameterCount,
  type Content,
  contentFromRouting,
  contentOf,
  fillBody,
  formatBytes,
  formatCoordinates,
  layoutThread,
  mapUrl,
  type MessageTemplate,
  parameterIndexOfPath,
  quoteText,
  summary,
  templateContent,
} from "./message-content";

const message = (id: string, content: Content | undefined, extra: Record<string, unknown> = {}) => ({
  id,
  type: content?.kind ?? "text",
  body: "",
  direction: "inbound",
  created_at: "2026-12-04T10:00:00Z",
  content,
  wa_message_id: `wamid.${id}`,
  context_wa_message_id: null as string | null,
  ...extra,
});

describe("contentOf", () => {
  it("returns the API's content of a known kind", () => {
    const content: Content = { kind: "location", latitude: 52.37, longitude: 4.89, name: "Shop" };
    expect(contentOf(message("1", content))).toEqual(content);
  });

  it("reads an older API's row (no content) as its body text", () => {
    expect(contentOf({ id: "1", type: "text", body: "hello" })).toEqual({ kind: "text", text: "hello" });
    expect(contentOf({ id: "1", type: "image", body: "" })).toEqual({
      kind: "unknown",
      original_type: "image",
      reason: "the message has no content",
    });
  });

  it("flags a kind the console does not know, never dropping it", () => {
    expect(contentOf({ id: "1", type: "poll", body: "", content: { kind: "poll", question: "?" } })).toEqual({
      kind: "unknown",
      original_type: "poll",
      reason: "this console does not know this kind yet",
    });
  });
});

describe("summary", () => {
  it("matches Content::summary for each kind", () => {
    expect(summary({ kind: "text", text: "hi" })).toBe("hi");
    expect(summary({ kind: "image", caption: "Order photo", filename: "a.jpg" })).toBe("Order photo");
    expect(summary({ kind: "document", filename: "invoice.pdf" })).toBe("invoice.pdf");
    expect(summary({ kind: "voice" })).toBe("");
    expect(summary({ kind: "location", latitude: 1, longitude: 2, name: "Shop", address: "Main St 1" })).toBe("Shop, Main St 1");
    expect(summary({ kind: "contacts", contacts: [{ name: { formatted_name: "Ann" } }, { name: { formatted_name: "Bo" } }] }))
      .toBe("Ann, Bo");
    expect(summary({ kind: "reaction", message_id: "wamid.1", emoji: "👍" })).toBe("👍");
    expect(summary({ kind: "button_reply", id: "buy", title: "Buy" })).toBe("Buy");
    expect(summary({ kind: "template", name: "order_update", language: "en", components: [] })).toBe("order_update");
    expect(summary({ kind: "unknown", original_type: "poll", reason: "" })).toBe("");
  });

  it("never leaves a quote empty", () => {
    expect(quoteText({ kind: "voice" })).toBe("[Voice note]");
    expect(quoteText({ kind: "text", text: "yes" })).toBe("yes");
  });
});

describe("formatting", () => {
  it("formats sizes", () => {
    expect(formatBytes(912)).toBe("912 B");
    expect(formatBytes(14_540)).toBe("14.2 KB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MB");
    expect(formatBytes(150 * 1024 * 1024)).toBe("150 MB");
    expect(formatBytes(null)).toBe("");
    expect(formatBytes(-1)).toBe("");
  });

  it("links a point on OpenStreetMap with a marker", () => {
    expect(mapUrl(52.3676, 4.9041)).toBe("https://www.openstreetmap.org/?mlat=52.3676&mlon=4.9041#map=16/52.3676/4.9041");
    expect(formatCoordinates(-33.8688, 151.2093)).toBe("33.86880° S, 151.20930° E");
  });
});

describe("layoutThread", () => {
  it("puts a reaction on the message it reacts to, latest per side, and keeps unmatched ones", () => {
    const items = layoutThread([
      message("1", { kind: "text", text: "Your order shipped" }, { direction: "outbound" }),
      message("2", { kind: "reaction", message_id: "wamid.1", emoji: "😮" }),
      message("3", { kind: "reaction", message_id: "wamid.1", emoji: "👍" }),
      message("4", { kind: "reaction", message_id: "wamid.elsewhere", emoji: "❤️" }),
    ]);
    expect(items.map((item) => item.message.id)).toEqual(["1", "4"]);
    expect(items[0]!.reactions.map((reaction) => reaction.emoji)).toEqual(["👍"]);
    expect(items[1]!.content.kind).toBe("reaction");
  });

  it("an empty emoji removes the reaction", () => {
    const items = layoutThread([
      message("1", { kind: "text", text: "x" }),
      message("2", { kind: "reaction", message_id: "wamid.1", emoji: "👍" }, { direction: "outbound" }),
      message("3", { kind: "reaction", message_id: "wamid.1", emoji: "" }, { direction: "outbound" }),
    ]);
    expect(items).toHaveLength(1);
    expect(items[0]!.reactions).toEqual([]);
  });

  it("gives a reply the summary of the message it quotes", () => {
    const items = layoutThread([
      message("1", { kind: "image", caption: "The broken lamp", storage_key: "inbound/n/1" }),
      message("2", { kind: "text", text: "Sorry about that" }, { context_wa_message_id: "wamid.1" }),
      message("3", { kind: "text", text: "And this?" }, { context_wa_message_id: "wamid.gone" }),
    ]);
    expect(items[1]!.quoted).toEqual({ id: "wamid.1", text: "The broken lamp", found: true });
    expect(items[2]!.quoted).toEqual({ id: "wamid.gone", text: "an earlier message", found: false });
    expect(items[0]!.quoted).toBeNull();
  });
});

describe("templates", () => {
  const templates: MessageTemplate[] = [
    {
      name: "order_update",
      language: "en_US",
      status: "APPROVED",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} is on its way." }],
    },
    { name: "promo", language: "en_US", status: "PENDING", category: "MARKETING", components: [] },
    { name: "hello", language: "en_US", status: "approved", category: "UTILITY", components: [{ type: "BODY", text: "Hello!" }] },
  ];

  it("offers only approved ones and counts their body parameters", () => {
    expect(approvedTemplates(templates).map((template) => template.name)).toEqual(["order_update", "hello"]);
    expect(bodyParameterCount(templates[0]!)).toBe(2);
    expect(bodyParameterCount(templates[2]!)).toBe(0);
  });

  it("previews and builds the template message", () => {
    expect(fillBody(templates[0]!, ["Ann"])).toBe("Hi Ann, order {{2}} is on its way.");
    expect(templateContent(templates[0]!, ["Ann", "#42"])).toEqual({
      kind: "template",
      name: "order_update",
      language: "en_US",
      components: [{ type: "body", parameters: [{ type: "text", text: "Ann" }, { type: "text", text: "#42" }] }],
    });
    expect(templateContent(templates[2]!, [])).toEqual({ kind: "template", name: "hello", language: "en_US", components: [] });
  });

  it("finds the parameter an error path names", () => {
    expect(parameterIndexOfPath("$.content.components[0].parameters[1].text")).toBe(1);
    expect(parameterIndexOfPath("$.content.name")).toBeNull();
  });
});

describe("attachments and the routing core's messages", () => {
  it("sends JPEG and PNG as pictures, anything else as a document", () => {
    expect(attachmentKind("image/png")).toBe("image");
    expect(attachmentKind("image/jpeg; charset=binary")).toBe("image");
    expect(attachmentKind("image/gif")).toBe("document");
    expect(attachmentKind("application/pdf")).toBe("document");
  });

  it("reads the core's media shape and Content alike", () => {
    expect(contentFromRouting({
      kind: "media",
      media: { url: "https://example.com/a.pdf", media_id: null, mime_type: "application/pdf", filename: "a.pdf" },
      caption: "Your invoice",
    })).toMatchObject({ kind: "document", url: "https://example.com/a.pdf", filename: "a.pdf", caption: "Your invoice" });
    expect(contentFromRouting({ kind: "media", media: { url: "https://x/y.ogg", mime_type: "audio/ogg" }, caption: null }).kind)
      .toBe("voice");
    expect(contentFromRouting({ kind: "buttons", text: "Pick", buttons: [{ id: "a", title: "A" }] }).kind).toBe("buttons");
    expect(contentFromRouting({ kind: "image", storage_key: "bots/b/1", mime_type: "image/png" }).kind).toBe("image");
  });
});
