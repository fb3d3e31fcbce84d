// One contract suite for every StateStore implementation (memory and Table Storage on Azurite).

import { describe, expect, it } from "vitest";
import type { StateStore, TripRecord } from "../../src/core/stateStore";

const now = Date.now();
const signal = () => new AbortController().signal;

function trip(openUntil: number, instance = "i-1"): TripRecord {
  return { openUntil, trippedAt: now, reason: "throttled", lastStatus: 429, instance };
}

/** `make` returns two clients of one fresh shared store (two instances on one table). */
export function stateStoreContract(name: string, make: () => Promise<[StateStore, StateStore]>): void {
  describe(`${name} (StateStore contract)`, () => {
    it("reads no trips from an empty store", async () => {
      const [a] = await make();
      expect(await a.readTrips(signal())).toEqual({});
    });

    it("returns a written trip to every client", async () => {
      const [a, b] = await make();
      await a.writeTrip("eastus", trip(now + 30_000), signal());
      expect((await b.readTrips(signal())).eastus).toEqual(trip(now + 30_000));
      expect((await a.readTrips(signal())).eastus).toEqual(trip(now + 30_000));
    });

    it("keeps the longer trip when a shorter one is written later", async () => {
      const [a, b] = await make();
      await a.writeTrip("eastus", trip(now + 60_000, "a"), signal());
      await b.writeTrip("eastus", trip(now + 10_000, "b"), signal());
      expect((await a.readTrips(signal())).eastus?.openUntil).toBe(now + 60_000);
      await b.writeTrip("eastus", trip(now + 90_000, "b"), signal());
      expect((await a.readTrips(signal())).eastus).toEqual(trip(now + 90_000, "b"));
    });

    it("keeps every backend's trip when clients write different backends", async () => {
      const [a, b] = await make();
      await a.readTrips(signal());
      await b.writeTrip("westus", trip(now + 20_000, "b"), signal());
      await a.writeTrip("eastus", trip(now + 30_000, "a"), signal());
      const trips = await b.readTrips(signal());
      expect(Object.keys(trips).sort()).toEqual(["eastus", "westus"]);
    });

    it("settles concurrent trips of one backend on the longest", async () => {
      const [a, b] = await make();
      const lengths = [5_000, 50_000, 20_000, 45_000, 10_000, 30_000];
      await Promise.all(lengths.map((ms, i) => (i % 2 === 0 ? a : b).writeTrip("eastus", trip(now + ms, `w${i}`), signal())));
      expect((await a.readTrips(signal())).eastus?.openUntil).toBe(now + 50_000);
    });

    it("drops trips that are over when it next writes", async () => {
      const [a, b] = await make();
      await a.writeTrip("old", trip(now - 1_000), signal());
      await a.writeTrip("eastus", trip(now + 30_000), signal());
      expect(Object.keys(await b.readTrips(signal()))).toEqual(["eastus"]);
    });
  });
}
