// Time and randomness as parameters, so breaker and selection logic is tested exactly.

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = Math.random;
