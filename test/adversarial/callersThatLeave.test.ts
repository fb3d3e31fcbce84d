// A caller that hangs up is not a backend failure: three callers stop their streams after the first
// chunk (a chat stream and a resumed Responses stream), and the next call is served by the same
// backend, with no trip on the board and none shared — through the Node host over real sockets and
// through the Functions handler. A stream the backend ends without its terminal event is broken; an
// SSE error event inside a 200 is `streamError`, logged, and no breaker failure.

import { afterEach, describe, expect, it } from "vitest";
import type { CallSummary } from "../../src/core/events";
import { callFunction } from "../helpers/functionsHost";
import { clientKey, type Harness, startHarness, until } from "../helpers/harness";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const messages = [{ role: "user" as const, content: "Hello" }];
const chatStreamPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

async function pool(calls: CallSummary[]): Promise<Harness> {
  return startHarness({
    regions: [
      { priority: 1, streamChunks: 20, streamChunkDelayMs: 20 },
      { priority: 2, streamChunks: 20, streamChunkDelayMs: 20 },
    ],
    onCall: (s) => calls.push(s),
  });
}

async function sharedTrips(harness: Harness): Promise<number> {
  return (await harness.app.store.readTrips(AbortSignal.timeout(1000))).length;
}

/** Reads a streamed answer until its first data chunk arrives, then hangs up (a raw fetch, as a chat UI's "stop"). */
async function hangUpAfterFirstChunk(url: string, init: RequestInit): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  controller.abort();
  await reader.read().catch(() => undefined);
}

describe("callers that leave, Node host", () => {
  it("three chat callers hanging up trip nothing: the next call is served by the same backend, nothing shared", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    for (let i = 0; i < 3; i++) {
      // The SDK's own way out of a stream: break the loop after the first chunk.
      const stream = await h.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
      for await (const _chunk of stream) break;
    }
    await until(() => calls.length >= 3, 3_000, "three call lines");
    expect(calls.map((c) => c.outcome)).toEqual(["callerGone", "callerGone", "callerGone"]);
    const next = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(next.response.headers.get("x-served-by")).toBe("region-0");
    const status = await h.status();
    expect(status.backends[0]?.deployments.every((d) => d.state === "closed")).toBe(true);
    expect(await sharedTrips(h)).toBe(0);
  });

  it("a raw socket hang-up mid-stream is callerGone too, and the upstream call is cancelled", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    for (let i = 0; i < 3; i++) {
      await hangUpAfterFirstChunk(`${h.url}${chatStreamPath}`, {
        method: "POST",
        headers: { "api-key": clientKey, "content-type": "application/json" },
        body: JSON.stringify({ messages, stream: true }),
      });
    }
    await until(() => calls.length >= 3, 3_000, "three call lines");
    expect(calls.every((c) => c.outcome === "callerGone" && c.backend === "region-0")).toBe(true);
    // Each hang-up cancelled its upstream call: the backend saw the connection close mid-answer.
    await until(() => (h?.sims[0]?.abandonedCount ?? 0) >= 3, 2_000, "three upstream calls cancelled");
    expect(await sharedTrips(h)).toBe(0);
    const next = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(next.response.headers.get("x-served-by")).toBe("region-0");
  });

  it("hanging up a resumed Responses stream trips nothing at the owner", async () => {
    const calls: CallSummary[] = [];
    h = await startHarness({ regions: [{ priority: 1, streamChunkDelayMs: 30 }, { priority: 2 }], onCall: (s) => calls.push(s) });
    const made = await h.v1().responses.create({ model: "gpt-4o", input: "a long answer" });
    const path = `/openai/v1/responses/${made.id}?stream=true&starting_after=0`;
    for (let i = 0; i < 3; i++) await hangUpAfterFirstChunk(`${h.url}${path}`, { headers: { "api-key": clientKey } });
    await until(() => calls.filter((c) => c.method === "GET").length >= 3, 3_000, "three resumed calls logged");
    expect(calls.filter((c) => c.method === "GET").map((c) => c.outcome)).toEqual(["callerGone", "callerGone", "callerGone"]);
    expect(await sharedTrips(h)).toBe(0);
    const again = await h.v1().responses.retrieve(made.id);
    expect(again.id).toBe(made.id);
  });
});

