// One contract suite for every StateStore implementation (memory and Table Storage on Azurite).

import { describe, expect, it } from "vitest";
import { findTrip, type SharedTrips, type TripRecord, wholeBackend } from "../../src/core/breakers/tripStore";
import type { SharedStore } from "../../src/core/shared/sharedStore";

const now = Date.now();
const signal = () => new AbortController().signal;

/** The cap the stores under test were made with (`maxTripMs`). */
export const contractMaxTripMs = 300_000;

export function trip(openUntil: number, instance = "i-1", scope = wholeBackend, backend = "eastus", trippedAt = now): TripRecord {
  return { backend, scope, openUntil, trippedAt, reason: "throttled", lastStatus: 429, instance };
}

const keys = (trips: SharedTrips) => trips.map((t) => `${t.backend}/${t.scope}`).sort();

/** `make` returns two clients of one fresh shared store (two instances on one table). */

export function stateStoreContract(name: string, make: () => Promise<[SharedStore, SharedStore]>): void {
  describe(`${name} (StateStore contract)`, () => {
    it("adds every instance's client usage per bucket, each add landing on top of the other's, older buckets dropped", async () => {
      const [a, b] = await make();
      const bucket = 345_600_000;
      expect(await a.readUsage("chat-app", signal())).toEqual([]);
      await a.addUsage("chat-app", [{ bucket, requests: 3, tokens: 30 }], signal());
      await b.addUsage(
        "chat-app",
        [
          { bucket, requests: 2, tokens: 20 },
          { bucket: bucket + 1, requests: 1, tokens: 1 },
        ],
        signal(),
      );
      // A's next add starts from the version it wrote: it must still land on top of B's.
      expect(await a.addUsage("chat-app", [{ bucket: bucket + 1, requests: 1, tokens: -1 }], signal())).toEqual([
        { bucket, requests: 5, tokens: 50 },
        { bucket: bucket + 1, requests: 2, tokens: 0 },
      ]);
      expect(await b.readUsage("chat-app", signal())).toEqual([
        { bucket, requests: 5, tokens: 50 },
        { bucket: bucket + 1, requests: 2, tokens: 0 },
      ]);
      expect(await b.readUsage("other-app", signal())).toEqual([]);
      // Thirteen buckets on, the old ones are out of every window: dropped, not summed.
      expect(await b.addUsage("chat-app", [{ bucket: bucket + 13, requests: 1, tokens: 0 }], signal())).toEqual([
        { bucket: bucket + 1, requests: 2, tokens: 0 },
        { bucket: bucket + 13, requests: 1, tokens: 0 },
      ]);
    });

    it("counts each instance present once per slot, and the slot before", async () => {
      const [a, b] = await make();
      const slot = 57_600_000;
      expect(await a.readPresence(slot, signal())).toEqual({ current: 0, previous: 0 });
      await a.checkIn("instance-a", slot, signal());
      await b.checkIn("instance-b", slot, signal());
      expect(await b.readPresence(slot, signal())).toEqual({ current: 2, previous: 0 });
      await a.checkIn("instance-a", slot + 1, signal());
      expect(await b.readPresence(slot + 1, signal())).toEqual({ current: 1, previous: 2 });
    });

    it("shares owner records: written by one client, read by the other, deleted, many at once", async () => {
      const [a, b] = await make();
      const ids = Array.from({ length: 30 }, (_, i) => `resp_${i}${Math.random().toString(36).slice(2, 8)}`);
      await a.writeOwners(
        ids.map((id, i) => ({ id, backend: i % 2 === 0 ? "eastus" : "westus", creator: i === 0 ? "team-a" : undefined })),
        signal(),
      );
      expect(await b.readOwner(ids[0] as string, signal())).toEqual({ backend: "eastus", creator: "team-a" });
      expect((await b.readOwner(ids[1] as string, signal()))?.creator).toBeUndefined();
      expect((await b.readOwner(ids[29] as string, signal()))?.backend).toBe("westus");
      expect(await b.readOwner("resp_never", signal())).toBeUndefined();
      await b.writeOwners(
        [
          { id: ids[0] as string, backend: undefined },
          { id: "file-never", backend: undefined },
        ],
        signal(),
      );
      expect(await a.readOwner(ids[0] as string, signal())).toBeUndefined();
    });

    it("counts instances checking in at the same moment, each once (conflicting writes re-read and add again)", async () => {
      const [a, b] = await make();
      const slot = 57_600_100;
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).checkIn(`instance-${i}`, slot, signal())));
      expect((await a.readPresence(slot, signal())).current).toBe(6);
    });

    it("keeps each client's index of the objects it created, read whole in one call", async () => {
      const [a, b] = await make();
      const client = `team${Math.random().toString(36).slice(2, 8)}`;
      expect([...(await b.readCreated(client, signal()))]).toEqual([]);
      await a.writeCreated(client, ["file-1", "batch_2"], signal());
      await b.writeCreated(client, ["file-3"], signal());
      await a.writeCreated(`${client}x`, ["file-9"], signal());
      expect([...(await b.readCreated(client, signal()))].sort()).toEqual(["batch_2", "file-1", "file-3"]);
    });

    it("shares paces of throttling deployments: one per backend and deployment, the later replacing the earlier, both clients' kept", async () => {
      const [a, b] = await make();
      expect(await a.readPaces(signal())).toEqual([]);
      const pace = { backend: "eastus", deployment: "gpt-4o-ptu", tokensPerMinute: 300_000, at: now, instance: "i-1" };
      await a.writePace(pace, signal());
      await b.writePace({ ...pace, deployment: "", tokensPerMinute: 90_000, instance: "i-2" }, signal());
      // A writes from the version it last saw: B's entry must survive it.
      await a.writePace({ ...pace, tokensPerMinute: 280_000, at: now + 1 }, signal());
      const shared = await b.readPaces(signal());
      expect(shared.map((p) => [p.deployment, p.tokensPerMinute, p.instance]).sort()).toEqual([
        ["", 90_000, "i-2"],
        ["gpt-4o-ptu", 280_000, "i-1"],
      ]);
    });

    it("reads no trips from an empty store", async () => {
      const [a] = await make();
      expect(await a.readTrips(signal())).toEqual([]);
    });

    it("returns a written trip to every client", async () => {
      const [a, b] = await make();
      await a.writeTrip(trip(now + 30_000), signal());
      expect(await b.readTrips(signal())).toEqual([trip(now + 30_000)]);
      expect(await a.readTrips(signal())).toEqual([trip(now + 30_000)]);
    });

    it("keeps the longer trip when a shorter one is written later", async () => {
      const [a, b] = await make();
      await a.writeTrip(trip(now + 60_000, "a"), signal());
      await b.writeTrip(trip(now + 10_000, "b"), signal());
      expect(findTrip(await a.readTrips(signal()), "eastus", wholeBackend)?.openUntil).toBe(now + 60_000);
      await b.writeTrip(trip(now + 90_000, "b"), signal());
      expect(findTrip(await a.readTrips(signal()), "eastus", wholeBackend)).toEqual(trip(now + 90_000, "b"));
    });

    it("keeps every backend's and every deployment's trip when clients write different ones", async () => {
      const [a, b] = await make();
      await a.readTrips(signal());
      await b.writeTrip(trip(now + 20_000, "b", wholeBackend, "westus"), signal());
      await a.writeTrip(trip(now + 30_000, "a", "gpt-4o"), signal());
      await a.writeTrip(trip(now + 40_000, "a", "embeddings"), signal());
      await b.writeTrip(trip(now + 50_000, "b", ""), signal());
      expect(keys(await b.readTrips(signal()))).toEqual(["eastus/", "eastus/embeddings", "eastus/gpt-4o", "westus/*"]);
    });

    it("settles concurrent trips of one backend and deployment on the longest", async () => {
      const [a, b] = await make();
      const lengths = [5_000, 50_000, 20_000, 45_000, 10_000, 30_000];
      await Promise.all(lengths.map((ms, i) => (i % 2 === 0 ? a : b).writeTrip(trip(now + ms, `w${i}`, "gpt-4o"), signal())));
      expect(findTrip(await a.readTrips(signal()), "eastus", "gpt-4o")?.openUntil).toBe(now + 50_000);
    });

    it("drops trips that are over when it next writes", async () => {
      const [a, b] = await make();
      await a.writeTrip(trip(now - 1_000, "i-1", wholeBackend, "old"), signal());
      await a.writeTrip(trip(now + 30_000), signal());
      expect(keys(await b.readTrips(signal()))).toEqual(["eastus/*"]);
    });

    it("drops, when it writes, trips past their cap counted from their own start", async () => {
      const [a, b] = await make();
      // Says it lasts another 9e15 ms, but began longer ago than the cap allows.
      await a.writeTrip(trip(9e15, "liar", wholeBackend, "old", now - contractMaxTripMs - 1), signal());
      await a.writeTrip(trip(now + 30_000), signal());
      expect(keys(await b.readTrips(signal()))).toEqual(["eastus/*"]);
    });
  });
}
