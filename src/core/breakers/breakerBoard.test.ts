import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../config/config";
import { BreakerBoard, maxLearnedDeployments } from "./breakerBoard";
import { noDeployment, type TripRecord, wholeBackend } from "./tripStore";

const t0 = 1_700_000_000_000;
const url = "https://aoai.example";
const throttled = (ms: number) => ({ reason: "throttled" as const, status: 429, retryAfterMs: ms });

function board(backends: object[]) {
  const config = parseRouterConfig({ backends });
  return new BreakerBoard(config.backends, config.circuitBreaker, "me");
}

describe("BreakerBoard", () => {
  it("trips one deployment on a 429: the backend's other deployments and its no-deployment calls stay open for traffic", () => {
    const b = board([{ name: "ptu", url, deployments: { "gpt-4o": "gpt-4o-ptu", embeddings: "te3" } }]);
    b.recordFailure(0, "te3", throttled(30_000), t0);
    expect(b.isOpen(0, "te3", t0)).toBe(true);
    expect(b.isOpen(0, "gpt-4o-ptu", t0)).toBe(false);
    expect(b.isOpen(0, undefined, t0)).toBe(false);
    expect(b.availableCount(t0)).toBe(1);
  });

  it("trips the whole backend on a refused connection, whatever the call's deployment", () => {
    const b = board([{ name: "ptu", url, deployments: { "gpt-4o": "gpt-4o-ptu" } }]);
    b.recordFailure(0, "gpt-4o-ptu", { reason: "connectionError" }, t0);
    expect(b.isOpen(0, "gpt-4o-ptu", t0)).toBe(true);
    expect(b.isOpen(0, "anything", t0)).toBe(true);
    expect(b.isOpen(0, undefined, t0)).toBe(true);
    expect(b.availableCount(t0)).toBe(0);
    expect(b.view(t0)[0]).toMatchObject({ state: "open", reason: "connectionError", backendWide: { state: "open" } });
  });

  it("trips, for a failure on a call with no deployment, only calls with no deployment", () => {
    const b = board([{ name: "a", url }]);
    b.recordFailure(0, undefined, { reason: "serverError", status: 500 }, t0);
    expect(b.isOpen(0, undefined, t0)).toBe(true);
    expect(b.isOpen(0, "gpt-4o", t0)).toBe(false);
  });

  it("counts a backend available while one deployment it is known for is closed, and one with none known as available", () => {
    const b = board([
      { name: "listed", url, deployments: { "gpt-4o": "g", embeddings: "e" } },
      { name: "open", url },
    ]);
    expect(b.availableCount(t0)).toBe(2);
    b.recordFailure(0, "g", throttled(10_000), t0);
    expect(b.availableCount(t0)).toBe(2);
    b.recordFailure(0, "e", throttled(20_000), t0);
    b.recordSuccess(1, "gpt-4o", 200);
    b.recordFailure(1, "gpt-4o", throttled(5_000), t0);
    expect(b.availableCount(t0)).toBe(0);
    // /health's Retry-After: the soonest backend back, here `open` after 5 s.
    expect(b.retryAfterSeconds(t0)).toBe(5);
    expect(b.view(t0).map((v) => [v.name, v.state, v.openUntil])).toEqual([
      ["listed", "open", new Date(t0 + 10_000).toISOString()],
      ["open", "open", new Date(t0 + 5_000).toISOString()],
    ]);
  });

  it("shows per backend each deployment's breaker with the caller's names, and the backend-wide one", () => {
    const b = board([{ name: "ptu", url, deployments: { "gpt-4o": "gpt-4o-ptu", "gpt-4o-latest": "gpt-4o-ptu" } }]);
    b.recordSuccess(0, "gpt-4o-ptu", 200);
    b.recordFailure(0, "gpt-4o-ptu", throttled(1_000), t0);
    const [view] = b.view(t0);
    expect(view?.deployments).toEqual([
      {
        name: "gpt-4o-ptu",
        callerNames: ["gpt-4o", "gpt-4o-latest"],
        state: "open",
        openUntil: new Date(t0 + 1_000).toISOString(),
        reason: "throttled",
        lastStatus: 429,
        source: "local",
        served: 1,
        failed: 1,
      },
    ]);
    expect(view?.backendWide.state).toBe("closed");
    expect(view?.noDeployment).toBeNull();
  });

  it("bounds the deployments it learns from calls, evicting quiet ones, so made-up names cannot grow memory", () => {
    const b = board([{ name: "open", url }]);
    for (let i = 0; i < maxLearnedDeployments * 3; i++) b.recordSuccess(0, `name-${i}`, 200);
    expect(b.view(t0)[0]?.deployments.length).toBe(maxLearnedDeployments);
    // Tripped ones are never evicted; past the bound a failure falls back to the backend's own breaker.
    for (let i = 0; i < maxLearnedDeployments; i++) b.recordFailure(0, `hot-${i}`, throttled(60_000), t0);
    b.recordFailure(0, "one-too-many", throttled(60_000), t0);
    expect(b.isOpen(0, "hot-0", t0)).toBe(true);
    expect(b.isOpen(0, "fresh", t0)).toBe(true);
  });

  it("applies shared trips keyed by backend names that are built-in object members", () => {
    const b = board([
      { name: "constructor", url },
      { name: "__proto__", url },
      { name: "toString", url },
      { name: "hasOwnProperty", url },
    ]);
    const trip = (backend: string): TripRecord => ({
      backend,
      scope: wholeBackend,
      openUntil: t0 + 10_000,
      trippedAt: t0,
      reason: "throttled",
      lastStatus: 429,
      instance: "other",
    });
    b.applySharedTrips(["constructor", "__proto__", "toString", "hasOwnProperty"].map(trip), t0);
    expect([0, 1, 2, 3].map((i) => b.isOpen(i, undefined, t0))).toEqual([true, true, true, true]);
    expect(b.view(t0).map((v) => v.openUntil)).toEqual(Array(4).fill(new Date(t0 + 10_000).toISOString()));
  });

  it("ignores shared trips for backends it does not have, and applies a no-deployment trip to no-deployment calls only", () => {
    const b = board([{ name: "a", url }]);
    const base = { openUntil: t0 + 10_000, trippedAt: t0, reason: "serverError" as const, lastStatus: 500, instance: "x" };
    b.applySharedTrips(
      [
        { ...base, backend: "unknown", scope: wholeBackend },
        { ...base, backend: "a", scope: noDeployment },
      ],
      t0,
    );
    expect(b.isOpen(0, undefined, t0)).toBe(true);
    expect(b.isOpen(0, "gpt-4o", t0)).toBe(false);
  });
});
