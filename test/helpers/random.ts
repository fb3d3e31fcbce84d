// Randomness and time for tests: the seeded generator the capacity grid uses, and a clock that moves only when told.

export { seededRandom } from "../../src/simulator/seededRandom";

/** A clock that moves only when told; starts at a realistic epoch time, never 0. */
export function fakeClock(start = 1_700_000_000_000): { now(): number; advance(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}
