import { describe, expect, it, vi } from "vitest";
import { AdminApi } from "./admin-api";
import { ApiClient, ApiError, buildUrl, describeError, errorFromBody } from "./api";

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
});
