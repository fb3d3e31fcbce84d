import { describe, expect, it } from "vitest";
import { answer, coreRouter, fakeUpstream, jsonCall, testClientKey } from "../../../test/helpers/coreRouter";
import { parseRouterConfig } from "../config/config";
import type { RouterRequest } from "../request/exchange";
import { judgeAttempt } from "./attemptOutcome";
import type { AuthHeader, BackendCredential } from "./credentials";
import { bodyBytes, UpstreamError } from "./upstream";

const policy = parseRouterConfig({ backends: [{ name: "a", url: "https://a.example" }] }).circuitBreaker;
const now = 1_700_000_000_000;

describe("judgeAttempt", () => {
  it("serves a success and a status outside the failure ranges (the backend's own answer)", () => {
    expect(judgeAttempt({ kind: "response", status: 200, headers: {} }, policy, false, now)).toEqual({ action: "serve" });
    expect(judgeAttempt({ kind: "response", status: 404, headers: {} }, policy, false, now)).toEqual({ action: "serve" });
  });

  it("fails over on a 429 as throttled, with the backend's Retry-After", () => {
    expect(judgeAttempt({ kind: "response", status: 429, headers: { "retry-after": "7" } }, policy, false, now)).toEqual({
      action: "failOver",
      failure: { reason: "throttled", status: 429, retryAfterMs: 7_000, retryAfterPrecise: false },
      detail: undefined,
    });
    // A millisecond header is marked precise: the breaker honours it to the millisecond.
    expect(judgeAttempt({ kind: "response", status: 429, headers: { "retry-after-ms": "35" } }, policy, false, now)).toMatchObject({
      failure: { retryAfterMs: 35, retryAfterPrecise: true },
    });
  });

  it("fails over on a 503 as a server error, not as throttling", () => {
    const decision = judgeAttempt({ kind: "response", status: 503, headers: {} }, policy, false, now);
    expect(decision).toMatchObject({ action: "failOver", failure: { reason: "serverError", status: 503 } });
  });

  it("fails over without a failure when our own credential could not be had", () => {
    expect(judgeAttempt({ kind: "credentialError", message: "no token" }, policy, false, now)).toEqual({
      action: "failOver",
      failure: undefined,
      detail: "no token",
    });
  });

  it("aborts when the caller left, whatever the backend said", () => {
    expect(judgeAttempt({ kind: "response", status: 429, headers: {} }, policy, true, now)).toEqual({ action: "abort" });
    expect(judgeAttempt({ kind: "noResponse", failure: "aborted", message: "gone" }, policy, false, now)).toEqual({ action: "abort" });
  });

  it("fails over on a refused connection and on a timeout, as failures of those kinds", () => {
    expect(judgeAttempt({ kind: "noResponse", failure: "connectionError", message: "ECONNREFUSED" }, policy, false, now)).toMatchObject({
      action: "failOver",
      failure: { reason: "connectionError" },
    });
    expect(judgeAttempt({ kind: "noResponse", failure: "timeout", message: "slow" }, policy, false, now)).toMatchObject({
      action: "failOver",
      failure: { reason: "timeout" },
    });
  });
});

const twoBackends = {
  backends: [
    { name: "a", url: "https://a.example", priority: 1 },
    { name: "b", url: "https://b.example", priority: 2 },
  ],
};
const chat = (deployment = "gpt-4o"): RouterRequest => ({
  method: "POST",
  url: `/openai/deployments/${deployment}/chat/completions`,
  headers: { "api-key": testClientKey },
  body: undefined,
  signal: undefined,
});
const failing: BackendCredential = {
  authHeader: (): Promise<AuthHeader> => Promise.reject(new Error("identity endpoint down")),
};

