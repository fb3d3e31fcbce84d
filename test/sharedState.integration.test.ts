// Two real router instances (each with its own Table Storage client) on one Azurite table, in
// front of the same simulated regions: what one instance sees steers the other.

import { describe, expect, it } from "vitest";
import type { TableStateStore } from "../src/adapters/tableStateStore";
import { chatPath, type Harness, simulatorOf, sleep, until } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("state", { outages: true });

const messages = [{ role: "user", content: "hi" }];

async function twoInstances(logs?: { lost: number; restored: number }[]): Promise<[Harness, Harness]> {
  const routers = await shared.routers([{ priority: 1 }, { priority: 2 }], (_, i) => {
    const log = logs?.[i];
    return log ? { syncLog: { lost: () => void log.lost++, restored: () => void log.restored++, badRow: () => {} } } : {};
  });
  return routers as [Harness, Harness];
}

const sim = (i: number) => simulatorOf(shared.regions, i);

describe("shared breaker state on Azure Table Storage (Azurite)", () => {
  it("a 429 with Retry-After seen by A keeps B's traffic off that backend within 2.5 s, without B sending it a request", async () => {
    const [a, b] = await twoInstances();
    expect((await a.status()).sharedState.store).toContain("Azure Table Storage");
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 30 });
    const tripped = await a.post(chatPath, { messages });
    expect(tripped.headers.get("x-served-by")).toBe("region-1");
    const waited = await until(async () => (await b.status()).backends[0]?.state === "open", 2_500);
    expect(waited).toBeLessThanOrEqual(2_500);
    const seen = (await b.status()).backends[0];
    expect(seen).toMatchObject({ name: "region-0", state: "open", reason: "throttled", lastStatus: 429, source: "shared" });
    expect((await a.status()).backends[0]?.source).toBe("local");
    sim(0).setFault(undefined);
    for (let i = 0; i < 5; i++) expect((await b.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-1");
    expect(sim(0).requestCount).toBe(1);
  });

  it("ends with the longer trip on both instances when both trip the same backend", async () => {
    const [a, b] = await twoInstances();
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 40 });
    await b.post(chatPath, { messages });
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 10 });
    await a.post(chatPath, { messages });
    // A knows its own 10 s trip at first; within a refresh it adopts B's 40 s one.
    await until(async () => Date.parse((await a.status()).backends[0]?.openUntil ?? "0") > Date.now() + 30_000, 2_500);
    await sleep(1_500);
    for (const r of [a, b]) expect(Date.parse((await r.status()).backends[0]?.openUntil ?? "0")).toBeGreaterThan(Date.now() + 30_000);
  });

  it("gives the backend traffic again on every instance once the trip is over", async () => {
    const [a, b] = await twoInstances();
    sim(0).setFault({ kind: "throttle", retryAfterMs: 2_000 });
    await a.post(chatPath, { messages });
    sim(0).setFault(undefined);
    await until(async () => (await b.status()).backends[0]?.state === "open", 2_500);
    expect((await b.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-1");
    await until(async () => (await b.status()).backends[0]?.state === "closed", 3_000);
    expect((await b.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-0");
    expect((await a.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-0");
  });

  it("costs no storage operation per request: about one read per refresh interval", async () => {
    const [a] = await twoInstances();
    const store = a.app.store as TableStateStore;
    const before = { ...store.counts };
    const started = Date.now();
    let calls = 0;
    // Bounded: 300 calls, spread over about 3 s.
    while (calls < 300 && Date.now() - started < 3_000) {
      await Promise.all(Array.from({ length: 10 }, () => a.post(chatPath, { messages })));
      calls += 10;
      await sleep(90);
    }
    const seconds = (Date.now() - started) / 1000;
    const requests = store.counts.requests - before.requests;
    const reads = store.counts.reads - before.reads;
    expect(calls).toBeGreaterThanOrEqual(200);
    expect(store.counts.writes - before.writes).toBe(0);
    expect(reads).toBeGreaterThanOrEqual(Math.floor(seconds * 0.7));
    expect(reads).toBeLessThanOrEqual(Math.ceil(seconds * 1.3) + 1);
    expect(requests).toBe(reads);
  });

  it("keeps serving without added latency while Azurite is down, says so once, and syncs again when it is back", async () => {
    const logs = [
      { lost: 0, restored: 0 },
      { lost: 0, restored: 0 },
    ];
    const [a, b] = await twoInstances(logs);
    const median = async () => {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        const response = await a.post(chatPath, { messages });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        times.push(performance.now() - started);
      }
      return times.sort((x, y) => x - y)[15] ?? 0;
    };
    const healthy = await median();
    await shared.azurite.stop();
    await until(async () => !(await a.status()).sharedState.connected, 3_000);
    const degraded = await median();
    expect(degraded - healthy).toBeLessThan(5);
    // A trip while the store is down still protects this instance.
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 30 });
    expect((await a.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-1");
    await shared.azurite.start();
    await until(async () => (await a.status()).sharedState.connected && (await b.status()).sharedState.connected, 15_000);
    expect(logs).toEqual([
      { lost: 1, restored: 1 },
      { lost: 1, restored: 1 },
    ]);
    // The trip A kept while the store was down reaches B once the store is back.
    await until(async () => (await b.status()).backends[0]?.state === "open", 10_000);
    expect((await b.status()).backends[0]?.source).toBe("shared");
  });
});
