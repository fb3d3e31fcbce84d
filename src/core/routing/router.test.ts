import { describe, expect, it } from "vitest";
import { answer, coreRouter, fakeUpstream, jsonCall, testClientKey } from "../../../test/helpers/coreRouter";
import { BodyBudget } from "../request/bodyBudget";
import type { RouterRequest } from "../request/exchange";
import { misconfiguredHandler } from "./misconfigured";
import { type Upstream, UpstreamError } from "./upstream";

const oneBackend = { backends: [{ name: "a", url: "https://a.example" }] };

const call: RouterRequest = {
  method: "POST",
  url: "/openai/v1/x",
  headers: { "api-key": testClientKey },
  body: undefined,
  signal: undefined,
};

function bodyOf(response: { body: unknown }): string {
  return Buffer.from(response.body as Uint8Array).toString();
}

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

describe("Router", () => {
  it("asks for an answer's usage only when a client's charge or a deployment's capacity gate needs it", async () => {
    const chat = (key: string) =>
      jsonCall("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", '{"messages":[{"role":"user","content":"hi"}]}', key);
    const served = () => fakeUpstream(() => answer(200, { "content-type": "application/json" }, '{"usage":{"total_tokens":3}}'));
    const limited = {
      name: "app",
      deployments: undefined,
      limits: { tokensPerMinute: 1_000, requestsPerMinute: undefined },
      seesAllClients: false,
    };
    const plain = coreRouter(oneBackend, served(), { clients: [{ client: limited, keys: ["app-key"] }] });
    expect((await plain.router.handle(chat(testClientKey))).needsUsage).toBe(false);
    expect((await plain.router.handle(chat("app-key"))).needsUsage).toBe(true);
    const gated = coreRouter({ backends: [{ name: "a", url: "https://a.example", capacity: { tokensPerMinute: 60_000 } }] }, served());
    expect((await gated.router.handle(chat(testClientKey))).needsUsage).toBe(true);
  });

  it("turns an unexpected error into an opaque 500 and keeps serving", async () => {
    let calls = 0;
    // A response whose status getter throws: a bug outside every try/catch of the forwarding loop.
    const buggy: Upstream = {
      send: async () => {
        calls++;
        const broken = calls === 1;
        return {
          get status(): number {
            if (broken) throw new TypeError("bug at /secret/path");
            return 200;
          },
          headers: {},
          body: (async function* () {})(),
          discard: () => {},
        };
      },
    };
    const { router } = coreRouter(oneBackend, buggy);
    const failed = await router.handle(call);
    expect(failed.response.status).toBe(500);
    const text = bodyOf(failed.response);
    expect(JSON.parse(text)).toEqual({ error: { code: "InternalError", message: "The router failed to handle the request." } });
    expect(text).not.toContain("secret");
    expect((await router.handle(call)).response.status).toBe(200);
  });

  it("reports the caller going away instead of tripping the backend", async () => {
    const aborted: Upstream = {
      send: async () => {
        throw new UpstreamError("aborted", "gone");
      },
    };
    const { router } = coreRouter(oneBackend, aborted);
    expect((await router.handle(call)).summary?.outcome).toBe("callerGone");
    expect((await router.handle({ ...call, url: "/health", method: "GET" })).response.status).toBe(200);
  });

  it("stands in with 500 RouterMisconfigured and /health 503 when settings are wrong", async () => {
    const handler = misconfiguredHandler();
    const { response } = await handler.handle(call);
    expect(response.status).toBe(500);
    expect(JSON.parse(bodyOf(response)).error.code).toBe("RouterMisconfigured");
    expect((await handler.handle({ ...call, url: "/health", method: "GET" })).response.status).toBe(503);
  });

  it("answers 404 DeploymentNotFound, calling no backend, when no backend serves the deployment", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router } = coreRouter(
      { backends: [{ name: "a", url: "https://a.example", deployments: { "gpt-4o": "gpt-4o-ptu" } }] },
      upstream,
    );
    const viaPath = await router.handle({ ...call, url: "/openai/deployments/gpt-4o-ptu/chat/completions" });
    expect(viaPath.response.status).toBe(404);
    expect(JSON.parse(bodyOf(viaPath.response)).error.code).toBe("DeploymentNotFound");
    expect(viaPath.summary).toMatchObject({ outcome: "rejected", deployment: "gpt-4o-ptu", attempts: 0 });
    const viaBody = await router.handle({
      ...call,
      headers: { ...call.headers, "content-type": "application/json" },
      body: bytes('{"model":"o3"}'),
    });
    expect(viaBody.response.status).toBe(404);
    expect(upstream.sent).toHaveLength(0);
  });

  it("refuses dot segments and encoded slashes with 400 before any backend call", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router } = coreRouter(oneBackend, upstream);
    const tricks = [
      "/openai/../status",
      "/openai/./deployments/x/chat/completions",
      "/openai/%2e%2e/admin",
      "/openai/%2E%2e/admin",
      "/openai/.%2e/admin",
      "/openai/..%2f..%2fadmin",
      "/openai/deployments%2Fx/chat",
      "/openai/deployments/x%5c..%5cadmin",
      "/openai/deployments/x\\..\\admin",
      "/openai/deployments/%E0%A4%A/chat",
    ];
    for (const url of tricks) {
      const { response, summary } = await router.handle({ ...call, url });
      expect(response.status, url).toBe(400);
      expect(JSON.parse(bodyOf(response)).error.code, url).toBe("BadRequest");
      expect(summary?.outcome).toBe("rejected");
    }
    expect(upstream.sent).toHaveLength(0);
    // Dots inside a segment are fine: deployment names and file names have them.
    expect((await router.handle({ ...call, url: "/openai/deployments/gpt-4.1/chat/completions?x=../y" })).response.status).toBe(200);
  });

  it("answers 408 to a body that stalls and logs a caller leaving mid-upload as aborted, not as an error", async () => {
    const errors: unknown[] = [];
    const { router, clock } = coreRouter(
      oneBackend,
      fakeUpstream(() => answer(200)),
      { events: { unexpectedError: (e) => errors.push(e) } },
    );
    const stalling = router.handle({
      ...call,
      body: (async function* () {
        yield Buffer.from("{");
        await new Promise(() => {});
      })(),
    });
    // The watch runs on the router's clock: once the first chunk is in, past the body timeout (1 s here), the body has stalled.
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.advance(1_001);
    const stalled = await stalling;
    expect(stalled.response.status).toBe(408);
    const cut = await router.handle({
      ...call,
      body: (async function* () {
        yield Buffer.from("{");
        throw Object.assign(new Error("aborted"), { code: "ECONNRESET" });
      })(),
    });
    expect(cut.summary?.outcome).toBe("callerGone");
    expect(errors).toEqual([]);
  });

  it("builds each answer of its own per call: headers written to one (a client's budget) never reach another", async () => {
    const { router } = coreRouter(
      oneBackend,
      fakeUpstream(() => answer(200)),
    );
    const twice = () => router.handle({ ...call, body: bytes('{"model":"a","model":"b"}') });
    const first = await twice();
    first.response.headers["x-ratelimit-remaining-requests"] = "7";
    const second = await twice();
    expect(second.response.status).toBe(400);
    expect(second.response.headers["x-ratelimit-remaining-requests"]).toBeUndefined();
  });

  it("refuses a JSON body that names the model twice, as the router and a backend could read different ones", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router } = coreRouter(oneBackend, upstream);
    const { response } = await router.handle({
      ...call,
      headers: { ...call.headers, "content-type": "application/json" },
      body: bytes('{"model":"a","input":"x","model":"b"}'),
    });
    expect(response.status).toBe(400);
    expect(upstream.sent).toHaveLength(0);
  });

  it("holds request bodies under the instance's budget: past it 503 with Retry-After, and bytes come back after the call", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const budget = new BodyBudget(100);
    const { router } = coreRouter(oneBackend, upstream, { bodyBudget: budget });
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const slow = router.handle({
      ...call,
      headers: { ...call.headers, "content-length": "80" },
      body: (async function* () {
        yield Buffer.alloc(40, 0x20);
        await gate;
        yield Buffer.alloc(40, 0x20);
      })(),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.inUse).toBe(80);
    const refused = await router.handle({ ...call, headers: { ...call.headers, "content-length": "50" }, body: bytes("x".repeat(50)) });
    expect(refused.response.status).toBe(503);
    expect(refused.response.headers["retry-after"]).toBe("1");
    expect(JSON.parse(bodyOf(refused.response)).error.code).toBe("ServerBusy");
    // A body without a declared length is counted as it arrives.
    const chunked = await router.handle({ ...call, body: bytes("y".repeat(30)) });
    expect(chunked.response.status).toBe(503);
    expect(upstream.sent).toHaveLength(0);
    finish();
    expect((await slow).response.status).toBe(200);
    expect(budget.inUse).toBe(0);
    expect((await router.handle({ ...call, body: bytes("y".repeat(30)) })).response.status).toBe(200);
  });
});
