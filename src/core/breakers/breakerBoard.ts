// The breakers of one pool, as this instance knows them: its own observations merged with trips
// other instances shared. One breaker per backend and deployment (quotas are per deployment), one
// for calls that name no deployment, and one for the whole backend (a refused connection stops
// every call). The request path reads it from memory, never from storage.

import type { BackendConfig, CircuitBreakerConfig } from "../config/config";
import { closedBreaker, type Failure, isOpen, recordFailure } from "./breaker";
import { availableAt, type Backend, endOf, evictOneQuiet, isThrottled, newSlot, type Slot, type StateSource } from "./breakerSlots";
import { type BackendView, backendView } from "./breakerView";
import { noDeployment, type SharedTrips, type TripRecord, type TripScope, tripEnd, wholeBackend } from "./tripStore";

export type { StateSource } from "./breakerSlots";
export type { BackendView, BreakerView, DeploymentView } from "./breakerView";

/** A breaker opened (or its trip grew longer): by this instance's own call, or learned from the store. */
export interface TripEvent extends TripRecord {
  source: StateSource;
}

/** A trip ended: the breaker lets calls through again. */
export interface CloseEvent {
  backend: string;
  scope: TripScope;
  /** Epoch ms the trip ended. */
  at: number;
}

/** Deployments learned from calls (backends without a list) kept per backend; bounds memory against made-up names. */
export const maxLearnedDeployments = 100;

export class BreakerBoard {
  private readonly backends: Backend[];
  private readonly indexByName = new Map<string, number>();
  private readonly tripListeners: ((event: TripEvent) => void)[] = [];
  private readonly closeListeners: ((event: CloseEvent) => void)[] = [];

  constructor(
    backends: readonly Pick<BackendConfig, "name" | "deployments">[],
    private readonly policy: CircuitBreakerConfig,
    private readonly instance: string,
  ) {
    this.backends = backends.map((backend, index) => {
      this.indexByName.set(backend.name, index);
      const deployments = new Map<string, Slot>();
      const callerNames = new Map<string, string[]>();
      for (const [callerName, deployment] of backend.deployments ?? []) {
        if (!deployments.has(deployment.name)) deployments.set(deployment.name, newSlot(true));
        callerNames.set(deployment.name, [...(callerNames.get(deployment.name) ?? []), callerName]);
      }
      return {
        name: backend.name,
        whole: newSlot(true),
        none: undefined,
        deployments,
        callerNames,
        learned: 0,
        served: 0,
        failed: 0,
        lastStatus: undefined,
      };
    });
  }

  /** Calls `listener` with every trip: local ones (to share them) and shared ones (to log them). */
  onTrip(listener: (event: TripEvent) => void): void {
    this.tripListeners.push(listener);
  }

  /** Calls `listener` when a trip is over (noticed by `sweep`). */
  onClose(listener: (event: CloseEvent) => void): void {
    this.closeListeners.push(listener);
  }

  /** Number of backends in the pool. */
  get size(): number {
    return this.backends.length;
  }

  /** Whether a call for `deployment` (the name at the backend; `undefined` for none) must skip this backend. */
  isOpen(index: number, deployment: string | undefined, now: number): boolean {
    const backend = this.backends[index];
    if (!backend) return false;
    if (isOpen(backend.whole.breaker, now)) return true;
    const slot = deployment === undefined ? backend.none : backend.deployments.get(deployment);
    return slot !== undefined && isOpen(slot.breaker, now);
  }

  /** Epoch ms when this backend can take a call for `deployment` again (`now` when it can already). */
  openUntil(index: number, deployment: string | undefined, now: number): number {
    const backend = this.backends[index];
    if (!backend) return now;
    const slot = deployment === undefined ? backend.none : backend.deployments.get(deployment);
    return Math.max(endOf(backend.whole, now), slot ? endOf(slot, now) : now);
  }

  /** True when every open breaker that stops a call for `deployment` here was tripped by throttling. */
  throttled(index: number, deployment: string | undefined, now: number): boolean {
    const backend = this.backends[index];
    if (!backend) return false;
    const slot = deployment === undefined ? backend.none : backend.deployments.get(deployment);
    const wholeOpen = isOpen(backend.whole.breaker, now);
    const slotOpen = slot !== undefined && isOpen(slot.breaker, now);
    return (wholeOpen || slotOpen) && (!wholeOpen || isThrottled(backend.whole)) && (!slotOpen || isThrottled(slot));
  }

  recordSuccess(index: number, deployment: string | undefined, status: number): void {
    const backend = this.backends[index];
    if (!backend) return;
    backend.served++;
    backend.lastStatus = status;
    const slot = this.slot(backend, deployment);
    if (!slot) return;
    slot.served++;
    slot.lastStatus = status;
  }

