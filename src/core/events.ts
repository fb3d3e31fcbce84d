// What the core reports; hosts decide how to log it (pino, the Functions invocation context, the demo view).

import type { FailureReason } from "./breaker";

export interface BreakerOpened {
  backend: string;
  openUntil: number;
  reason: FailureReason;
  status: number | undefined;
  /** `local`: this instance saw the failure; `shared`: learned from the state store. */
  source: "local" | "shared";
}

export interface AttemptFailed {
  backend: string;
  attempt: number;
  reason: FailureReason | "credentialError";
  status: number | undefined;
  detail: string | undefined;
}

/** What happened to one call, for its log line; never bodies or keys. Travels on the response. */
export interface CallSummary {
  method: string;
  /** Path without the query string (which may carry secrets in some clients). */
  path: string;
  status: number;
  servedBy: string | undefined;
  attempts: number;
  /** Time to response headers, ms. */
  latencyMs: number;
  outcome: "served" | "exhausted" | "rejected" | "aborted";
}

export interface RouterEvents {
  breakerOpened?(event: BreakerOpened): void;
  attemptFailed?(event: AttemptFailed): void;
  /** A bug or an unexpected failure, answered with an opaque 500. */
  unexpectedError?(error: unknown): void;
}
