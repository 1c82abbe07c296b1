/**
 * The message renderer draws every kind; stored media is fetched through
 * the loader (the admin API with the member's token) into an object URL.
 */
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Content } from "@/lib/message-content";
import { MessageContentView } from "./MessageContent";

const png = () => new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" });

describe("MessageContentView", () => {
  it("shows a stored picture inline from an object URL, with the caption as alt text", async () => {
    const load = vi.fn(async () => png());
    render(<MessageContentView content={{ kind: "image", storage_key: "inbound/n/m", mime_type: "image/png", size_bytes: 14_540, caption: "The broken lamp" }} loadMedia={load} />);
    const image = await screen.findByRole("img", { name: "The broken lamp" });
    expect(image.getAttribute("src")).toMatch(/^blob:/);
    expect(load).toHaveBeenCalledTimes(1);
    expect(screen.getByText(/image\/png · 14.2 KB/)).toBeTruthy();
    expect(screen.getByText("The broken lamp", { selector: ".ns-bubble__text" })).toBeTruthy();
  });

  it("says why a file could not be loaded or was not stored", async () => {
    render(<MessageContentView content={{ kind: "image", storage_key: "k", mime_type: "image/png" }} loadMedia={async () => Promise.reject(new Error("media not found"))} />);
    expect(await screen.findByText(/Could not load the picture: media not found/)).toBeTruthy();
    render(<MessageContentView content={{ kind: "video", media_id: "123", storage_error: "the file is over 16 MB" }} />);
    expect(screen.getByText("The file was not stored: the file is over 16 MB")).toBeTruthy();
  });

  it("plays audio, voice notes and video", async () => {
    const { container } = render(
      <>
        <MessageContentView content={{ kind: "voice", storage_key: "k1", mime_type: "audio/ogg" }} loadMedia={async () => new Blob(["o"], { type: "audio/ogg" })} />
        <MessageContentView content={{ kind: "video", storage_key: "k2", mime_type: "video/mp4", caption: "Unboxing" }} loadMedia={async () => new Blob(["v"], { type: "video/mp4" })} />
      </>,
    );
    await waitFor(() => expect(container.querySelector("audio[controls]")?.getAttribute("src")).toMatch(/^blob:/));
    await waitFor(() => expect(container.querySelector("video[controls]")?.getAttribute("src")).toMatch(/^blob:/));
  });

  it("downloads a document on demand, named and sized", async () => {
    const load = vi.fn(async () => new Blob(["%PDF"], { type: "application/pdf" }));
    render(<MessageContentView content={{ kind: "document", storage_key: "k", mime_type: "application/pdf", size_bytes: 2048, filename: "invoice.pdf" }} loadMedia={load} />);
    expect(load).not.toHaveBeenCalled();
    expect(screen.getByText("application/pdf · 2 KB")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Download invoice.pdf" }));
    await waitFor(() => expect(load).toHaveBeenCalledTimes(1));
  });

  it("shows a location with coordinates and an OpenStreetMap link in a new tab", () => {
    render(<MessageContentView content={{ kind: "location", latitude: 52.3676, longitude: 4.9041, name: "Our shop", address: "Dam 1" }} />);
    const link = screen.getByRole("link", { name: /Open in OpenStreetMap/ });
    expect(link.getAttribute("href")).toBe("https://www.openstreetmap.org/?mlat=52.3676&mlon=4.9041#map=16/52.3676/4.9041");
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
    expect(screen.getByText("52.36760° N, 4.90410° E")).toBeTruthy();
    expect(screen.getByText("Our shop")).toBeTruthy();
  });

  const cases: Array<[string, Content, RegExp[]]> = [
    ["contacts", { kind: "contacts", contacts: [{ name: { formatted_name: "Ann Lee" }, phones: [{ phone: "+31 6 1234 5678", type: "CELL" }] }] }, [
      /Ann Lee/,
      /\+31 6 1234 5678 \(cell\)/,
    ]],
    ["a button tap", { kind: "button_reply", id: "buy", title: "Buy now" }, [/Buy now/, /tapped/, /^buy$/]],
    ["a list pick", { kind: "list_reply", id: "track", title: "Track it", description: "Where is it?" }, [/Track it/, /picked from a list/, /Where is it\?/]],
    ["buttons", { kind: "buttons", text: "Prices start at 10 euros.", buttons: [{ id: "buy", title: "Buy" }, { id: "later", title: "Later" }] }, [
      /Prices start/,
      /^Buy$/,
      /^Later$/,
    ]],
    ["a list", {
      kind: "list",
      text: "What next?",
      button: "Options",
      sections: [{ title: "Delivery", rows: [{ id: "track", title: "Track it", description: "Where is it" }] }],
    }, [/What next\?/, /Options/, /Delivery/, /Track it/]],
    ["a template", {
      kind: "template",
      name: "order_update",
      language: "en_US",
      components: [{ type: "body", parameters: [{ type: "text", text: "Ann" }, { type: "currency", fallback_value: "€10", code: "EUR", amount_1000: 10000 }] }],
    }, [/order_update/, /en_US/, /^Ann$/, /€10/]],
    ["a system notice", { kind: "system", system_type: "user_changed_number", text: "User A changed from +1 to +2", new_wa_id: "2" }, [
      /System notice/,
      /User A changed/,
    ]],
    ["an unknown kind", { kind: "unknown", original_type: "poll", reason: "not mapped yet" }, [/not supported yet/, /^poll$/]],
    ["a reaction to a message not in the thread", { kind: "reaction", message_id: "wamid.x", emoji: "👍" }, [/Reacted/, /👍/]],
    ["a sticker referenced by WhatsApp id only", { kind: "sticker", media_id: "987" }, [/Sticker/, /987/]],
  ];
  for (const [name, content, texts] of cases) {
    it(`draws ${name}`, () => {
      render(<MessageContentView content={content} />);
      for (const text of texts) expect(screen.getAllByText(text).length).toBeGreaterThan(0);
    });
  }

  it("lets the test chat answer a button with its id", () => {
    const choose = vi.fn();
    render(<MessageContentView content={{ kind: "buttons", text: "Pick", buttons: [{ id: "yes", title: "Yes" }] }} onChoose={choose} />);
    fireEvent.click(screen.getByRole("button", { name: "Yes" }));
    expect(choose).toHaveBeenCalledWith("Yes", "yes");
  });
});
