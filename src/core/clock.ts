// Time as a parameter, so breaker, limit and capacity logic is tested exactly on a fake clock.

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
