// What the failover loop takes and gives back: one call as the admission steps made it ready, and
// the answer with the call's record beside it.

import type { CallCost } from "./callCost";
import type { CallDeployment } from "./callDeployment";
import type { CapacityGate } from "./capacity/capacityGate";
import type { CallSummary } from "./events";
import type { CallerSignal, IncomingHeaders, RouterResponse } from "./http";
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
  };
}
