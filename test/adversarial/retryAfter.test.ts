// What a backend says in its 429 headers, and what the router does with it: every 429 trips (at
// least briefly), garbage or negative values fall through to the next header, dates parse strictly.

import { afterEach, describe, expect, it } from "vitest";
import { chatPath, type Harness, startHarness } from "../helpers/harness";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const past = new Date(Date.now() - 60_000).toUTCString();

// [headers of the 429, seconds the trip should last (± 1 s), why]
const table: [Record<string, string>, number, string][] = [
  [{ "retry-after": "0" }, 1, "zero still trips for the 1 s floor"],
  [{ "retry-after": "-5" }, 10, "a negative value is garbage: tripDuration"],
  [{ "retry-after": past }, 1, "a date already past trips for the floor"],
  [{ "retry-after-ms": "-100", "retry-after": "30" }, 30, "a negative -ms value falls through to retry-after"],
  [{ "retry-after-ms": "abc", "x-ms-retry-after-ms": "4000" }, 4, "garbage -ms falls through to x-ms-retry-after-ms"],
  [{ "retry-after": "foo 2099" }, 10, "not a date: tripDuration, not a 300 s trip"],
  [{ "retry-after": "86400" }, 60, "a daily quota is capped at maxTripDuration"],
];

describe("Retry-After from a throttling backend, through the router", () => {
  it.each(table)("%j trips for about %i s (%s)", async (headers, seconds) => {
    h = await startHarness({
      regions: [{ priority: 1 }, { priority: 2 }],
      config: { circuitBreaker: { tripDuration: "PT10S", maxTripDuration: "PT1M" } },
    });
    const ptu = h.sims[0];
    if (!ptu) throw new Error("no simulator");
    // The simulator's own headers are replaced by the table's.
    ptu.setFault({ kind: "throttle", headers });
    const started = Date.now();
    const response = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(response.headers.get("x-served-by")).toBe("region-1");
    const openUntil = Date.parse((await h.status()).backends[0]?.deployments[0]?.openUntil ?? "");
    expect(openUntil - started).toBeGreaterThan(seconds * 1000 - 1_000);
    expect(openUntil - started).toBeLessThan(seconds * 1000 + 1_000);
    // Tripped: the next call goes straight to the other backend.
    const next = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(next.headers.get("x-router-attempts")).toBe("1");
  });
});

describe("a PTU's retry-after-ms, to the millisecond", () => {
  it("benches the PTU only as long as it asks (not a whole second), and takes it back at once after", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    const ptu = h.sims[0];
    if (!ptu) throw new Error("no simulator");
    ptu.setFault({ kind: "throttle", headers: { "retry-after-ms": "60" } });
    const first = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(first.headers.get("x-served-by")).toBe("region-1");
    ptu.setFault(undefined);
    // Within the 60 ms the next call goes straight on; after it, back to the PTU.
    const during = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(during.headers.get("x-served-by")).toBe("region-1");
    await new Promise((resolve) => setTimeout(resolve, 120));
    const after = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(after.headers.get("x-served-by")).toBe("region-0");
    // Shorter than a refresh: it stayed local, nothing was written to the shared store.
    expect((await h.app.store.readTrips(AbortSignal.timeout(1000))).length).toBe(0);
  });
});
