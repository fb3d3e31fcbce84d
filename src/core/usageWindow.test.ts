import { describe, expect, it } from "vitest";
import { secondsUntilRoom, slidingUsage, windowOf } from "./usageWindow";

const minute = 60_000;
const at = (window: number, seconds: number) => window * minute + seconds * 1000;

describe("sliding minute", () => {
  it("weights the previous window by the part of it still inside the last 60 s", () => {
    expect(slidingUsage(100, 10, at(5, 0))).toBe(110);
    expect(slidingUsage(100, 10, at(5, 15))).toBe(85);
    expect(slidingUsage(100, 10, at(5, 45))).toBe(35);
    expect(windowOf(at(5, 59.999))).toBe(5);
    expect(windowOf(at(6, 0))).toBe(6);
  });

  it("says how long until there is room: within the window as the previous one fades", () => {
    // previous 60, current 0, limit 60: full at second 0; room for one more once 60 × (1 − t/60) ≤ 59, t ≥ 1 s.
    expect(secondsUntilRoom(60, 0, 60, 1, at(5, 0))).toBe(1);
    // previous 60, current 30, limit 60: need 60(1 − t/60) ≤ 29 → t ≥ 31 s; at 10 s that is 21 s away.
    expect(secondsUntilRoom(60, 30, 60, 1, at(5, 10))).toBe(21);
  });

  it("and past the window's end when the current window alone is over the limit", () => {
    // current 60 of 60 at second 50: next window starts in 10 s, then 60(1 − t/60) ≤ 59 → 1 s more.
    expect(secondsUntilRoom(0, 60, 60, 1, at(5, 50))).toBe(11);
    // A token budget spent twice over by one huge call: the wait runs well into the next window.
    expect(secondsUntilRoom(0, 2000, 1000, 0, at(5, 0))).toBe(90);
    // Never 0: the caller is told to wait at least a second.
    expect(secondsUntilRoom(0, 0, 1, 1, at(5, 30))).toBe(1);
  });
});
