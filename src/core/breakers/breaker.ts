// One backend's circuit breaker as a pure state machine: (state, event, now) -> state.
// State is plain data so it can be shown on /status and shared through the state store.

import type { CircuitBreakerConfig } from "../config/config";

/** Why a backend was tripped or an attempt failed. */
export type FailureReason = "throttled" | "serverError" | "status" | "connectionError" | "timeout" | "brokenStream";

export interface Failure {
  reason: FailureReason;
  /** Backend status, when it answered. */
  status?: number | undefined;
  /** Wait the backend asked for, in ms, when it said so. */
  retryAfterMs?: number | undefined;
  /** The wait came from `retry-after-ms` / `x-ms-retry-after-ms`: honoured to the millisecond. */
  retryAfterPrecise?: boolean | undefined;
}

export type BreakerState =
  | {
      readonly state: "closed";
      /** Times of recent failures, oldest first, all within the failure interval. */
      readonly failures: readonly number[];
    }
  | {
      readonly state: "open";
      readonly openUntil: number;
      readonly trippedAt: number;
      readonly reason: FailureReason;
      readonly lastStatus: number | undefined;
    };

export const closedBreaker: BreakerState = { state: "closed", failures: [] };

export function isOpen(state: BreakerState, now: number): boolean {
  return state.state === "open" && now < state.openUntil;
}

export function reasonForStatus(status: number): FailureReason {
  if (status === 429) return "throttled";
  return status >= 500 ? "serverError" : "status";
}

export function isFailureStatus(status: number, policy: CircuitBreakerConfig): boolean {
  for (const range of policy.statusCodeRanges) if (status >= range.min && status <= range.max) return true;
  return false;
}

/**
 * The shortest trip: a 429 with `Retry-After: 0` (or a date already past) still moves the next
 * calls elsewhere for a moment, instead of sending every one to the backend that just refused.
 */
export const minTripMs = 1_000;
/**
 * The shortest trip a millisecond header can ask for: a PTU's `retry-after-ms` says when it drains
 * (often a few ms), and benching it a whole second leaves it idle while overflow is bought elsewhere.
 */
export const minPreciseTripMs = 20;

/**
 * How long a trip caused by `failure` lasts: Retry-After when accepted, else tripDuration; never
 * over the cap, never under the floor (20 ms for a millisecond header, 1 s otherwise).
 */
export function tripLengthMs(failure: Failure, policy: CircuitBreakerConfig): number {
  const asked = policy.acceptRetryAfter ? failure.retryAfterMs : undefined;
  const floor = asked !== undefined && failure.retryAfterPrecise ? minPreciseTripMs : minTripMs;
  return Math.min(Math.max(asked ?? policy.tripDurationMs, floor), policy.maxTripDurationMs);
}

/**
 * The state after a failure at `now`. `tripped` is true when the breaker opened or its trip grew longer:
 * that is the only kind of change worth telling other instances about. A trip never shortens.
 */
export function recordFailure(
  state: BreakerState,
  failure: Failure,
  now: number,
  policy: CircuitBreakerConfig,
): { next: BreakerState; tripped: boolean } {
  if (state.state === "open" && now < state.openUntil) {
    // A call that was in flight when the breaker opened came back failed: only a longer trip changes anything.
    const until = now + tripLengthMs(failure, policy);
    if (until <= state.openUntil) return { next: state, tripped: false };
    return { next: open(failure, now, until), tripped: true };
  }
  const windowStart = now - policy.intervalMs;
  const recent = state.state === "closed" ? state.failures.filter((t) => t > windowStart) : [];
  recent.push(now);
  if (recent.length < policy.failureCount) return { next: { state: "closed", failures: recent }, tripped: false };
  return { next: open(failure, now, now + tripLengthMs(failure, policy)), tripped: true };
}

function open(failure: Failure, now: number, until: number): BreakerState {
  return { state: "open", openUntil: until, trippedAt: now, reason: failure.reason, lastStatus: failure.status };
}
