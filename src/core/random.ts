// Randomness as a parameter, so weighted selection and jitter are tested exactly with a seeded source.

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

export const systemRandom: Random = Math.random;
