// The router's own answer when no candidate can take a call: 429 when every one is throttled, else
// 503, with Retry-After until the soonest returns — judged over the call's candidates only (the owner
// alone, when the call is bound to it), leaving out those that answered "not found".

import { type BreakerBoard, secondsUntil } from "../breakers/breakerBoard";
import { errorResponse } from "../request/errors";
import type { RouterResponse } from "../request/exchange";
import type { PriorityGroups } from "./selection";

export function exhaustedAnswer(
  board: BreakerBoard,
  over: {
    candidates: PriorityGroups;
    callName: string | undefined;
    /** Backends to leave out (they answered "not found"), by index. */
    skip: Uint8Array | undefined;
    /** Backends that answered 429 during this call, by index. */
    throttledNow: Uint8Array;
    ownerBound: boolean;
    attempts: number;
    now: number;
  },
): RouterResponse {
  const { now } = over;
  let allThrottled = true;
  let soonest = Number.POSITIVE_INFINITY;
  for (const group of over.candidates) {
    for (const c of group) {
      if (over.skip?.[c.index] === 1) continue;
      const target = c.deployment ?? over.callName;
      if (over.throttledNow[c.index] !== 1 && !board.throttled(c.index, target, now)) allThrottled = false;
      soonest = Math.min(soonest, board.openUntil(c.index, target, now));
    }
  }
  const seconds = secondsUntil(Number.isFinite(soonest) ? soonest : now, now);
  const headers = { "retry-after": String(seconds), "x-router-attempts": String(over.attempts) };
  // Bound to the one resource that holds its object: say so, rather than "every backend".
  const who = over.ownerBound ? "The backend that holds this object" : undefined;
  return allThrottled
    ? errorResponse(
        "TooManyRequests",
        `${who ? `${who} is` : "Every backend that serves this call is"} throttled. Retry after ${seconds} seconds.`,
        headers,
      )
    : errorResponse(
        "NoBackendAvailable",
        `${who ?? "No backend"} can${who ? "not" : ""} take the request now. Retry after ${seconds} seconds.`,
        headers,
      );
}
