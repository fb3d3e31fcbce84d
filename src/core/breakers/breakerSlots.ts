// The breakers of one backend as the board keeps them: a slot per scope (the backend as a whole,
// calls with no deployment, each deployment), and what the board and its view read from them.

import { type BreakerState, closedBreaker, isOpen } from "./breaker";

/** Who knows a breaker's state: this instance, or the shared store. */
export type StateSource = "local" | "shared";

export interface Slot {
  breaker: BreakerState;
  source: StateSource | undefined;
  lastStatus: number | undefined;
  served: number;
  failed: number;
  /** Listed in the configuration; learned slots (from calls to a backend without a list) may be evicted. */
  readonly listed: boolean;
}

export interface Backend {
  readonly name: string;
  readonly whole: Slot;
  /** Calls with no deployment; made on first use. */
  none: Slot | undefined;
  /** By deployment name at this backend. */
  readonly deployments: Map<string, Slot>;
  /** Caller names of each listed deployment, for /status. */
  readonly callerNames: ReadonlyMap<string, readonly string[]>;
  /** Deployments in `deployments` learned from calls (not listed), bounded by `maxLearnedDeployments`. */
  learned: number;
  served: number;
  failed: number;
  lastStatus: number | undefined;
}

export const newSlot = (listed: boolean): Slot => ({
  breaker: closedBreaker,
  source: undefined,
  lastStatus: undefined,
  served: 0,
  failed: 0,
  listed,
});

export function isThrottled(slot: Slot | undefined): boolean {
  return slot?.breaker.state === "open" && slot.breaker.reason === "throttled";
}

export function endOf(slot: Slot, now: number): number {
  const b = slot.breaker;
  return b.state === "open" && b.openUntil > now ? b.openUntil : now;
}

/** When the backend can take some call it is known for again (`now` if it can already). */
export function availableAt(backend: Backend, now: number): number {
  const whole = endOf(backend.whole, now);
  let soonest = Number.POSITIVE_INFINITY;
  let known = 0;
  if (backend.none) {
    known++;
    soonest = endOf(backend.none, now);
  }
  for (const slot of backend.deployments.values()) {
    known++;
    soonest = Math.min(soonest, endOf(slot, now));
  }
  return Math.max(whole, known === 0 ? now : soonest);
}

export function evictOneQuiet(slots: Map<string, Slot>): boolean {
  for (const [name, slot] of slots) {
    if (!slot.listed && slot.breaker.state === "closed" && slot.breaker.failures.length === 0) {
      slots.delete(name);
      return true;
    }
  }
  return false;
}

export function soonestOpen(backend: Backend, now: number): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of [backend.none, ...backend.deployments.values()]) {
    if (!slot || !isOpen(slot.breaker, now)) continue;
    if (!best || endOf(slot, now) < endOf(best, now)) best = slot;
  }
  return best;
}
