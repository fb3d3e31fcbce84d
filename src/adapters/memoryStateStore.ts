// Shared state in this process's memory: ROUTER_STATE=memory, and the twin of TableStateStore in
// tests (one instance can serve several routers, like one table serves several instances).

import type { Clock } from "../core/clock";
import { mergeTrip, type SharedTrips, type StateStore, type TripRecord } from "../core/stateStore";

export class MemoryStateStore implements StateStore {
  readonly description = "memory (this instance only)";
  private trips: SharedTrips = [];
  /** Operations served, for tests that count store traffic. */
  readonly counts = { reads: 0, writes: 0 };

  /** `maxTripMs`: the cap that drops trips past it when writing (the pool's `maxTripDuration`). */
  constructor(
    private readonly clock: Clock,
    private readonly maxTripMs: number,
  ) {}

  async readTrips(): Promise<SharedTrips> {
    this.counts.reads++;
    return this.trips;
  }

  async writeTrip(trip: TripRecord): Promise<void> {
    this.counts.writes++;
    this.trips = mergeTrip(this.trips, trip, this.clock.now(), this.maxTripMs);
  }
}