describe("callers that leave, Functions handler", () => {
  it("a host that stops reading a stream logs callerGone and trips nothing", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    for (let i = 0; i < 3; i++) {
      const { response, logs } = await callFunction(h.app.router, {
        method: "POST",
        path: chatStreamPath,
        headers: { "api-key": clientKey, "content-type": "application/json" },
        body: JSON.stringify({ messages, stream: true }),
      });
      const body = response.body as AsyncIterable<Uint8Array>;
      for await (const _chunk of body) break; // the host stops reading: the caller left
      await until(() => logs.some((l) => String(l.args[0]).includes('"event":"call"')), 2_000, "call line");
      const line = JSON.parse(String(logs.find((l) => String(l.args[0]).includes('"event":"call"'))?.args[0]));
      expect(line).toMatchObject({ outcome: "callerGone", backend: "region-0" });
    }
    expect(await sharedTrips(h)).toBe(0);
    const status = await h.status();
    expect(status.backends[0]?.deployments.every((d) => d.state === "closed")).toBe(true);
  });
});

describe("callers that leave a resumed Responses stream, Functions handler", () => {
  it("a host that stops reading three resumed streams logs callerGone each time and trips nothing at the owner", async () => {
    const calls: CallSummary[] = [];
    h = await startHarness({ regions: [{ priority: 1, streamChunkDelayMs: 30 }, { priority: 2 }], onCall: (s) => calls.push(s) });
    const made = await h.v1().responses.create({ model: "gpt-4o", input: "a long answer" });
    for (let i = 0; i < 3; i++) {
      const { response, logs } = await callFunction(h.app.router, {
        method: "GET",
        path: `/openai/v1/responses/${made.id}?stream=true&starting_after=0`,
        headers: { "api-key": clientKey },
      });
      for await (const _chunk of response.body as AsyncIterable<Uint8Array>) break;
      await until(() => logs.some((l) => String(l.args[0]).includes('"event":"call"')), 2_000, "call line");
      const line = JSON.parse(String(logs.find((l) => String(l.args[0]).includes('"event":"call"'))?.args[0]));
      expect(line).toMatchObject({ outcome: "callerGone", method: "GET" });
    }
    expect(await sharedTrips(h)).toBe(0);
    expect((await h.v1().responses.retrieve(made.id)).id).toBe(made.id);
  });
});

describe("how a backend's stream ends", () => {
  it("a stream that ends cleanly before data: [DONE] is broken: the SDK sees an error, the backend trips", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    h.sims[0]?.setFault({ kind: "endEarly", events: 2 });
    const stream = await h.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
    const error = await (async () => {
      for await (const _chunk of stream) {
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    await until(() => calls.length > 0, 2_000);
    expect(calls[0]).toMatchObject({ outcome: "broken", backend: "region-0" });
    const status = await h.status();
    expect(status.backends[0]?.deployments.find((d) => d.name === "gpt-4o")).toMatchObject({ state: "open", reason: "brokenStream" });
  });

  it("the Functions handler cuts a stream that ends before [DONE] the same way", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    h.sims[0]?.setFault({ kind: "endEarly", events: 2 });
    const { response, logs } = await callFunction(h.app.router, {
      method: "POST",
      path: chatStreamPath,
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ messages, stream: true }),
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) seen.push(Buffer.from(chunk).toString());
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(seen.join("")).toContain('"code":"BackendStreamBroken"');
    const line = logs.map((l) => JSON.parse(String(l.args[0]))).find((l) => l.event === "call");
    expect(line).toMatchObject({ outcome: "broken" });
  });

  it("an SSE error event inside a 200 is streamError, logged as a warning, and trips nothing", async () => {
    const calls: CallSummary[] = [];
    h = await pool(calls);
    h.sims[0]?.setFault({ kind: "errorEvent", events: 2 });
    const stream = await h.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
    await (async () => {
      for await (const _chunk of stream) {
      }
    })().catch(() => undefined);
    await until(() => calls.length > 0, 2_000);
    expect(calls[0]).toMatchObject({ outcome: "streamError", status: 200, backend: "region-0" });
    const status = await h.status();
    expect(status.backends[0]?.deployments.every((d) => d.state === "closed")).toBe(true);
    expect(await sharedTrips(h)).toBe(0);
  });
});
