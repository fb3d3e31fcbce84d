// Shared state in this process's memory: ROUTER_STATE=memory, and the twin of TableStateStore in
// tests (one instance can serve several routers, like one table serves several instances).

import { mergeTrip, type SharedTrips, type StateStore, type TripRecord } from "../core/breakers/tripStore";
import { type CapacityStore, mergePace, type SharedPace } from "../core/capacity/sharedPaces";
import { type BucketUsage, mergeBuckets } from "../core/clients/usageBuckets";
import type { UsageStore } from "../core/clients/usageSharing";
import type { Clock } from "../core/clock";
import type { OwnerChange, OwnerRecord, OwnerStore } from "../core/storedObjects/ownerBook";

export class MemoryStateStore implements StateStore, OwnerStore, UsageStore, CapacityStore {
  readonly description = "memory (this instance only)";
  private trips: SharedTrips = [];
  private readonly owners = new Map<string, OwnerRecord>();
  private readonly created = new Map<string, Set<string>>();
  private readonly usage = new Map<string, readonly BucketUsage[]>();
  private readonly presence = new Map<number, Set<string>>();
  private paces: SharedPace[] = [];
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

  async addUsage(client: string, delta: readonly BucketUsage[]): Promise<readonly BucketUsage[]> {
    this.counts.writes++;
    const next = mergeBuckets(this.usage.get(client) ?? [], delta);
    this.usage.set(client, next);
    return next;
  }

  async readUsage(client: string): Promise<readonly BucketUsage[]> {
    this.counts.reads++;
    return this.usage.get(client) ?? [];
  }

  async checkIn(instance: string, slot: number): Promise<void> {
    this.counts.writes++;
    const present = this.presence.get(slot) ?? new Set<string>();
    present.add(instance);
    this.presence.set(slot, present);
    this.presence.delete(slot - 2);
  }

  async readPresence(slot: number): Promise<{ current: number; previous: number }> {
    this.counts.reads++;
    return { current: this.presence.get(slot)?.size ?? 0, previous: this.presence.get(slot - 1)?.size ?? 0 };
  }

  async writeOwners(changes: readonly OwnerChange[]): Promise<void> {
    this.counts.writes++;
    for (const { id, backend, creator } of changes) {
      if (backend === undefined) this.owners.delete(id);
      else this.owners.set(id, { backend, creator });
    }
  }

  async writeCreated(client: string, ids: readonly string[]): Promise<void> {
    this.counts.writes++;
    const index = this.created.get(client) ?? new Set<string>();
    for (const id of ids) index.add(id);
    this.created.set(client, index);
  }

  async readCreated(client: string): Promise<ReadonlySet<string>> {
    this.counts.reads++;
    return new Set(this.created.get(client) ?? []);
  }

  async readOwner(id: string): Promise<OwnerRecord | undefined> {
    this.counts.reads++;
    return this.owners.get(id);
  }

  async readPaces(): Promise<readonly SharedPace[]> {
    this.counts.reads++;
    return this.paces;
  }

  async writePace(pace: SharedPace): Promise<void> {
    this.counts.writes++;
    this.paces = mergePace(this.paces, pace);
  }

  async writeTrip(trip: TripRecord): Promise<void> {
    this.counts.writes++;
    this.trips = mergeTrip(this.trips, trip, this.clock.now(), this.maxTripMs);
  }
}
