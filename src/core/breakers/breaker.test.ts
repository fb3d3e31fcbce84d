import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../config/config";
import {
  type BreakerState,
  closedBreaker,
  isFailureStatus,
  isOpen,
  minPreciseTripMs,
  minTripMs,
  recordFailure,
  tripLengthMs,
} from "./breaker";

const t0 = 1_700_000_000_000;

function policy(circuitBreaker: object = {}) {
  return parseRouterConfig({ backends: [{ name: "a", url: "https://a.example" }], circuitBreaker }).circuitBreaker;
}

describe("breaker", () => {
  it("still trips, for a moment, on a 429 that says Retry-After 0 or a date already past", () => {
    const { next, tripped } = recordFailure(closedBreaker, { reason: "throttled", status: 429, retryAfterMs: 0 }, t0, policy());
    expect(tripped).toBe(true);
    expect(next).toMatchObject({ state: "open", openUntil: t0 + minTripMs });
    expect(tripLengthMs({ reason: "throttled", retryAfterMs: 10 }, policy())).toBe(minTripMs);
  });

  it("honours retry-after-ms to the millisecond above a 20 ms floor; seconds and dates keep the 1 s floor", () => {
    expect(tripLengthMs({ reason: "throttled", retryAfterMs: 6, retryAfterPrecise: true }, policy())).toBe(minPreciseTripMs);
    expect(tripLengthMs({ reason: "throttled", retryAfterMs: 137, retryAfterPrecise: true }, policy())).toBe(137);
    expect(tripLengthMs({ reason: "throttled", retryAfterMs: 0, retryAfterPrecise: false }, policy())).toBe(minTripMs);
    // No delay at all: tripDuration, never below the second.
    expect(tripLengthMs({ reason: "throttled" }, policy({ tripDuration: "PT0.1S" }))).toBe(minTripMs);
  });

  it("opens on the first failure with the default count of 1, for tripDuration", () => {
    const { next, tripped } = recordFailure(closedBreaker, { reason: "serverError", status: 500 }, t0, policy());
    expect(tripped).toBe(true);
    expect(next).toMatchObject({ state: "open", openUntil: t0 + 60_000, reason: "serverError", lastStatus: 500 });
    expect(isOpen(next, t0 + 59_999)).toBe(true);
    expect(isOpen(next, t0 + 60_000)).toBe(false);
  });

  it("opens only when count failures fall within the interval", () => {
    const p = policy({ failureCondition: { count: 3, interval: "PT10S" } });
    let state: BreakerState = closedBreaker;
    state = recordFailure(state, { reason: "throttled", status: 429 }, t0, p).next;
    state = recordFailure(state, { reason: "throttled", status: 429 }, t0 + 5_000, p).next;
    // The first failure has left the 10 s window: only two count.
    const third = recordFailure(state, { reason: "throttled", status: 429 }, t0 + 10_001, p);
    expect(third.tripped).toBe(false);
    expect(third.next.state).toBe("closed");
    const fourth = recordFailure(third.next, { reason: "throttled", status: 429 }, t0 + 11_000, p);
    expect(fourth.tripped).toBe(true);
    expect(fourth.next).toMatchObject({ state: "open", openUntil: t0 + 11_000 + 60_000 });
  });

  it("uses Retry-After for the trip when acceptRetryAfter is true", () => {
    const { next } = recordFailure(closedBreaker, { reason: "throttled", status: 429, retryAfterMs: 7_000 }, t0, policy());
    expect(next).toMatchObject({ state: "open", openUntil: t0 + 7_000 });
  });

  it("ignores Retry-After when acceptRetryAfter is false", () => {
    const p = policy({ acceptRetryAfter: false, tripDuration: "PT20S" });
    expect(recordFailure(closedBreaker, { reason: "throttled", status: 429, retryAfterMs: 7_000 }, t0, p).next).toMatchObject({
      openUntil: t0 + 20_000,
    });
  });

  it("caps a daily-quota Retry-After (86400 s) at maxTripDuration, default 5 minutes", () => {
    const { next } = recordFailure(closedBreaker, { reason: "throttled", status: 429, retryAfterMs: 86_400_000 }, t0, policy());
    expect(next).toMatchObject({ state: "open", openUntil: t0 + 300_000 });
    expect(tripLengthMs({ reason: "throttled", retryAfterMs: 86_400_000 }, policy({ maxTripDuration: "PT2M" }))).toBe(120_000);
  });

  it("extends an open trip when a later failure asks for longer, and never shortens it", () => {
    const p = policy();
    const first = recordFailure(closedBreaker, { reason: "throttled", status: 429, retryAfterMs: 10_000 }, t0, p).next;
    const shorter = recordFailure(first, { reason: "throttled", status: 429, retryAfterMs: 1_000 }, t0 + 1_000, p);
    expect(shorter.tripped).toBe(false);
    expect(shorter.next).toBe(first);
    const longer = recordFailure(first, { reason: "throttled", status: 429, retryAfterMs: 30_000 }, t0 + 1_000, p);
    expect(longer.tripped).toBe(true);
    expect(longer.next).toMatchObject({ openUntil: t0 + 31_000 });
  });

  it("closes again once the trip is over, with a fresh failure window", () => {
    const p = policy({ failureCondition: { count: 2 } });
    let state = recordFailure(closedBreaker, { reason: "timeout" }, t0, p).next;
    state = recordFailure(state, { reason: "timeout" }, t0 + 1, p).next;
    expect(isOpen(state, t0 + 2)).toBe(true);
    const after = recordFailure(state, { reason: "timeout" }, t0 + 120_000, p);
    expect(after.tripped).toBe(false);
    expect(after.next).toEqual({ state: "closed", failures: [t0 + 120_000] });
  });

  it("counts only the configured status ranges", () => {
    const p = policy();
    expect(isFailureStatus(429, p)).toBe(true);
    expect(isFailureStatus(503, p)).toBe(true);
    expect(isFailureStatus(400, p)).toBe(false);
    expect(isFailureStatus(404, p)).toBe(false);
    expect(isFailureStatus(408, policy({ failureCondition: { statusCodeRanges: [{ min: 408, max: 408 }] } }))).toBe(true);
  });

  it("a trip never ends earlier after more failures, and an open breaker stays open until its time (property)", () => {
    const p = policy();
    const failure = fc.record({
      reason: fc.constantFrom("throttled" as const, "serverError" as const, "timeout" as const),
      retryAfterMs: fc.option(fc.integer({ min: 0, max: 90_000_000 }), { nil: undefined }),
      gap: fc.integer({ min: 0, max: 400_000 }),
    });
    fc.assert(
      fc.property(fc.array(failure, { minLength: 1, maxLength: 20 }), (failures) => {
        let state: BreakerState = closedBreaker;
        let now = t0;
        for (const f of failures) {
          now += f.gap;
          const before = state.state === "open" && now < state.openUntil ? state.openUntil : undefined;
          state = recordFailure(state, f, now, p).next;
          if (before !== undefined && (state.state !== "open" || state.openUntil < before)) return false;
          if (state.state === "open" && state.openUntil > now + p.maxTripDurationMs) return false;
        }
        return true;
      }),
    );
  });
});
