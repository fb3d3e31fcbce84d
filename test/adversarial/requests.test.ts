// Hostile requests over raw sockets (no client-side URL normalisation): path tricks that would
// reach outside /openai/ of a backend with the router's credential, header bytes, a lying
// Content-Length, a caller that leaves mid-upload. Nothing may reach a backend it should not.

import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CallSummary } from "../../src/core/events";
import { clientKey, type Harness, type Regions, startHarness, startRegions, until } from "../helpers/harness";

let h: Harness | undefined;
let regions: Regions | undefined;
afterEach(async () => {
  await h?.close();
  await regions?.close();
  h = undefined;
  regions = undefined;
});

/** Sends raw bytes to the router and returns what it answered (status line and body). */
function raw(url: string, request: string, keepOpenMs = 0): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(request);
      if (keepOpenMs > 0) setTimeout(() => socket.end(), keepOpenMs);
    });
    let text = "";
    socket.on("data", (d) => {
      text += d.toString("latin1");
    });
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${clientKey}\r\nConnection: close\r\n\r\n`;

describe("path tricks", () => {
  it("refuses raw and encoded dot segments and encoded slashes with 400, reaching no backend, whatever its base path", async () => {
    regions = await startRegions([{}]);
    const pool = regions;
    h = await startHarness({
      pool,
      config: { backends: [{ name: "aoai", url: `${pool.urls[0]}/aoai/`, auth: { type: "apiKey", keySetting: "BACKEND_KEY_0" } }] },
    });
    const tricks = [
      "/openai/../status",
      "/openai/../../admin/keys",
      "/openai/%2e%2e/admin",
      "/openai/.%2E/admin",
      "/openai/..%2f..%2fadmin",
      "/openai/deployments/x/..%5C..%5Cadmin",
      "/openai/deployments/%2e/chat/completions",
      "/openai/./models",
    ];
    for (const path of tricks) {
      const answer = await raw(h.url, get(path));
      expect(answer.status, path).toBe(400);
      expect(answer.text).toContain('"code":"BadRequest"');
    }
    expect(pool.sims[0]?.requestCount).toBe(0);
    // The same backend, a normal path, reaches it under its base path (dots in the query are data).
    await raw(h.url, get("/openai/models?x=../y"));
    expect(pool.sims[0]?.requestCount).toBe(1);
    expect(pool.sims[0]?.received.at(-1)?.url).toBe("/aoai/openai/models?x=../y");
  });
});

describe("header bytes and body lengths", () => {
  it("answers 408 to a body that never arrives (Content-Length larger than what is sent), calling no backend", async () => {
    const calls: CallSummary[] = [];
    h = await startHarness({ regions: [{}], config: { attemptTimeout: "PT1S" }, onCall: (s) => calls.push(s) });
    const answer = await raw(
      h.url,
      `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\napi-key: ${clientKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"model":`,
      3_000,
    );
    expect(answer.status).toBe(408);
    expect(h.sims[0]?.requestCount).toBe(0);
    expect(calls[0]).toMatchObject({ status: 408, outcome: "rejected" });
  });

  it("logs a caller who leaves mid-upload as callerGone, never as an unexpected error", async () => {
    const calls: CallSummary[] = [];
    const errors: unknown[] = [];
    h = await startHarness({ regions: [{}], onCall: (s) => calls.push(s), events: { unexpectedError: (e) => errors.push(e) } });
    const { hostname, port } = new URL(h.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\napi-key: ${clientKey}\r\nContent-Length: 1000\r\n\r\n{"model":"gpt-4o"`,
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on("close", () => resolve());
    });
    await until(() => calls.length > 0, 1_000);
    expect(calls[0]?.outcome).toBe("callerGone");
    expect(errors).toEqual([]);
    expect(h.sims[0]?.requestCount).toBe(0);
  });

  it("never lets header bytes through that Node refuses, and never forwards the caller's key in any spelling", async () => {
    h = await startHarness({ regions: [{}] });
    const injected = await raw(
      h.url,
      `GET /openai/models?api-version=2024-10-21 HTTP/1.1\r\nHost: x\r\napi-key: ${clientKey}\r\nX-Evil: a\rb\r\nConnection: close\r\n\r\n`,
    );
    expect(injected.status).toBe(400);
    const spelled = await raw(
      h.url,
      `GET /openai/models?api-version=2024-10-21 HTTP/1.1\r\nHost: x\r\nAPI-KEY: ${clientKey}\r\nAuthorization: Bearer ${clientKey}\r\nConnection: close\r\n\r\n`,
    );
    expect(spelled.status).toBe(200);
    expect(JSON.stringify(h.sims[0]?.received.at(-1)?.headers)).not.toContain(clientKey);
  });

  it("ends seven trickling uploads below the slowest rate, so they cannot hold the body budget against other callers", async () => {
    const calls: CallSummary[] = [];
    h = await startHarness({
      regions: [{}],
      // A budget of seven 10 KB bodies (the largest allowed), and a 1 s grace so the test is quick (the default is 10 s).
      config: { maxRequestBytes: 10_000 },
      env: { ROUTER_BODY_MEMORY: String(7 * 10_000) },
      uploadRate: { minBytesPerSecond: 1024, graceMs: 1_000 },
      onCall: (s) => calls.push(s),
    });
    const { hostname, port } = new URL(h.url);
    const sockets = Array.from({ length: 7 }, () => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST /openai/v1/files HTTP/1.1\r\nHost: x\r\napi-key: ${clientKey}\r\nContent-Length: 10000\r\n\r\n`);
      });
      socket.on("error", () => {});
      // One byte every 300 ms: alive by the stall timer, far below 1 KiB/s.
      const drip = setInterval(() => socket.writable && socket.write("x"), 300);
      socket.on("close", () => clearInterval(drip));
      return socket;
    });
    await until(() => calls.length === 0 && h !== undefined, 500);
    // Meanwhile the budget is full: another caller is turned away with 503 ServerBusy.
    const busy = await h.post("/openai/v1/chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(busy.status).toBe(503);
    await until(() => calls.filter((c) => c.status === 408).length === 7, 4_000, "the seven trickles ended");
    for (const socket of sockets) socket.destroy();
    const served = await h.post("/openai/v1/chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(served.status).toBe(200);
  });
});
