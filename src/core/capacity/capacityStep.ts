// Capacity admission's two places in the failover loop: before an attempt (is the candidate's
// deployment expected to admit the call? if not, and another candidate can take it, it is passed
// over) and after it (what the deployment's answer teaches its gate).

import type { Failure } from "../breakers/breaker";
import { type CallCost, estimateCallParts } from "../clients/callCost";
import type { Clock } from "../clock";
import type { AttemptPlan } from "../routing/attemptPlan";
import type { Candidate, PriorityGroups } from "../routing/selection";
import type { CapacityBoard } from "./capacityBoard";

/** What capacity admission reads and keeps of a call in the loop. */
export interface CapacityCallState {
  /** What the cost estimate reads of the call. */
  call: { method: string; path: string; body: Uint8Array | undefined };
  plan: AttemptPlan;
  /** The call's estimated cost, worked out when a gate first asks for it. */
  cost: CallCost | undefined;
  /** Candidates passed over (not attempts). */
  skipped: number;
  /** What the gate of the candidate last sent the call charged it. */
  charged: number | undefined;
}

/**
 * Whether the call goes to this candidate as far as its deployment's capacity goes: yes with room,
 * after a wait within `waitUpTo`, for an owner-bound call or a probe, or when no other candidate is
 * left; otherwise it is passed over (a skip, not an attempt). A call sent is charged to the gate.
 */
export async function hasRoom(
  deps: { capacity: CapacityBoard; clock: Clock; sleep: ((ms: number) => Promise<void>) | undefined },
  state: CapacityCallState,
  to: { index: number; target: string | undefined; canTake: (c: Candidate) => boolean },
): Promise<boolean> {
  const { capacity, clock } = deps;
  const gate = capacity.gate(to.index, to.target);
  if (!gate) return true;
  const { call } = state;
  state.cost ??= estimateCallParts(call.method, call.path, call.body);
  const tokens = gate.tokensFor(state.cost);
  state.charged = tokens;
  const now = clock.now();
  if (state.plan.kind !== "failover" || !hasCandidate(state.plan.candidates, to.canTake)) {
    // Never the last candidate, never an owner-bound call or a probe: sent, and its answer stands.
    gate.send(tokens, now);
    return true;
  }
  if (gate.take(tokens, now)) return true;
  const wait = gate.waitMs(tokens, now);
  if (wait !== undefined) {
    await (deps.sleep ?? sleep)(wait);
    if (gate.take(tokens, clock.now())) return true;
  }
  state.skipped++;
  state.charged = undefined;
  return false;
}

/**
 * A call the deployment did not take: a refusal with a delay to the millisecond teaches its gate
 * (and makes one); anything else (an error, Azure's own spillover) only takes the call's charge back.
 */
export function capacityLearns(
  capacity: CapacityBoard,
  state: CapacityCallState,
  to: { index: number; target: string | undefined; failure: Failure | undefined },
): void {
  const { failure } = to;
  if (failure?.status === 429 && failure.retryAfterPrecise && failure.retryAfterMs !== undefined) {
    state.cost ??= estimateCallParts(state.call.method, state.call.path, state.call.body);
    capacity.refused(to.index, to.target, { cost: state.cost, charged: state.charged, delayMs: failure.retryAfterMs });
    state.charged = undefined;
    return;
  }
  if (state.charged !== undefined) capacity.gate(to.index, to.target)?.release(state.charged);
  state.charged = undefined;
}

/** Some candidate of `groups` can still take the call. */
function hasCandidate(groups: PriorityGroups, canTake: (c: Candidate) => boolean): boolean {
  for (const group of groups) for (const c of group) if (canTake(c)) return true;
  return false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
