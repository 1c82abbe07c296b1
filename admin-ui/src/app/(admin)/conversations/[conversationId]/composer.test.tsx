/**
 * The agent's composer against a fake admin API (a test double answering
 * `fetch` in place of functions/admin-api, whose media, template and
 * content routes are being built in parallel): what it sends for a
 * picture, a quote and a template, and where it shows the API's errors.
 */
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { AdminApi } from "@/lib/admin-api";
import { ApiClient } from "@/lib/api";
import type { Conversation, Message } from "@/lib/types";
import { Composer, slotForError } from "./Composer";
import { errorFromBody } from "@/lib/api";

type Answer = { status: number; body: unknown };

/** A fake admin API: records each request and answers from `routes` ("METHOD /path" → answer). */
function fakeAdminApi(routes: Record<string, Answer | ((body: unknown) => Answer)>) {
  const requests: Array<{ route: string; contentType: string | undefined; body: unknown }> = [];
  const fetchImpl = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const path = String(url).replace("https://fake/admin-api", "").replace(/\?.*$/, "");
    const route = `${init?.method} ${path}`;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : init?.body;
    requests.push({ route: `${route}${String(url).includes("?") ? `?${String(url).split("?")[1]}` : ""}`, contentType: headers["content-type"], body });
    const handler = routes[route];
    const answer = typeof handler === "function" ? handler(body) : handler ?? { status: 404, body: { error: { code: "not_found", message: "no route" } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  });
  return { api: new AdminApi(new ApiClient("https://fake/admin-api", async () => "token", fetchImpl as typeof fetch)), requests };
}

const conversation = (extra: Partial<Conversation> = {}): Conversation => ({
  id: "c1",
  number_id: "n1",
  contact_wa_id: "+15550001",
  contact_name: "Ann",
  contact_id: null,
  bot_version_id: null,
  mode: "human",
  assigned_to: "me",
  opted_out: false,
  tags: [],
  flow_state: {},
  last_activity_at: "2026-12-04T10:00:00Z",
  created_at: "2026-12-04T10:00:00Z",
  updated_at: "2026-12-04T10:00:00Z",
  ...extra,
});

const TEMPLATES = [
  { name: "order_update", language: "en_US", status: "APPROVED", category: "UTILITY", components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} shipped." }] },
  { name: "draft_promo", language: "en_US", status: "PENDING", category: "MARKETING", components: [] },
];