  /**
   * Records a failed attempt. A refused or reset connection trips the whole backend; anything else
   * trips the call's deployment at that backend (or its no-deployment breaker).
   */
  recordFailure(index: number, deployment: string | undefined, failure: Failure, now: number): void {
    const backend = this.backends[index];
    if (!backend) return;
    backend.failed++;
    if (failure.status !== undefined) backend.lastStatus = failure.status;
    const wholeTrip = failure.reason === "connectionError";
    // Past the bound on learned deployments, the backend's own breaker takes the failure: safe, if coarse.
    const slot = (wholeTrip ? undefined : this.slot(backend, deployment)) ?? backend.whole;
    const scope = slot === backend.whole ? wholeBackend : (deployment ?? noDeployment);
    slot.failed++;
    if (failure.status !== undefined) slot.lastStatus = failure.status;
    const { next, tripped } = recordFailure(slot.breaker, failure, now, this.policy);
    slot.breaker = next;
    if (!tripped || next.state !== "open") return;
    slot.source = "local";
    this.emitTrip({
      backend: backend.name,
      scope,
      openUntil: next.openUntil,
      trippedAt: next.trippedAt,
      reason: next.reason,
      lastStatus: next.lastStatus,
      instance: this.instance,
      source: "local",
    });
  }

  /**
   * Adopts trips other instances stored when they end later than what this instance knows. Each
   * is capped at `maxTripDuration` from its own start, so re-reading a row every second never
   * extends a trip, and each trip is reported once.
   */
  applySharedTrips(trips: SharedTrips, now: number): void {
    for (const trip of trips) {
      const index = this.indexByName.get(trip.backend);
      const backend = index === undefined ? undefined : this.backends[index];
      if (!backend) continue;
      const end = tripEnd(trip, this.policy.maxTripDurationMs);
      if (end <= now) continue;
      const slot = trip.scope === wholeBackend ? backend.whole : this.slot(backend, trip.scope === noDeployment ? undefined : trip.scope);
      if (!slot) continue;
      const current = slot.breaker;
      if (current.state === "open" && current.openUntil >= end) continue;
      slot.breaker = { state: "open", openUntil: end, trippedAt: trip.trippedAt, reason: trip.reason, lastStatus: trip.lastStatus };
      slot.source = trip.instance === this.instance ? "local" : "shared";
      if (trip.lastStatus !== undefined) {
        slot.lastStatus = trip.lastStatus;
        backend.lastStatus = trip.lastStatus;
      }
      this.emitTrip({ ...trip, openUntil: end, source: slot.source });
    }
  }

  /** Closes breakers whose trip is over and reports each; runs on the state refresh tick. */
  sweep(now: number): void {
    for (const backend of this.backends) {
      this.sweepSlot(backend, backend.whole, wholeBackend, now);
      if (backend.none) this.sweepSlot(backend, backend.none, noDeployment, now);
      for (const [name, slot] of backend.deployments) this.sweepSlot(backend, slot, name, now);
    }
  }

  /** Whole seconds until the first backend can take traffic again, at least 1: the `Retry-After` of /health's 503. */
  retryAfterSeconds(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const backend of this.backends) soonest = Math.min(soonest, availableAt(backend, now));
    return secondsUntil(Number.isFinite(soonest) ? soonest : now, now);
  }

  /**
   * Backends that can take traffic: not tripped as a whole, and at least one deployment they are
   * known for (listed, or called since start) is closed. A backend with neither is available.
   */
  availableCount(now: number): number {
    let count = 0;
    for (const backend of this.backends) if (availableAt(backend, now) <= now) count++;
    return count;
  }

  view(now: number): BackendView[] {
    return this.backends.map((backend) => backendView(backend, now));
  }

  /** The slot for `deployment` at `backend`, made on first use; `undefined` past the bound on learned deployments. */
  private slot(backend: Backend, deployment: string | undefined): Slot | undefined {
    if (deployment === undefined) {
      backend.none ??= newSlot(false);
      return backend.none;
    }
    const existing = backend.deployments.get(deployment);
    if (existing) return existing;
    if (backend.learned >= maxLearnedDeployments) {
      if (!evictOneQuiet(backend.deployments)) return undefined;
      backend.learned--;
    }
    const slot = newSlot(false);
    backend.deployments.set(deployment, slot);
    backend.learned++;
    return slot;
  }

  private sweepSlot(backend: Backend, slot: Slot, scope: TripScope, now: number): void {
    const breaker = slot.breaker;
    if (breaker.state !== "open" || breaker.openUntil > now) return;
    slot.breaker = closedBreaker;
    for (const listener of this.closeListeners) listener({ backend: backend.name, scope, at: breaker.openUntil });
  }

  private emitTrip(event: TripEvent): void {
    for (const listener of this.tripListeners) listener(event);
  }
}

/** Whole seconds from `now` until `at`, at least 1: a `Retry-After` value. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}