describe("Forwarder", () => {
  it("fails over past a backend whose credential failed, without tripping it", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router, board, clock, config } = coreRouter(twoBackends, upstream, {
      credentials: [failing, { authHeader: () => ["api-key", "b"] }],
    });
    const { response, summary } = await router.handle(chat());
    expect(response.status).toBe(200);
    expect(summary).toMatchObject({ backend: "b", attempts: 2, outcome: "served" });
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://b.example"]);
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(false);
    expect(config.backends).toHaveLength(2);
  });

  it("answers 429 when every candidate is throttled and 503 when one failed otherwise", async () => {
    const throttled = fakeUpstream(() => answer(429, { "retry-after": "20" }));
    const one = coreRouter(twoBackends, throttled);
    const all429 = await one.router.handle(chat());
    expect(all429.response.status).toBe(429);
    expect(all429.response.headers["retry-after"]).toBe("20");
    expect(all429.summary).toMatchObject({ outcome: "exhausted", attempts: 2 });

    const mixed = fakeUpstream((origin) => (origin === "https://a.example" ? answer(429, { "retry-after": "20" }) : answer(503)));
    const two = coreRouter(twoBackends, mixed);
    const some503 = await two.router.handle(chat());
    expect(some503.response.status).toBe(503);
    expect(JSON.parse(Buffer.from(some503.response.body as Uint8Array).toString()).error.code).toBe("NoBackendAvailable");
  });

  it("stops at once when the caller leaves: outcome aborted, no backend tripped", async () => {
    const upstream = fakeUpstream(() => {
      throw new UpstreamError("aborted", "the caller went away");
    });
    const { router, board, clock } = coreRouter(twoBackends, upstream);
    const { summary } = await router.handle(chat());
    expect(summary).toMatchObject({ outcome: "callerGone", status: 499, attempts: 1 });
    expect(upstream.sent).toHaveLength(1);
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(false);
  });

  it("trips only the call's deployment on a 429: other deployments keep the PTU", async () => {
    const upstream = fakeUpstream((origin, request) =>
      origin === "https://a.example" && request.path.includes("/embeddings/") ? answer(429, { "retry-after": "30" }) : answer(200),
    );
    const { router, board, clock } = coreRouter(twoBackends, upstream);
    const embeddings = await router.handle(chat("embeddings"));
    expect(embeddings.summary).toMatchObject({ backend: "b", attempts: 2 });
    expect(board.isOpen(0, "embeddings", clock.now())).toBe(true);
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(false);
    const gpt = await router.handle(chat("gpt-4o"));
    expect(gpt.summary).toMatchObject({ backend: "a", attempts: 1 });
  });

  it("trips the whole backend on a refused connection: every deployment moves", async () => {
    const upstream = fakeUpstream((origin) => {
      if (origin === "https://a.example") throw new UpstreamError("connectionError", "ECONNREFUSED");
      return answer(200);
    });
    const { router, board, clock } = coreRouter(twoBackends, upstream);
    await router.handle(chat("embeddings"));
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(true);
    expect(board.isOpen(0, undefined, clock.now())).toBe(true);
    upstream.sent.length = 0;
    const gpt = await router.handle(chat("gpt-4o"));
    expect(gpt.summary).toMatchObject({ backend: "b", attempts: 1 });
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://b.example"]);
  });

  it("rewrites the path segment for each backend's name and says which deployment served", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://a.example" ? answer(500) : answer(200)));
    const { router } = coreRouter(
      {
        backends: [
          { name: "a", url: "https://a.example", priority: 1, deployments: { "gpt-4o": "gpt-4o-ptu" } },
          { name: "b", url: "https://b.example/aoai", priority: 2, deployments: { "gpt-4o": { name: "gpt4o-paygo" } } },
        ],
      },
      upstream,
    );
    const { response, summary } = await router.handle({
      ...chat("gpt-4o"),
      url: "/openai/deployments/gpt-4o/chat/completions?api-version=1",
    });
    expect(upstream.sent.map((s) => s.request.path)).toEqual([
      "/openai/deployments/gpt-4o-ptu/chat/completions?api-version=1",
      "/aoai/openai/deployments/gpt4o-paygo/chat/completions?api-version=1",
    ]);
    expect(response.headers["x-served-deployment"]).toBe("gpt4o-paygo");
    expect(summary).toMatchObject({ deployment: "gpt-4o", backend: "b", servedDeployment: "gpt4o-paygo" });
  });

  it("on a deployment path rewrites the path only: the body goes untouched, even when it has a model", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router } = coreRouter(
      { backends: [{ name: "a", url: "https://a.example", deployments: { "gpt-4o": "gpt-4o-ptu" } }] },
      upstream,
    );
    const sent = '{"model":"gpt-4o","messages":[]}';
    await router.handle(jsonCall("/openai/deployments/gpt-4o/chat/completions", sent));
    const request = upstream.sent[0]?.request;
    expect(request?.path).toBe("/openai/deployments/gpt-4o-ptu/chat/completions");
    expect(bodyBytes(request?.body ?? new Uint8Array()).toString()).toBe(sent);
  });

  it("sends a large rewritten body in pieces with its length declared, byte for byte", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router } = coreRouter(
      { backends: [{ name: "a", url: "https://a.example", deployments: { "gpt-4o": "gpt-4o-ptu" } }] },
      upstream,
    );
    const sent = JSON.stringify({ input: "é".repeat(50_000), model: "gpt-4o" });
    await router.handle(jsonCall("/openai/v1/embeddings", sent));
    const request = upstream.sent[0]?.request;
    expect(request?.body instanceof Uint8Array).toBe(false);
    const bytes = bodyBytes(request?.body ?? new Uint8Array());
    expect(bytes.toString()).toBe(sent.replace('"model":"gpt-4o"', '"model":"gpt-4o-ptu"'));
    expect(request?.headers["content-length"]).toBe(String(bytes.length));
  });

  it("rewrites only the body's model on a v1 call, every other byte as sent", async () => {
    const upstream = fakeUpstream(() => answer(500));
    const { router } = coreRouter(
      {
        backends: [
          { name: "a", url: "https://a.example", priority: 1, deployments: { "gpt-4o": "gpt-4o-ptu" } },
          { name: "b", url: "https://b.example", priority: 2 },
        ],
      },
      upstream,
    );
    const sent = '{ "messages" : [{"role":"user","content":"say \\"model\\": x"}],\n  "model":"gpt-4o" , "metadata":{"model":"keep"}}';
    await router.handle(jsonCall("/openai/v1/chat/completions", sent));
    const bodies = upstream.sent.map((s) => bodyBytes(s.request.body ?? new Uint8Array()).toString());
    expect(bodies).toEqual([sent.replace('"model":"gpt-4o"', '"model":"gpt-4o-ptu"'), sent]);
  });
});