describe("Composer", () => {
  it("uploads a picture, then sends it with its storage key and the caption", async () => {
    const { api, requests } = fakeAdminApi({
      "POST /media": { status: 201, body: { storage_key: "uploads/u1", mime_type: "image/png", size_bytes: 4, sha256: "ab", filename: "lamp.png" } },
      "POST /conversations/c1/messages": { status: 201, body: { id: "m9" } },
    });
    const sent = vi.fn();
    render(<Composer api={api} conversation={conversation()} replyTo={null} onClearReply={() => {}} onSent={sent} />);
    const file = new File([new Uint8Array([1, 2, 3, 4])], "lamp.png", { type: "image/png" });
    fireEvent.change(screen.getByLabelText("Attach a picture or a document"), { target: { files: [file] } });
    expect(screen.getByText("lamp.png")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Caption (optional)"), { target: { value: "Is this the one?" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(sent).toHaveBeenCalledWith("Picture queued: the daemon sends it."));
    expect(requests[0]).toMatchObject({ route: "POST /media?filename=lamp.png", contentType: "image/png", body: file });
    expect(requests[1]).toMatchObject({
      route: "POST /conversations/c1/messages",
      body: { content: { kind: "image", storage_key: "uploads/u1", mime_type: "image/png", filename: "lamp.png", caption: "Is this the one?" } },
    });
  });

  it("shows an upload refusal next to the file input", async () => {
    const { api, requests } = fakeAdminApi({
      "POST /media": { status: 413, body: { error: { code: "payload_too_large", message: "the file is 6 MB; a picture may be at most 5 MB", details: { field: "file" } } } },
    });
    render(<Composer api={api} conversation={conversation()} replyTo={null} onClearReply={() => {}} onSent={() => {}} />);
    fireEvent.change(screen.getByLabelText("Attach a picture or a document"), { target: { files: [new File(["x"], "big.png", { type: "image/png" })] } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    const input = screen.getByLabelText("Attach a picture or a document");
    await waitFor(() => expect(input.getAttribute("aria-invalid")).toBe("true"));
    expect(document.getElementById("composer-file-error")?.textContent).toContain("a picture may be at most 5 MB");
    expect(requests.map((request) => request.route)).toEqual(["POST /media?filename=big.png"]);
  });

  it("quotes the message replied to", async () => {
    const { api, requests } = fakeAdminApi({ "POST /conversations/c1/messages": { status: 201, body: { id: "m9" } } });
    const quoted = { id: "m1", type: "text", body: "Where is my order?", content: { kind: "text", text: "Where is my order?" } } as Message;
    const clear = vi.fn();
    render(<Composer api={api} conversation={conversation()} replyTo={quoted} onClearReply={clear} onSent={() => {}} />);
    expect(screen.getByText("Where is my order?")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Reply as an agent"), { target: { value: "On its way" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(clear).toHaveBeenCalled());
    expect(requests[0]!.body).toEqual({ content: { kind: "text", text: "On its way" }, reply_to: "m1" });
  });

  it("offers approved templates when the window is closed, and shows a parameter's error beside it", async () => {
    const { api, requests } = fakeAdminApi({
      "GET /numbers/n1/templates": { status: 200, body: TEMPLATES },
      "POST /conversations/c1/messages": {
        status: 422,
        body: { error: { code: "invalid_request", message: "parameter 2 must not be blank", details: { field: "$.content.components[0].parameters[1].text" } } },
      },
    });
    render(<Composer api={api} conversation={conversation({ window_open: false, window_closes_at: "2026-12-03T10:00:00Z" })} replyTo={null} onClearReply={() => {}} onSent={() => {}} />);
    expect(screen.getByText("The 24-hour window is closed")).toBeTruthy();
    expect(screen.queryByLabelText("Reply as an agent")).toBeNull();
    const select = await screen.findByLabelText("Template");
    expect([...(select as HTMLSelectElement).options].map((option) => option.value)).toEqual(["", "order_update:en_US"]);
    fireEvent.change(select, { target: { value: "order_update:en_US" } });
    fireEvent.change(screen.getByLabelText("Body parameter {{1}}"), { target: { value: "Ann" } });
    expect(screen.getByLabelText("Template preview").textContent).toBe("Hi Ann, order {{2}} shipped.");
    fireEvent.click(screen.getByRole("button", { name: "Send template" }));
    const second = screen.getByLabelText("Body parameter {{2}}");
    await waitFor(() => expect(second.getAttribute("aria-invalid")).toBe("true"));
    expect(document.getElementById("composer-parameter-1-error")?.textContent).toContain("parameter 2 must not be blank");
    expect(requests.at(-1)!.body).toEqual({
      content: {
        kind: "template",
        name: "order_update",
        language: "en_US",
        components: [{ type: "body", parameters: [{ type: "text", text: "Ann" }, { type: "text", text: "" }] }],
      },
    });
  });

  it("switches to templates when the API says the window closed", async () => {
    const { api } = fakeAdminApi({
      "POST /conversations/c1/messages": {
        status: 422,
        body: { error: { code: "window_closed", message: "the 24-hour window closed; send a template ($.content.template)", details: { field: "$.content" } } },
      },
      "GET /numbers/n1/templates": { status: 200, body: { data: TEMPLATES, next_cursor: null } },
    });
    render(<Composer api={api} conversation={conversation()} replyTo={null} onClearReply={() => {}} onSent={() => {}} />);
    fireEvent.change(screen.getByLabelText("Reply as an agent"), { target: { value: "Hello?" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByText("The 24-hour window is closed")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("send a template");
    expect(await screen.findByLabelText("Template")).toBeTruthy();
  });

  it("shares a location, refusing coordinates out of range before sending", async () => {
    const { api, requests } = fakeAdminApi({
      "POST /conversations/c1/messages": (body) =>
        (body as { content: { name?: string } }).content.name === "Nowhere"
          ? { status: 422, body: { error: { code: "invalid_request", message: "content.longitude: must be a number", details: { field: "$.content.longitude" } } } }
          : { status: 201, body: { id: "m9" } },
    });
    const sent = vi.fn();
    render(<Composer api={api} conversation={conversation()} replyTo={null} onClearReply={() => {}} onSent={sent} />);
    fireEvent.change(screen.getByLabelText("Latitude (−90 to 90)"), { target: { value: "95" } });
    fireEvent.change(screen.getByLabelText("Longitude (−180 to 180)"), { target: { value: "4.9" } });
    fireEvent.click(screen.getByRole("button", { name: "Send location" }));
    await waitFor(() => expect(document.getElementById("composer-location-latitude-error")?.textContent).toContain("from -90 to 90"));
    expect(requests).toHaveLength(0);
    fireEvent.change(screen.getByLabelText("Latitude (−90 to 90)"), { target: { value: "52,3676" } });
    fireEvent.change(screen.getByLabelText("Place name (optional)"), { target: { value: "Our shop" } });
    fireEvent.click(screen.getByRole("button", { name: "Send location" }));
    await waitFor(() => expect(sent).toHaveBeenCalledWith("Location queued: the daemon sends it."));
    expect(requests[0]!.body).toEqual({ content: { kind: "location", latitude: 52.3676, longitude: 4.9, name: "Our shop" } });
    // The API's error lands beside the field its path names.
    fireEvent.change(screen.getByLabelText("Latitude (−90 to 90)"), { target: { value: "1" } });
    fireEvent.change(screen.getByLabelText("Longitude (−180 to 180)"), { target: { value: "2" } });
    fireEvent.change(screen.getByLabelText("Place name (optional)"), { target: { value: "Nowhere" } });
    fireEvent.click(screen.getByRole("button", { name: "Send location" }));
    await waitFor(() => expect(document.getElementById("composer-location-longitude-error")?.textContent).toContain("must be a number"));
  });

  it("maps error paths to the composer's controls", () => {
    const at = (field: string) => slotForError(errorFromBody(422, { error: { code: "invalid_request", message: "x", details: { field } } }));
    expect(at("body")).toBe("text");
    expect(at("$.content.caption")).toBe("text");
    expect(at("$.content.storage_key")).toBe("attachment");
    expect(at("$.content.components[0].parameters[3].text")).toEqual({ parameter: 3 });
    expect(at("$.content.name")).toBe("template");
    expect(at("$.reply_to")).toBe("general");
    expect(at("$.content.latitude")).toEqual({ location: "latitude" });
    const named = errorFromBody(422, { error: { code: "invalid_request", message: "x", details: { field: "$.content.name" } } });
    expect(slotForError(named, "location")).toEqual({ location: "name" });
    expect(slotForError(named, "template")).toBe("template");
  });
});
