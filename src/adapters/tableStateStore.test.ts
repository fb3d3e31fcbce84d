import { describe, expect, it } from "vitest";
import { decodeTrips } from "../core/breakers/tripCodec";
import type { TripRecord } from "../core/breakers/tripStore";
import { encodeWithin } from "./tableStateStore";

const now = 1_700_000_000_000;
const long = "x".repeat(64);

describe("encodeWithin", () => {
  it("leaves out the trips ending soonest rather than cut the text, so the row always decodes", () => {
    const trips: TripRecord[] = Array.from({ length: 600 }, (_, i) => ({
      backend: `${long.slice(0, 60)}${i % 30}`,
      scope: `${long.slice(0, 60)}${Math.floor(i / 30)}`,
      openUntil: now + 1_000 * (i + 1),
      trippedAt: now,
      reason: "throttled",
      lastStatus: 429,
      instance: "i".repeat(40),
    }));
    const text = encodeWithin(trips, 30_000, 3_600_000);
    expect(text.length).toBeLessThanOrEqual(30_000);
    const { trips: kept, dropped } = decodeTrips(text, now);
    expect(dropped).toBe(0);
    expect(kept.length).toBeGreaterThan(100);
    // The ones kept are those that last longest.
    expect(Math.min(...kept.map((t) => t.openUntil))).toBeGreaterThan(Math.max(...trips.map((t) => t.openUntil)) - kept.length * 1_000);
  });

  it("encodes as is when the trips fit", () => {
    const trip: TripRecord = {
      backend: "a",
      scope: "*",
      openUntil: now + 1,
      trippedAt: now,
      reason: "timeout",
      lastStatus: undefined,
      instance: "i",
    };
    expect(decodeTrips(encodeWithin([trip], 30_000, 60_000), now).trips).toEqual([trip]);
  });
});
