import { describe, expect, it } from "vitest";
import { fakeClock } from "../../test/helpers/random";
import { BreakerBoard } from "./breakerBoard";
import { createClientAuthenticator } from "./clientAuth";
import { parseRouterConfig } from "./config";
import { apiKeyCredential } from "./credentials";
import { Forwarder } from "./forwarder";
import type { RouterRequest } from "./http";
import { misconfiguredHandler, Router } from "./router";
import { groupByPriority } from "./selection";
import { type Upstream, UpstreamError } from "./upstream";

const config = parseRouterConfig({ backends: [{ name: "a", url: "https://a.example" }] });

function router(upstream: Upstream, events = {}) {
  const clock = fakeClock();
  const board = new BreakerBoard(["a"], config.circuitBreaker, "test", events);
  const forwarder = new Forwarder({
    config,
    board,
    groups: groupByPriority(config.backends),
    upstream,
    credentials: [apiKeyCredential("k")],
    clock,
    random: () => 0,
    events,
  });
  return new Router({
    forwarder,
    board,
    authenticate: createClientAuthenticator(["client"], false),
    clock,
    events,
    maxRequestBytes: 100,
    frontDoorId: undefined,
    instance: "test",
    sharedState: () => ({ store: "memory", connected: true, lastRefreshAt: null, reads: 0, writes: 0 }),
  });
}

const call: RouterRequest = { method: "POST", url: "/openai/v1/x", headers: { "api-key": "client" }, body: undefined, signal: undefined };

async function bodyOf(response: { body: unknown }): Promise<string> {
  return Buffer.from(response.body as Uint8Array).toString();
}

describe("Router", () => {
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
    const r = router(buggy);
    const failed = await r.handle(call);
    expect(failed.status).toBe(500);
    const text = await bodyOf(failed);
    expect(JSON.parse(text)).toEqual({ error: { code: "InternalError", message: "The router failed to handle the request." } });
    expect(text).not.toContain("secret");
    expect((await r.handle(call)).status).toBe(200);
  });

  it("reports the caller going away instead of tripping the backend", async () => {
    const aborted: Upstream = {
      send: async () => {
        throw new UpstreamError("aborted", "gone");
      },
    };
    const r = router(aborted);
    expect((await r.handle(call)).summary?.outcome).toBe("aborted");
    expect((await r.handle({ ...call, url: "/health", method: "GET" })).status).toBe(200);
  });

  it("stands in with 500 RouterMisconfigured and /health 503 when settings are wrong", async () => {
    const handler = misconfiguredHandler();
    const response = await handler.handle(call);
    expect(response.status).toBe(500);
    expect(JSON.parse(await bodyOf(response)).error.code).toBe("RouterMisconfigured");
    expect((await handler.handle({ ...call, url: "/health", method: "GET" })).status).toBe(503);
  });
});
