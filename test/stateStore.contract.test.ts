import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryStateStore } from "../src/adapters/memoryStateStore";
import { TableStateStore } from "../src/adapters/tableStateStore";
import { findTrip, wholeBackend } from "../src/core/breakers/tripStore";
import { systemClock } from "../src/core/clock";
import type { Azurite } from "./helpers/azurite";
import { sharedAzurite } from "./helpers/sharedAzurite";
import { contractMaxTripMs, stateStoreContract, trip } from "./helpers/stateStoreContract";

let azurite: Azurite;
beforeAll(() => {
  azurite = sharedAzurite();
});

function tableStores(): [TableStateStore, TableStateStore] {
  const pool = `pool-${randomUUID().slice(0, 8)}`;
  const make = () =>
    new TableStateStore({
      location: { kind: "connectionString", connectionString: azurite.connectionString },
      table: "routerstate",
      pool,
      clock: systemClock,
      maxTripMs: contractMaxTripMs,
    });
  return [make(), make()];
}

stateStoreContract("MemoryStateStore", async () => {
  const store = new MemoryStateStore(systemClock, contractMaxTripMs);
  return [store, store];
});

stateStoreContract("TableStateStore on Azurite", async () => tableStores());

describe("TableStateStore conflicts", () => {
  const now = Date.now();
  const signal = () => new AbortController().signal;

  it("adds usage with one write and no read while no one else wrote; a 412 re-reads and adds again", async () => {
    const [a, b] = tableStores();
    const bucket = 345_600_100;
    await a.addUsage("app", [{ bucket, requests: 1, tokens: 0 }], signal());
    const reads = a.counts.reads;
    await a.addUsage("app", [{ bucket, requests: 1, tokens: 0 }], signal());
    expect(a.counts.reads).toBe(reads);
    await b.addUsage("app", [{ bucket, requests: 5, tokens: 0 }], signal());
    expect(await a.addUsage("app", [{ bucket, requests: 1, tokens: 0 }], signal())).toEqual([{ bucket, requests: 8, tokens: 0 }]);
    expect(a.counts.conflicts).toBe(1);
  });

  it("re-reads and merges on 412 instead of dropping the other instance's longer trip", async () => {
    const [a, b] = tableStores();
    await a.readTrips(signal());
    await b.readTrips(signal());
    await b.writeTrip(trip(now + 60_000, "b"), signal());
    // a's ETag is stale now: its write gets 412, re-reads, and sees b's longer trip.
    await a.writeTrip(trip(now + 10_000, "a"), signal());
    expect(a.counts.conflicts).toBe(1);
    expect(findTrip(await b.readTrips(signal()), "eastus", wholeBackend)).toEqual(trip(now + 60_000, "b"));
  });

  it("re-reads and merges on 412 so both instances' trips of different backends survive", async () => {
    const [a, b] = tableStores();
    await a.readTrips(signal());
    await b.writeTrip(trip(now + 20_000, "b", wholeBackend, "westus"), signal());
    await a.writeTrip(trip(now + 30_000, "a"), signal());
    expect(a.counts.conflicts).toBe(1);
    expect((await b.readTrips(signal())).map((t) => t.backend).sort()).toEqual(["eastus", "westus"]);
  });

  it("creates its table when missing and needs one request per refresh read", async () => {
    const [a] = tableStores();
    await a.readTrips(signal());
    const before = a.counts.requests;
    await a.readTrips(signal());
    await a.readTrips(signal());
    expect(a.counts.requests - before).toBe(2);
  });
});
