// What the core reports; hosts decide how to log it (pino, the Functions invocation context, the demo view).

import type { FailureReason } from "./breakers/breaker";
import type { CloseEvent, TripEvent } from "./breakers/breakerBoard";

export interface AttemptFailed {
  backend: string;
  /** The deployment's name at that backend, when the call has one. */
  deployment: string | undefined;
  attempt: number;
  reason: FailureReason | "credentialError";
  status: number | undefined;
  detail: string | undefined;
}

/** No candidate could take a call: the router answered it 429 or 503 itself. */
export interface PoolExhausted {
  /** The caller's deployment name, when the call has one. */
  deployment: string | undefined;
  status: number;
  retryAfterSeconds: number;
  attempts: number;
}

/** What happened to one call, for its log line; never bodies or keys. */
export interface CallSummary {
  method: string;
  /** Path without the query string (which may carry secrets in some clients). */
  path: string;
  status: number;
  /** The caller's name for the deployment, when the call has one. */
  deployment: string | undefined;
  backend: string | undefined;
  /** The deployment's name at the backend that served. */
  servedDeployment: string | undefined;
  /**
   * Azure's own spillover: the answer came from the spillover deployment of this one (a PTU whose
   * overflow Azure sent on), as `x-ms-spillover-from-<deployment>` or `x-ms-spillover-from-deployment` said.
   */
  spilledFrom?: string;
  attempts: number;
  /** Candidates passed over, not tried, because their deployment was not expected to admit the call. */
  capacitySkips?: number;
  /** Time to response headers, ms. */
  latencyMs: number;
  /**
   * `served`; `exhausted` (the router's own 429/503); `rejected` (401/403/404/405/413/400);
   * `callerGone` (the caller left before its answer ended: never the backend's failure); `broken`
   * (the backend's body failed after the first byte, stalled, or a stream closed before its
   * terminal event); `streamError` (a 200 stream carried an SSE `error` event: the backend
   * answered, with an error); `notFound` (a call on a stored object that no candidate has).
   */
  outcome: "served" | "exhausted" | "rejected" | "callerGone" | "broken" | "streamError" | "notFound";
  /** Body bytes sent to the caller, once the body is done (streamed answers). */
  bytes?: number;
  /** The calling client's name (`default` for ROUTER_CLIENT_KEYS), once the key is known. */
  client?: string;
  /** Tokens the backend reported (or, marked `tokensEstimated`, the router's estimate for a stream without usage). */
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  tokensEstimated?: boolean;
  /** A cacheable call: answered from the cache (`hit`, no backend called) or by a backend (`miss`). */
  cache?: "hit" | "miss";
  /** A cache hit: the tokens the cached answer reported, which this call did not spend. */
  savedTokens?: number;
}

export interface RouterEvents {
  breakerOpened?(event: TripEvent): void;
  breakerClosed?(event: CloseEvent): void;
  attemptFailed?(event: AttemptFailed): void;
  poolExhausted?(event: PoolExhausted): void;
  /** A bug or an unexpected failure, answered with an opaque 500. */
  unexpectedError?(error: unknown): void;
}
