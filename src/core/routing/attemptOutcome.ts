// What one attempt's result means for the call, as a pure decision the forwarding loop acts on:
// serve the answer, fail over (recording a failure against the backend, or not), or stop because
// the caller left. Tested without sockets in forwarder.test.ts.

import { type Failure, isFailureStatus, reasonForStatus } from "../breakers/breaker";
import { retryAfter } from "../breakers/retryAfter";
import type { CircuitBreakerConfig } from "../config/config";
import type { IncomingHeaders } from "../request/exchange";
import type { UpstreamFailureKind } from "./upstream";

export type AttemptResult =
  | { kind: "response"; status: number; headers: IncomingHeaders }
  | { kind: "noResponse"; failure: UpstreamFailureKind; message: string }
  /** Our own identity could not produce a credential for the backend. */
  | { kind: "credentialError"; message: string };

export type AttemptDecision =
  | { action: "serve" }
  | { action: "abort" }
  /** Move on to the next candidate; `failure` counts against the backend's breaker, `undefined` does not. */
  | { action: "failOver"; failure: Failure | undefined; detail: string | undefined };

/**
 * A backend's "this object is not here": 404, or 400 `previous_response_not_found` (what Azure
 * answers a Responses call whose previous response another resource holds).
 */
export function isNotFoundAnswer(status: number, body: Uint8Array): boolean {
  if (status === 404) return true;
  if (status !== 400) return false;
  try {
    const code: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"))?.error?.code;
    return code === "previous_response_not_found";
  } catch {
    return false;
  }
}

export function judgeAttempt(result: AttemptResult, policy: CircuitBreakerConfig, callerGone: boolean, now: number): AttemptDecision {
  if (callerGone) return { action: "abort" };
  switch (result.kind) {
    case "credentialError":
      // Our identity failed, not the backend: another backend may use another identity or a key.
      return { action: "failOver", failure: undefined, detail: result.message };
    case "noResponse":
      if (result.failure === "aborted") return { action: "abort" };
      return { action: "failOver", failure: { reason: result.failure }, detail: result.message };
    case "response": {
      if (!isFailureStatus(result.status, policy)) return { action: "serve" };
      const wait = retryAfter(result.headers, now);
      return {
        action: "failOver",
        failure: {
          reason: reasonForStatus(result.status),
          status: result.status,
          retryAfterMs: wait?.ms,
          retryAfterPrecise: wait?.precise,
        },
        detail: undefined,
      };
    }
  }
}
