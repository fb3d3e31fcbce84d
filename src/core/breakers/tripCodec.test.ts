import { describe, expect, it } from "vitest";
import { decodeTrips, encodeTrips, maxClockSkewMs } from "./tripCodec";
import type { TripRecord } from "./tripStore";

const now = 1_700_000_000_000;
const good: TripRecord = {
  backend: "eastus",
  scope: "gpt-4o",
  openUntil: now + 30_000,
  trippedAt: now,
  reason: "throttled",
  lastStatus: 429,
  instance: "host-1",
};

describe("trip codec", () => {
  it("round-trips trips of every scope", () => {
    const trips: TripRecord[] = [good, { ...good, scope: "*", lastStatus: undefined, reason: "connectionError" }, { ...good, scope: "" }];
    expect(decodeTrips(encodeTrips(trips), now)).toEqual({ trips, dropped: 0 });
  });

  it("drops every entry that fails the schema and keeps the rest", () => {
    const row = JSON.stringify([
      null,
      "eastus",
      ["constructor", "*", now + 1, now, "throttled", 429, "x"],
      ["__proto__", "*", now + 1, now, "throttled", 429, "x"],
      ["eastus", "*", 9e99, now, "throttled", 429, "x"],
      ["eastus", "*", now + 1, now, "x".repeat(30_000), 429, "x"],
      ["eastus", "*", now + 1, now, "throttled", 429, "y".repeat(30_000)],
      ["eastus", "../admin", now + 1, now, "throttled", 429, "x"],
      ["eastus", "*", now + 1, now + maxClockSkewMs + 1, "throttled", 429, "x"],
      ["eastus", "*", now, now + 1, "throttled", 429, "x"],
      ["eastus", "*", "soon", now, "throttled", 429, "x"],
      ["eastus", "*", now + 1, now, "throttled", 429, "x", "extra"],
      [good.backend, good.scope, good.openUntil, good.trippedAt, good.reason, good.lastStatus, good.instance],
    ]);
    const { trips, dropped } = decodeTrips(row, now);
    expect(trips.map((t) => t.backend)).toEqual(["constructor", "__proto__", "eastus"]);
    expect(trips[2]).toEqual(good);
    expect(dropped).toBe(10);
  });

  it("reads a row that is not a JSON array as no trips, counted as one bad entry", () => {
    expect(decodeTrips('{"eastus":{"openUntil":1}}', now)).toEqual({ trips: [], dropped: 1 });
    expect(decodeTrips("not json", now)).toEqual({ trips: [], dropped: 1 });
    expect(decodeTrips(undefined, now)).toEqual({ trips: [], dropped: 0 });
  });
});
