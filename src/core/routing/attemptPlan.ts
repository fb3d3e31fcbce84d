// Which backends one call may try, and how many times: the plan the failover loop follows. Three
// plans behind one shape, as a breaker policy keeps its variants behind one interface:
// - failover: the call's candidates, up to `retry.count + 1` attempts (a call on no stored object);
// - owner only: the one backend that holds the call's object, one attempt — or, when its record may
//   be wrong (read from the store, not a delete seen here), a probe of the others once it answers
//   "not found";
// - probe: the candidates asked in turn, each once, until one does not answer "not found" (an
//   object whose owner is unknown; "not found" there means "not here", and is no breaker failure).

import type { PriorityGroups } from "./selection";

export interface AttemptPlan {
  kind: "failover" | "ownerOnly" | "probe";
  /** The backends to pick from, by priority group. */
  candidates: PriorityGroups;
  maxAttempts: number;
  /** Whether a "not found" answer moves on to the next candidate (probing) instead of being the answer. */
  notFoundMovesOn: boolean;
  /** Owner only: a "not found" from the owner turns the plan into a probe of the other candidates. */
  thenProbe: boolean;
}

/**
 * The plan for a call with these candidates and, for a call on a stored object, its owner (`index`
 * unknown: probe; `thenProbe`: the owner's record may be wrong).
 */
export function attemptPlan(
  candidates: PriorityGroups,
  owner: { index: number | undefined; thenProbe?: boolean } | undefined,
  retryCount: number,
): AttemptPlan {
  if (owner === undefined) return { kind: "failover", candidates, maxAttempts: retryCount + 1, notFoundMovesOn: false, thenProbe: false };
  if (owner.index !== undefined) {
    const thenProbe = owner.thenProbe === true;
    return { kind: "ownerOnly", candidates: ownerOnly(candidates, owner.index), maxAttempts: 1, notFoundMovesOn: false, thenProbe };
  }
  return probePlan(candidates);
}

/** Each candidate asked once until one does not answer "not found". */
export function probePlan(candidates: PriorityGroups): AttemptPlan {
  return { kind: "probe", candidates, maxAttempts: countCandidates(candidates), notFoundMovesOn: true, thenProbe: false };
}

/** The owner's own candidate entry (its name for the deployment), or the owner as it is. */
function ownerOnly(groups: PriorityGroups, index: number): PriorityGroups {
  for (const group of groups) for (const c of group) if (c.index === index) return [[c]];
  return [[{ index, weight: 1, deployment: undefined }]];
}

/** How many backends the groups hold. */
export function countCandidates(groups: PriorityGroups): number {
  let n = 0;
  for (const group of groups) n += group.length;
  return n;
}
