// The contract's edges, end to end over real HTTP on loopback (the official SDK -> router (Node
// host) -> simulated regions): a caller who goes away, no backend able to take the call, the
// router's own answers, and a burst of load on an overflowing PTU.

import { describe, expect, it } from "vitest";
import { chatPath, clientKey, type Harness, helloMessages, simulatorOf, sleep, startHarness } from "./helpers/harness";
import { closeAfterEach } from "./helpers/perTest";

let h: Harness;
closeAfterEach(() => h);

const messages = helloMessages;

const sim = (i: number) => simulatorOf(h, i);

describe("a caller who goes away", () => {
  it("cancels the upstream call while waiting for the backend", async () => {
    h = await startHarness({ regions: [{}], config: { attemptTimeout: "PT30S" } });
    sim(0).setFault({ kind: "hang" });
    const controller = new AbortController();
    const call = h.post(chatPath, { messages }, {}).catch(() => "aborted");
    const aborted = fetch(`${h.url}${chatPath}`, {
      method: "POST",
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ messages }),
      signal: controller.signal,
    }).catch(() => "aborted");
    await sleep(300);
    controller.abort();
    expect(await aborted).toBe("aborted");
    for (let i = 0; i < 40 && sim(0).abandonedCount < 1; i++) await sleep(50);
    expect(sim(0).abandonedCount).toBe(1);
    // The call that stayed is still waiting: only the departed caller's attempt was cancelled.
    expect(sim(0).requestCount).toBe(2);
    sim(0).setFault(undefined);
    void call;
  });

  it("stops the backend's stream when the caller leaves mid-stream", async () => {
    h = await startHarness({ regions: [{ streamChunks: 50, streamChunkDelayMs: 50 }] });
    const controller = new AbortController();
    const response = await fetch(`${h.url}${chatPath}`, {
      method: "POST",
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ messages, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    for (let i = 0; i < 40 && sim(0).abandonedCount < 1; i++) await sleep(50);
    expect(sim(0).abandonedCount).toBe(1);
  });
});

describe("when no backend can take the call", () => {
  it("answers 429 with Retry-After until the soonest backend returns, hitting each backend once, naming none", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }, { priority: 2 }] });
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 20 });
    sim(1).setFault({ kind: "throttle", retryAfterMs: 7_500 });
    sim(2).setFault({ kind: "throttle", retryAfterDate: new Date(Date.now() + 40_000) });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(7);
    expect(retryAfter).toBeLessThanOrEqual(8);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "TooManyRequests", message: expect.any(String) } });
    for (const name of ["region-0", "region-1", "region-2", "127.0.0.1"]) expect(text).not.toContain(name);
    expect([0, 1, 2].map((i) => sim(i).requestCount)).toEqual([1, 1, 1]);
    expect(response.headers.get("x-router-attempts")).toBe("3");

    // Every breaker is open now: the next call reaches no backend at all.
    const again = await h.post(chatPath, { messages });
    expect(again.status).toBe(429);
    expect(again.headers.get("x-router-attempts")).toBe("0");
    expect([0, 1, 2].map((i) => sim(i).requestCount)).toEqual([1, 1, 1]);
  });

  it("answers 503 when not every backend is throttled", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 20 });
    sim(1).setFault({ kind: "error", status: 500 });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBe(20);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NoBackendAvailable");
  });

  it("caps a daily-quota Retry-After at maxTripDuration", async () => {
    h = await startHarness({ regions: [{}], config: { circuitBreaker: { maxTripDuration: "PT2M" } } });
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 86_400 });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBe(120);
  });
});

describe("the router's own answers", () => {
  it("answers 413 for a body over maxRequestBytes and sends nothing to a backend", async () => {
    h = await startHarness({ regions: [{}], config: { maxRequestBytes: 1024 } });
    const response = await h.post(chatPath, "x".repeat(2048));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("RequestTooLarge");
    const chunked = await fetch(`${h.url}${chatPath}`, {
      method: "POST",
      headers: { "api-key": clientKey },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(800));
          controller.enqueue(new Uint8Array(800));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(sim(0).requestCount).toBe(0);
  });

  it("answers 404 with an error JSON for unknown routes", async () => {
    h = await startHarness({ regions: [{}] });
    for (const path of ["/", "/v1/chat/completions", "/openaix/y", "/healthz"]) {
      const response = await fetch(`${h.url}${path}`, { headers: { "api-key": clientKey } });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NotFound");
    }
    expect(sim(0).requestCount).toBe(0);
  });

  it("answers /health 200 while a backend can take traffic and 503 when none can, without a key or a backend call", async () => {
    h = await startHarness({ regions: [{}, {}] });
    const healthy = await fetch(`${h.url}/health`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({ status: "healthy", backends: { available: 2, total: 2 } });
    const head = await fetch(`${h.url}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 30 });
    sim(1).setFault({ kind: "throttle", retryAfterSeconds: 30 });
    await h.post(chatPath, { messages });
    const before = sim(0).requestCount + sim(1).requestCount;
    const down = await fetch(`${h.url}/health`);
    expect(down.status).toBe(503);
    expect(Number(down.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    expect(Number(down.headers.get("retry-after"))).toBeLessThanOrEqual(30);
    const text = await down.text();
    expect(JSON.parse(text)).toMatchObject({ status: "unavailable", backends: { available: 0, total: 2 } });
    expect(text).not.toContain("127.0.0.1");
    expect((await fetch(`${h.url}/health`, { method: "HEAD" })).status).toBe(503);
    expect(sim(0).requestCount + sim(1).requestCount).toBe(before);
  });
});

describe("under load", () => {
  it("serves 200 concurrent calls against an overflowing PTU with zero client-visible errors", async () => {
    h = await startHarness({
      regions: [
        { priority: 1, capacityPerSecond: 20, latencyMs: 20 },
        { priority: 2, latencyMs: 20 },
        { priority: 2, latencyMs: 20 },
      ],
      config: { circuitBreaker: { tripDuration: "PT1S" } },
    });
    const client = h.client();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        i % 4 === 0
          ? (async () => {
              const stream = await client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
              for await (const _ of stream) {
              }
            })()
          : client.chat.completions.create({ model: "gpt-4o", messages }),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(sim(0).servedCount).toBeGreaterThanOrEqual(1);
    expect(sim(0).servedCount).toBeLessThanOrEqual(40);
    expect(sim(1).servedCount + sim(2).servedCount).toBeGreaterThanOrEqual(160);
  });
});
