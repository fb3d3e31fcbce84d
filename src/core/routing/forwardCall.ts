// What the failover loop takes and gives back: one call as the admission steps made it ready, and
// the answer with the call's record beside it.

import type { CapacityBoard } from "../capacity/capacityBoard";
import type { CapacityGate } from "../capacity/capacityGate";
import type { CallCost } from "../clients/callCost";
import type { CallSummary } from "../events";
import type { CallDeployment } from "../request/callDeployment";
import type { CallerSignal, IncomingHeaders, RouterResponse } from "../request/exchange";
import type { PriorityGroups } from "./selection";

export interface ForwardCall {
  method: string;
  /** Path and query as the caller sent them. */
  url: string;
  /** The path alone (the router has split it off already), for the call's log line. */
  path: string;
  headers: IncomingHeaders;
  body: Uint8Array | undefined;
  signal: CallerSignal | undefined;
  /** The caller's deployment, when the call names one. */
  deployment: CallDeployment | undefined;
  /** The backends that serve it (every backend for a call with no deployment). */
  candidates: PriorityGroups;
  /**
   * Set for a call on a stored object. `index` known: only its owner is tried (no other resource
   * has the object); with `thenProbe`, the others are asked when it answers "not found" (its
   * record was wrong). Unknown: the candidates are asked in turn, each once, until one does not
   * answer "not found"; such an answer is no breaker failure.
   */
  owner?: { index: number | undefined; thenProbe?: boolean };
  /** The call's estimated cost, when admission already worked it out (a client with a token limit). */
  cost?: CallCost;
}

/** The answer, and the call's record for the host's log line beside it. */
export interface ForwardResult {
  response: RouterResponse;
  summary: CallSummary;
  /** The backend and deployment that answered, so a body that breaks later counts against them. */
  served?: {
    index: number;
    deployment: string | undefined;
    /** The gate of the deployment that served, and what the call was charged there: settled when the call's usage is known. */
    capacity?: CapacityGate | undefined;
    cost?: CallCost;
    /** What the gate charged the call when it was sent. */
    charged?: number;
  };
}

/** Who served the call: the backend's index and name, the deployment's name there, and Azure's spillover. */
export interface Served {
  index: number;
  name: string;
  deployment: string | undefined;
  spilledFrom: string | undefined;
}

/** How a call ended in the loop. */
export interface CallEnd {
  outcome: CallSummary["outcome"];
  response: RouterResponse;
  served?: Served;
  /** Logged instead of the response's status (499 for a caller that left). */
  loggedStatus?: number;
}

/** The answer and the call's summary, built once, with named fields. */
export function callResult(
  state: { call: ForwardCall; attempts: number; skipped: number; started: number; cost: CallCost | undefined; charged: number | undefined },
  end: CallEnd,
  at: { capacity: CapacityBoard | undefined; now: number },
): ForwardResult {
  const { call } = state;
  const { served, response } = end;
  return {
    response,
    served: served && {
      index: served.index,
      deployment: served.deployment,
      ...(state.cost && state.charged !== undefined && served.spilledFrom === undefined
        ? { capacity: at.capacity?.gate(served.index, served.deployment), cost: state.cost, charged: state.charged }
        : {}),
    },
    summary: {
      method: call.method,
      path: call.path,
      status: end.loggedStatus ?? response.status,
      deployment: call.deployment?.name,
      backend: served?.name,
      servedDeployment: served?.deployment,
      ...(served?.spilledFrom !== undefined ? { spilledFrom: served.spilledFrom } : {}),
      attempts: state.attempts,
      ...(state.skipped > 0 ? { capacitySkips: state.skipped } : {}),
      latencyMs: at.now - state.started,
      outcome: end.outcome,
    },
  };
}
