// A backend that dies after the first byte: the caller gets an error (never a clean short answer),
// the call's log line says `broken` with the bytes sent, and the failure counts against that
// backend's breaker — through the Node host with the official SDK, and through the Functions handler.

import { APIError } from "openai";
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

async function brokenPool(): Promise<{ harness: Harness; calls: CallSummary[] }> {
  const calls: CallSummary[] = [];
  const harness = await startHarness({ regions: [{ priority: 1, streamChunkDelayMs: 5 }, { priority: 2 }], onCall: (s) => calls.push(s) });
  harness.sims[0]?.setFault({ kind: "breakAfter", events: 2 });
  return { harness, calls };
}

describe("a stream that breaks after the first byte, Node host", () => {
  it("reaches the SDK as an error event in the Azure shape, not as a short answer, and is logged as broken", async () => {
    const { harness, calls } = await brokenPool();
    h = harness;
    const stream = await h.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).code).toBe("BackendStreamBroken");
    expect(text).toBe("region-0-1 ");
    await until(() => calls.length > 0, 2_000);
    expect(calls[0]).toMatchObject({ status: 200, outcome: "broken", backend: "region-0", deployment: "gpt-4o" });
    expect(calls[0]?.bytes).toBeGreaterThan(0);
    // The failure counts: the next call goes to the other backend at once.
    const status = await h.status();
    expect(status.backends[0]?.deployments.find((d) => d.name === "gpt-4o")).toMatchObject({ state: "open", reason: "brokenStream" });
    const next = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(next.response.headers.get("x-served-by")).toBe("region-1");
  });

  it("cuts a JSON answer that breaks halfway, so the SDK fails instead of reading half a body", async () => {
    const { harness, calls } = await brokenPool();
    h = harness;
    const error = await h
      .client()
      .chat.completions.create({ model: "gpt-4o", messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    await until(() => calls.length > 0, 2_000);
    expect(calls[0]).toMatchObject({ outcome: "broken", backend: "region-0" });
  });
});

describe("a stream that breaks after the first byte, Functions handler", () => {
  it("ends the body with the error event and an error, and logs the call as broken with its bytes", async () => {
    const { harness } = await brokenPool();
    h = harness;
    const { response, logs } = await callFunction(h.app.router, {
      method: "POST",
      path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ messages, stream: true }),
    });
    expect(response.status).toBe(200);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) seen.push(Buffer.from(chunk).toString());
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(seen.join("")).toMatch(/data: .*region-0-1 .*\n\nevent: error\ndata: \{"error":\{"code":"BackendStreamBroken"/s);
    const line = logs.map((l) => JSON.parse(String(l.args[0]))).find((l) => l.event === "call");
    expect(line).toMatchObject({ event: "call", outcome: "broken", backend: "region-0" });
    expect(line.bytes).toBeGreaterThan(0);
  });
});
