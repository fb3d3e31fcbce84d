// Which backend takes the next attempt: the lowest priority group with a candidate that can take
// it, then a weighted draw within that group. Randomness is a parameter so tests fix the draws.

import type { Random } from "../random";

export interface Candidate {
  /** Index of the backend in the configuration. */
  readonly index: number;
  readonly weight: number;
  /** The deployment's name at this backend; `undefined`: the call's own name, unchanged (or none). */
  readonly deployment: string | undefined;
}

/** Candidates grouped by priority, lowest priority first. Built once at start-up. */
export type PriorityGroups = readonly (readonly Candidate[])[];

export function groupByPriority(candidates: readonly (Candidate & { readonly priority: number })[]): PriorityGroups {
  const byPriority = new Map<number, Candidate[]>();
  for (const { priority, ...candidate } of candidates) {
    const group = byPriority.get(priority) ?? [];
    group.push(candidate);
    byPriority.set(priority, group);
  }
  return [...byPriority.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/**
 * The candidate to try, or `undefined` when none passes `canTake`.
 * Allocates nothing: it runs once per attempt on the request path.
 */
export function pickBackend(groups: PriorityGroups, canTake: (candidate: Candidate) => boolean, random: Random): Candidate | undefined {
  for (const group of groups) {
    let total = 0;
    for (const c of group) if (canTake(c)) total += c.weight;
    if (total === 0) continue;
    let draw = random() * total;
    let last: Candidate | undefined;
    for (const c of group) {
      if (!canTake(c)) continue;
      last = c;
      draw -= c.weight;
      if (draw < 0) return c;
    }
    // Floating-point leftovers when random() is just below 1.
    return last;
  }
  return undefined;
}
