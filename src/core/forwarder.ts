// The forwarding loop: pick a backend, send, and on a breaker-worthy failure record it and move
// on at once to the next backend with the same bytes. Policies (selection, breaker, Retry-After)
// decide; this loop only acts on their decisions.

import { type FailureReason, isFailureStatus, reasonForStatus } from "./breaker";
import type { BreakerBoard } from "./breakerBoard";
import type { Clock, Random } from "./clock";
import type { RouterConfig } from "./config";
import type { BackendCredential } from "./credentials";
import { errorResponse } from "./errors";
import type { CallSummary, RouterEvents } from "./events";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";
import type { CallerSignal, IncomingHeaders, OutgoingHeaders, RouterResponse } from "./http";
import { retryAfterMs } from "./retryAfter";
import { type PriorityGroups, pickBackend } from "./selection";
import { type Upstream, UpstreamError, type UpstreamResponse } from "./upstream";

export interface ForwardCall {
  method: string;
  /** Path and query, forwarded unchanged. */
  url: string;
  /** The path alone (the router has split it off already), for the call's log line. */
  path: string;
  headers: IncomingHeaders;
  body: Uint8Array | undefined;
  signal: CallerSignal | undefined;
}

export interface ForwarderDeps {
  config: RouterConfig;
  board: BreakerBoard;
  groups: PriorityGroups;
  upstream: Upstream;
  credentials: readonly BackendCredential[];
  clock: Clock;
  random: Random;
  events: RouterEvents;
}

/** Status of a call whose caller went away; never written, only logged. */
const clientClosedRequest = 499;

export class Forwarder {
  constructor(private readonly deps: ForwarderDeps) {}

  async forward(call: ForwardCall): Promise<RouterResponse> {
    const { config, board, groups, upstream, credentials, clock, random, events } = this.deps;
    const backends = config.backends;
    const started = clock.now();
    const tried = new Uint8Array(backends.length);
    const throttled = new Uint8Array(backends.length);
    const baseHeaders = upstreamRequestHeaders(call.headers);
    const maxAttempts = config.retryCount + 1;
    let attempts = 0;
    let now = started;
    const canTake = (index: number): boolean => tried[index] === 0 && !board.isOpen(index, now);

    while (attempts < maxAttempts) {
      now = clock.now();
      const index = pickBackend(groups, canTake, random);
      if (index === undefined) break;
      const backend = backends[index];
      const credential = credentials[index];
      if (!backend || !credential) break;
      tried[index] = 1;
      attempts++;

      let headers: OutgoingHeaders = baseHeaders;
      try {
        // Cached credentials answer synchronously; awaiting only a real promise saves a tick per call.
        const pending = credential.authHeader();
        const auth = pending instanceof Promise ? await pending : pending;
        if (auth) headers = { ...baseHeaders, [auth[0]]: auth[1] };
      } catch (error) {
        // Our identity failed, not the backend: fail over without tripping its breaker.
        events.attemptFailed?.({
          backend: backend.name,
          attempt: attempts,
          reason: "credentialError",
          status: undefined,
          detail: messageOf(error),
        });
        continue;
      }

      let response: UpstreamResponse;
      try {
        response = await upstream.send(backend.origin, {
          method: call.method,
          path: backend.basePath + call.url,
          headers,
          body: call.body,
          signal: call.signal,
          headersTimeoutMs: config.attemptTimeoutMs,
        });
      } catch (error) {
        const kind = error instanceof UpstreamError ? error.kind : "connectionError";
        if (kind === "aborted" || call.signal?.aborted) {
          return this.finish(
            call,
            started,
            attempts,
            undefined,
            "aborted",
            errorResponse("InternalError", "The caller went away.", {}),
            clientClosedRequest,
          );
        }
        this.recordFailure(index, attempts, { reason: kind }, messageOf(error));
        continue;
      }

      if (isFailureStatus(response.status, config.circuitBreaker)) {
        const at = clock.now();
        const reason = reasonForStatus(response.status);
        if (response.status === 429) throttled[index] = 1;
        this.recordFailure(
          index,
          attempts,
          { reason, status: response.status, retryAfterMs: retryAfterMs(response.headers, at) },
          undefined,
        );
        response.discard();
        continue;
      }

      board.recordSuccess(index, response.status);
      return this.finish(call, started, attempts, backend.name, "served", {
        status: response.status,
        headers: downstreamResponseHeaders(response.headers, backend.name, attempts),
        body: response.body,
      });
    }
    return this.finish(call, started, attempts, undefined, "exhausted", this.noBackendResponse(throttled, attempts));
  }

  private recordFailure(
    index: number,
    attempt: number,
    failure: { reason: FailureReason; status?: number; retryAfterMs?: number | undefined },
    detail: string | undefined,
  ): void {
    const { board, clock, events, config } = this.deps;
    board.recordFailure(index, failure, clock.now());
    const name = config.backends[index]?.name ?? String(index);
    events.attemptFailed?.({ backend: name, attempt, reason: failure.reason, status: failure.status, detail });
  }

  /** 429 when every backend is throttled, else 503; Retry-After until the soonest backend returns. */
  private noBackendResponse(throttledNow: Uint8Array, attempts: number): RouterResponse {
    const { board, clock } = this.deps;
    const now = clock.now();
    let allThrottled = throttledNow.length > 0;
    for (let i = 0; i < throttledNow.length; i++) {
      if (throttledNow[i] !== 1 && board.openReason(i, now) !== "throttled") allThrottled = false;
    }
    const seconds = board.retryAfterSeconds(now);
    const headers = { "retry-after": String(seconds), "x-router-attempts": String(attempts) };
    return allThrottled
      ? errorResponse("TooManyRequests", `Every backend is throttled. Retry after ${seconds} seconds.`, headers)
      : errorResponse("NoBackendAvailable", `No backend can take the request now. Retry after ${seconds} seconds.`, headers);
  }

  private finish(
    call: ForwardCall,
    started: number,
    attempts: number,
    servedBy: string | undefined,
    outcome: CallSummary["outcome"],
    response: RouterResponse,
    loggedStatus = response.status,
  ): RouterResponse {
    response.summary = {
      method: call.method,
      path: call.path,
      status: loggedStatus,
      servedBy,
      attempts,
      latencyMs: this.deps.clock.now() - started,
      outcome,
    };
    return response;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
