// The breakers of one pool, as this instance knows them: its own observations merged with
// trips other instances shared. The request path reads it from memory, never from storage.

import { type BreakerState, closedBreaker, type Failure, type FailureReason, isOpen, recordFailure } from "./breaker";
import type { CircuitBreakerConfig } from "./config";
import type { RouterEvents } from "./events";
import type { SharedTrips, TripRecord } from "./stateStore";

export type StateSource = "local" | "shared";

interface Entry {
  breaker: BreakerState;
  source: StateSource | undefined;
  lastStatus: number | undefined;
  served: number;
  failed: number;
}

/** One backend as /status and the demo view show it. No URL, no key. */
export interface BackendView {
  name: string;
  state: "closed" | "open";
  openUntil: string | null;
  reason: FailureReason | null;
  lastStatus: number | null;
  /** Who knows the current state: this instance (`local`), the shared store (`shared`), or nobody yet. */
  source: StateSource | null;
  served: number;
  failed: number;
}

export class BreakerBoard {
  private readonly entries: Entry[];

  constructor(
    private readonly names: readonly string[],
    private readonly policy: CircuitBreakerConfig,
    private readonly instance: string,
    private readonly events: RouterEvents,
    /** Called with each local trip (or longer trip), to share it. Must not block. */
    private readonly onLocalTrip: (backend: string, trip: TripRecord) => void = () => {},
  ) {
    this.entries = names.map(() => ({ breaker: closedBreaker, source: undefined, lastStatus: undefined, served: 0, failed: 0 }));
  }

  /** Number of backends in the pool. */
  get size(): number {
    return this.names.length;
  }

  isOpen(index: number, now: number): boolean {
    const entry = this.entries[index];
    return entry !== undefined && isOpen(entry.breaker, now);
  }

  /** Reason of a current trip, if the backend is open. */
  openReason(index: number, now: number): FailureReason | undefined {
    const breaker = this.entries[index]?.breaker;
    return breaker && breaker.state === "open" && now < breaker.openUntil ? breaker.reason : undefined;
  }

  recordSuccess(index: number, status: number): void {
    const entry = this.entries[index];
    if (!entry) return;
    entry.served++;
    entry.lastStatus = status;
  }

  recordFailure(index: number, failure: Failure, now: number): void {
    const entry = this.entries[index];
    const name = this.names[index];
    if (!entry || name === undefined) return;
    entry.failed++;
    if (failure.status !== undefined) entry.lastStatus = failure.status;
    const { next, tripped } = recordFailure(entry.breaker, failure, now, this.policy);
    entry.breaker = next;
    if (!tripped || next.state !== "open") return;
    entry.source = "local";
    this.events.breakerOpened?.({
      backend: name,
      openUntil: next.openUntil,
      reason: next.reason,
      status: next.lastStatus,
      source: "local",
    });
    this.onLocalTrip(name, {
      openUntil: next.openUntil,
      trippedAt: next.trippedAt,
      reason: next.reason,
      lastStatus: next.lastStatus,
      instance: this.instance,
    });
  }

  /** Adopts trips other instances stored when they end later than what this instance knows. */
  applySharedTrips(trips: SharedTrips, now: number): void {
    this.names.forEach((name, index) => {
      const trip = trips[name];
      const entry = this.entries[index];
      if (!trip || !entry || trip.openUntil <= now) return;
      const current = entry.breaker;
      if (current.state === "open" && current.openUntil >= trip.openUntil) return;
      // Capped again here: another deployment's looser policy must not bench our backend for longer.
      const openUntil = Math.min(trip.openUntil, now + this.policy.maxTripDurationMs);
      if (current.state === "open" && current.openUntil >= openUntil) return;
      entry.breaker = { state: "open", openUntil, trippedAt: trip.trippedAt, reason: trip.reason, lastStatus: trip.lastStatus };
      entry.source = trip.instance === this.instance ? "local" : "shared";
      if (trip.lastStatus !== undefined) entry.lastStatus = trip.lastStatus;
      this.events.breakerOpened?.({ backend: name, openUntil, reason: trip.reason, status: trip.lastStatus, source: entry.source });
    });
  }

  /** Epoch ms when the first backend can take traffic again (`now` if one can already). */
  private soonestAvailableAt(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const entry of this.entries) {
      const at = isOpen(entry.breaker, now) && entry.breaker.state === "open" ? entry.breaker.openUntil : now;
      if (at < soonest) soonest = at;
    }
    return Number.isFinite(soonest) ? soonest : now;
  }

  /** Whole seconds until the first backend can take traffic again, at least 1: the `Retry-After` of a refusal. */
  retryAfterSeconds(now: number): number {
    return Math.max(1, Math.ceil((this.soonestAvailableAt(now) - now) / 1000));
  }

  availableCount(now: number): number {
    let count = 0;
    for (const entry of this.entries) if (!isOpen(entry.breaker, now)) count++;
    return count;
  }

  view(now: number): BackendView[] {
    return this.names.map((name, index) => {
      const entry = this.entries[index] as Entry;
      const b = entry.breaker;
      const open = b.state === "open" && now < b.openUntil;
      return {
        name,
        state: open ? "open" : "closed",
        openUntil: open ? new Date(b.openUntil).toISOString() : null,
        reason: open ? b.reason : null,
        lastStatus: entry.lastStatus ?? null,
        source: open ? (entry.source ?? "local") : entry.lastStatus === undefined ? null : "local",
        served: entry.served,
        failed: entry.failed,
      };
    });
  }
}
