import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { StallWatch } from "./stallWatch";

afterEach(() => vi.useRealTimers());

describe("StallWatch", () => {
  it("ends a body that sends nothing for the stall time, on the clock it is given", () => {
    const clock = fakeClock();
    const watch = new StallWatch({ stallMs: 1_000, clock });
    let stalled = 0;
    const body = watch.watch(() => stalled++);
    clock.advance(900);
    body.touch(100_000);
    clock.advance(900);
    watch.check();
    expect(stalled).toBe(0);
    clock.advance(200);
    watch.check();
    expect(stalled).toBe(1);
  });

  it("ends a trickle below the slowest rate once the grace has passed, though it never stalls", () => {
    const clock = fakeClock();
    const watch = new StallWatch({ stallMs: 30_000, minBytesPerSecond: 1024, graceMs: 10_000, clock });
    let trickle = 0;
    let steady = 0;
    const slow = watch.watch(() => trickle++);
    const fast = watch.watch(() => steady++);
    for (let s = 0; s < 12; s += 3) {
      clock.advance(3_000);
      slow.touch(1);
      fast.touch(4 * 1024);
      watch.check();
    }
    expect(trickle).toBe(1);
    expect(steady).toBe(0);
  });

  it("forgets bodies that are done", () => {
    const clock = fakeClock();
    const watch = new StallWatch({ stallMs: 1_000, clock });
    let stalled = 0;
    watch.watch(() => stalled++).done();
    clock.advance(5_000);
    watch.check();
    expect(stalled).toBe(0);
  });
});
