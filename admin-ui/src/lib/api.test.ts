import { describe, expect, it, vi } from "vitest";
import { AdminApi } from "./admin-api";
import { ApiClient, ApiError, buildUrl, describeError, errorField, errorFromBody } from "./api";

describe("errorFromBody", () => {
  it("reads the admin API's error shape", () => {
    const error = errorFromBody(422, {
      error: { code: "invalid_definition", message: "the definition has 1 error(s)", details: { errors: [{ path: "$.nodes" }] } },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([422, "invalid_definition", "the definition has 1 error(s)"]);
    expect(error.details).toEqual({ errors: [{ path: "$.nodes" }] });
  });

  it("reads the router's and the workers' shapes", () => {
    expect(errorFromBody(401, { code: 401, message: "Invalid JWT" }).code).toBe("unauthorized");
    expect(errorFromBody(401, { code: 401, message: "Invalid JWT" }).message).toBe("Invalid JWT");
    expect(errorFromBody(500, { error: "boom" }).message).toBe("boom");
    expect(errorFromBody(502, null).message).toBe("request failed with status 502");
  });

  it("says which role is needed", () => {
    const error = errorFromBody(403, {
      error: { code: "forbidden", message: "this needs the admin role or higher; you are viewer", details: { required_role: "admin" } },
    });
    expect(describeError(error)).toBe("this needs the admin role or higher; you are viewer (needs admin).");
  });
});

describe("buildUrl", () => {
  it("leaves out empty values and joins lists", () => {
    expect(buildUrl("https://x/admin-api", "/alerts", { status: ["open", "acknowledged"], kind: "", q: undefined, limit: 5 }))
      .toBe("https://x/admin-api/alerts?status=open%2Cacknowledged&limit=5");
    expect(buildUrl("https://x", "/me")).toBe("https://x/me");
    expect(buildUrl("https://x", "/a", { mode: [] })).toBe("https://x/a");
  });
});

describe("ApiClient", () => {
  it("sends the bearer token and JSON, and returns the body", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: "b1" }), { status: 201 }));
    const api = new AdminApi(new ApiClient("https://x/functions/v1/admin-api", async () => "token-1", fetchMock));
    await expect(api.createBot({ name: "Support" })).resolves.toEqual({ id: "b1" });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("https://x/functions/v1/admin-api/bots");
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer token-1");
    expect(init.body).toBe('{"name":"Support"}');
  });

  it("throws ApiError for error answers, and when signed out or offline", async () => {
    const failing = new ApiClient("https://x", async () => "t", async () =>
      new Response(JSON.stringify({ error: { code: "conflict", message: "taken", details: null } }), { status: 409 }));
    await expect(failing.get("/bots")).rejects.toMatchObject({ status: 409, code: "conflict", message: "taken" });
    const signedOut = new ApiClient("https://x", async () => null, vi.fn());
    await expect(signedOut.get("/bots")).rejects.toMatchObject({ status: 401 });
    const offline = new ApiClient("https://x", async () => "t", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(offline.get("/bots")).rejects.toMatchObject({ code: "network" });
  });

  it("builds the routes the UI calls", async () => {
    const calls: string[] = [];
    const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      calls.push(`${init?.method} ${String(url).replace("https://x", "")}`);
      return new Response("{}", { status: 200 });
    });
    const api = new AdminApi(new ApiClient("https://x", async () => "t", fetchMock as typeof fetch));
    await api.sessionCommand("n1", "restart");
    await api.acknowledgeAlert("a1");
    await api.takeOver("c1");
    await api.sendAsAgent("c1", "hi");
    await api.setCanary("b1", "v2", 10);
    await api.rollback("b1");
    await api.listConversations({ assigned_to: "me", mode: ["human"] });
    expect(calls).toEqual([
      "POST /numbers/n1/session/restart",
      "POST /alerts/a1/acknowledge",
      "POST /conversations/c1/takeover",
      "POST /conversations/c1/messages",
      "PUT /bots/b1/canary",
      "POST /bots/b1/rollback",
      "GET /conversations?assigned_to=me&mode=human",
    ]);
  });

  it("uploads a file as the raw body with its type and name, and downloads media with the token", async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init: init ?? {} });
      if (String(url).endsWith("/media")) return new Response(new Uint8Array([1, 2, 3]), { status: 200 });
      return new Response(JSON.stringify({ storage_key: "uploads/u1", mime_type: "image/png", size_bytes: 3, sha256: "ab", filename: "a b.png" }), {
        status: 201,
      });
    });
    const api = new AdminApi(new ApiClient("https://x", async () => "token-2", fetchMock as typeof fetch));
    const file = new File([new Uint8Array([1, 2, 3])], "a b.png", { type: "image/png" });
    await expect(api.uploadMedia(file)).resolves.toMatchObject({ storage_key: "uploads/u1" });
    expect(seen[0]!.url).toBe("https://x/media?filename=a+b.png");
    expect((seen[0]!.init.headers as Record<string, string>)["content-type"]).toBe("image/png");
    expect(seen[0]!.init.body).toBe(file);
    const blob = await api.messageMedia("m1");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(seen[1]!.url).toBe("https://x/messages/m1/media");
    expect((seen[1]!.init.headers as Record<string, string>).authorization).toBe("Bearer token-2");
  });

  it("keeps the field an error names, in either error shape", async () => {
    const tooLarge = errorFromBody(413, { error: "the file is over 5 MB, WhatsApp's limit for a picture", details: { field: "file" } });
    expect([tooLarge.code, errorField(tooLarge)]).toEqual(["payload_too_large", "file"]);
    const closed = errorFromBody(422, {
      error: { code: "window_closed", message: "the 24-hour window is closed", details: { field: "$.content" } },
    });
    expect([closed.code, errorField(closed)]).toEqual(["window_closed", "$.content"]);
    const failing = new ApiClient("https://x", async () => "t", async () =>
      new Response(JSON.stringify({ error: { code: "not_found", message: "media not found", details: null } }), { status: 404 }));
    await expect(failing.blob("/messages/m1/media")).rejects.toMatchObject({ status: 404, message: "media not found" });
  });
});
