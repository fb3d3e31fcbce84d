// Which backend takes the next attempt: the lowest priority group with a backend that can take it,
// then a weighted draw within that group. Randomness is a parameter so tests fix the draws.

import type { Random } from "./clock";

export interface Candidate {
  /** Index of the backend in the configuration. */
  readonly index: number;
  readonly weight: number;
}

/** Candidates grouped by priority, lowest priority first. Built once at start-up. */
export type PriorityGroups = readonly (readonly Candidate[])[];

export function groupByPriority(backends: readonly { priority: number; weight: number }[]): PriorityGroups {
  const byPriority = new Map<number, Candidate[]>();
  backends.forEach((backend, index) => {
    const group = byPriority.get(backend.priority) ?? [];
    group.push({ index, weight: backend.weight });
    byPriority.set(backend.priority, group);
  });
  return [...byPriority.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/**
 * The index of the backend to try, or `undefined` when no backend passes `canTake`.
 * Allocates nothing: it runs once per attempt on the request path.
 */
export function pickBackend(groups: PriorityGroups, canTake: (index: number) => boolean, random: Random): number | undefined {
  for (const group of groups) {
    let total = 0;
    for (const c of group) if (canTake(c.index)) total += c.weight;
    if (total === 0) continue;
    let draw = random() * total;
    let last: number | undefined;
    for (const c of group) {
      if (!canTake(c.index)) continue;
      last = c.index;
      draw -= c.weight;
      if (draw < 0) return c.index;
    }
    // Floating-point leftovers when random() is just below 1.
    return last;
  }
  return undefined;
}
