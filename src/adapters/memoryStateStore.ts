// Shared state in this process's memory: ROUTER_STATE=memory, and the twin of TableStateStore in
// tests (one instance can serve several routers, like one table serves several instances).

import type { UsageCounts, UsageStore, UsageTotals } from "../core/clientLimiter";
import type { Clock } from "../core/clock";
import type { OwnerChange, OwnerRecord, OwnerStore } from "../core/ownerBook";
import { mergeTrip, type SharedTrips, type StateStore, type TripRecord } from "../core/stateStore";

export class MemoryStateStore implements StateStore, OwnerStore, UsageStore {
  readonly description = "memory (this instance only)";
  private trips: SharedTrips = [];
  private readonly owners = new Map<string, OwnerRecord>();
  private readonly usage = new Map<string, UsageTotals>();
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

  async addUsage(client: string, window: number, delta: UsageCounts & { newWriter: boolean }): Promise<UsageTotals> {
    this.counts.writes++;
    const key = `${client}\n${window}`;
    const now = this.usage.get(key) ?? { requests: 0, tokens: 0, writers: 0 };
    const next = {
      requests: now.requests + delta.requests,
      tokens: now.tokens + delta.tokens,
      writers: now.writers + (delta.newWriter ? 1 : 0),
    };
    this.usage.set(key, next);
    // Two windows are all anyone reads.
    this.usage.delete(`${client}\n${window - 2}`);
    return next;
  }

  async readUsage(client: string, window: number): Promise<UsageTotals> {
    this.counts.reads++;
    return this.usage.get(`${client}\n${window}`) ?? { requests: 0, tokens: 0, writers: 0 };
  }

  async writeOwners(changes: readonly OwnerChange[]): Promise<void> {
    this.counts.writes++;
    for (const { id, backend, creator } of changes) {
      if (backend === undefined) this.owners.delete(id);
      else this.owners.set(id, { backend, creator });
    }
  }

  async readOwner(id: string): Promise<OwnerRecord | undefined> {
    this.counts.reads++;
    return this.owners.get(id);
  }

  async writeTrip(trip: TripRecord): Promise<void> {
    this.counts.writes++;
    this.trips = mergeTrip(this.trips, trip, this.clock.now(), this.maxTripMs);
  }
}
