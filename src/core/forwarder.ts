// The forwarding loop: pick a candidate, send, and act on what `judgeAttempt` decides — serve,
// or record the failure and move on at once to the next candidate with the same bytes (only the
// deployment name rewritten for each backend), or stop because the caller left.

import { type AttemptResult, isNotFoundAnswer, judgeAttempt } from "./attemptOutcome";
import { type AttemptPlan, attemptPlan, countCandidates } from "./attemptPlan";
import { type BreakerBoard, secondsUntil } from "./breakerBoard";
import { bodyFor, type CallDeployment, urlFor } from "./callDeployment";
import type { Clock, Random } from "./clock";
import type { BackendConfig, RouterConfig } from "./config";
import type { BackendCredential } from "./credentials";
import { errorResponse } from "./errors";
import type { CallSummary, RouterEvents } from "./events";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";
import type { CallerSignal, IncomingHeaders, OutgoingHeaders, RouterResponse } from "./http";
import { type Candidate, type PriorityGroups, pickBackend } from "./selection";
import { readSmallBody } from "./smallBody";
import { bodyLength, type RequestBody, type Upstream, UpstreamError, type UpstreamResponse } from "./upstream";

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
   * has the object). Unknown: the candidates are asked in turn, each once, until one does not
   * answer "not found"; such an answer is no breaker failure.
   */
  owner?: { index: number | undefined };
}

/** The answer, and the call's record for the host's log line beside it. */
export interface ForwardResult {
  response: RouterResponse;
  summary: CallSummary;
  /** The backend and deployment that answered, so a body that breaks later counts against them. */
  served?: { index: number; deployment: string | undefined };
}

export interface ForwarderDeps {
  config: RouterConfig;
  board: BreakerBoard;
  upstream: Upstream;
  credentials: readonly BackendCredential[];
  clock: Clock;
  random: Random;
  events: RouterEvents;
}

/** Status of a call whose caller went away; never written, only logged. */
const clientClosedRequest = 499;

/** One call's progress through its plan. */
interface CallState {
  call: ForwardCall;
  plan: AttemptPlan;
  started: number;
  attempts: number;
  /** Backends tried, and those that answered 429, by index. */
  tried: Uint8Array;
  throttled: Uint8Array;
  /** Probing: backends that answered "not found" (not the owner, so left out of an exhausted answer). */
  missing: Uint8Array;
  /** Probing: the last "not found", which is the call's answer when every candidate said so. */
  lastNotFound: RouterResponse | undefined;
  notFoundCount: number;
  /** The call as the last target needed it: most calls use one name everywhere, so one rewrite at most. */
  rewritten: { target: string; url: string; body: RequestBody | undefined } | undefined;
  baseHeaders: OutgoingHeaders;
}

/** Who served the call: the backend's index and name, and the deployment's name there. */
interface Served {
  index: number;
  name: string;
  deployment: string | undefined;
}

export class Forwarder {
  constructor(private readonly deps: ForwarderDeps) {}

  /** The failover loop: pick a candidate the plan allows, send, act on the judge's decision. */
  async forward(call: ForwardCall): Promise<ForwardResult> {
    const { config, board, clock, random } = this.deps;
    const size = config.backends.length;
    const state: CallState = {
      call,
      plan: attemptPlan(call.candidates, call.owner, config.retryCount),
      started: clock.now(),
      attempts: 0,
      tried: new Uint8Array(size),
      throttled: new Uint8Array(size),
      missing: new Uint8Array(size),
      lastNotFound: undefined,
      notFoundCount: 0,
      rewritten: undefined,
      baseHeaders: upstreamRequestHeaders(call.headers),
    };
    const callName = call.deployment?.name;
    let now = state.started;
    const canTake = (c: Candidate): boolean => state.tried[c.index] === 0 && !board.isOpen(c.index, c.deployment ?? callName, now);
    while (state.attempts < state.plan.maxAttempts) {
      now = clock.now();
      const candidate = pickBackend(state.plan.candidates, canTake, random);
      if (candidate === undefined) break;
      const done = await this.tryCandidate(state, candidate);
      if (done === "stop") break;
      if (done !== "next") return done;
    }
    // Every candidate said "not found": the object is nowhere, and that is the answer.
    if (state.lastNotFound && state.notFoundCount === countCandidates(state.plan.candidates)) {
      state.lastNotFound.headers["x-router-attempts"] = String(state.attempts);
      return this.result(state, { outcome: "notFound", response: state.lastNotFound });
    }
    return this.exhausted(state);
  }

  /** One candidate: the call's answer, "next" to go on to another candidate, or "stop". */
  private async tryCandidate(state: CallState, candidate: Candidate): Promise<ForwardResult | "next" | "stop"> {
    const { config, board, clock, events } = this.deps;
    const index = candidate.index;
    const backend = config.backends[index];
    const credential = this.deps.credentials[index];
    if (!backend || !credential) return "stop";
    state.tried[index] = 1;
    state.attempts++;
    const target = candidate.deployment ?? state.call.deployment?.name;
    const { result, response } = await this.attempt(state, { backend, credential, target });
    const decision = judgeAttempt(result, config.circuitBreaker, state.call.signal?.aborted === true, clock.now());
    if (decision.action === "abort") {
      response?.discard();
      const gone = errorResponse("InternalError", "The caller went away.");
      return this.result(state, { outcome: "callerGone", response: gone, loggedStatus: clientClosedRequest });
    }
    if (decision.action === "failOver") {
      response?.discard();
      const failure = decision.failure;
      if (failure) {
        if (failure.status === 429) state.throttled[index] = 1;
        board.recordFailure(index, target, failure, clock.now());
      }
      const reason = failure?.reason ?? "credentialError";
      events.attemptFailed?.({
        backend: backend.name,
        deployment: target,
        attempt: state.attempts,
        reason,
        status: failure?.status,
        detail: decision.detail,
      });
      return "next";
    }
    if (!response) return "stop";
    board.recordSuccess(index, target, response.status);
    const headers = downstreamResponseHeaders(response.headers, backend.name, target, state.attempts);
    const answer = await this.answerOf(state, index, { status: response.status, headers, body: response.body });
    if (answer === "next") return "next";
    const served = { index, name: backend.name, deployment: target };
    return this.result(state, { outcome: "served", served, response: answer });
  }

  /** A backend's answer; while probing, a "not found" is "not here": "next" to ask another candidate. */
  private async answerOf(state: CallState, index: number, answer: RouterResponse): Promise<RouterResponse | "next"> {
    const { status, body } = answer;
    if (!state.plan.notFoundMovesOn || (status !== 404 && status !== 400) || body === undefined || body instanceof Uint8Array)
      return answer;
    const read = await readSmallBody(body);
    if (!(read instanceof Uint8Array) || !isNotFoundAnswer(status, read)) return { ...answer, body: read };
    state.missing[index] = 1;
    state.notFoundCount++;
    state.lastNotFound = { ...answer, body: read };
    return "next";
  }

  /** One attempt at one backend: its result for the judge, and the response to serve or discard. */
  private async attempt(
    state: CallState,
    to: { backend: BackendConfig; credential: BackendCredential; target: string | undefined },
  ): Promise<{ result: AttemptResult; response: UpstreamResponse | undefined }> {
    const { config, upstream } = this.deps;
    const { call } = state;
    const { url, body } = this.rewrite(state, to.target);
    let headers = state.baseHeaders;
    try {
      // Cached credentials answer synchronously; awaiting only a real promise saves a tick per call.
      const pending = to.credential.authHeader();
      const auth = pending instanceof Promise ? await pending : pending;
      if (auth) headers = { ...headers, [auth[0]]: auth[1] };
    } catch (error) {
      return { result: { kind: "credentialError", message: messageOf(error) }, response: undefined };
    }
    // A body in pieces is sent with its length declared, not chunked, as the caller sent it.
    if (body !== undefined && !(body instanceof Uint8Array)) headers = { ...headers, "content-length": String(bodyLength(body)) };
    let response: UpstreamResponse;
    try {
      response = await upstream.send(to.backend.origin, {
        method: call.method,
        path: to.backend.basePath + url,
        headers,
        body,
        signal: call.signal,
        headersTimeoutMs: config.attemptTimeoutMs,
      });
    } catch (error) {
      const failure = error instanceof UpstreamError ? error.kind : "connectionError";
      return { result: { kind: "noResponse", failure, message: messageOf(error) }, response: undefined };
    }
    return { result: { kind: "response", status: response.status, headers: response.headers }, response };
  }

  /** The call's URL and body for a backend that names the deployment `target`. */
  private rewrite(state: CallState, target: string | undefined): { url: string; body: RequestBody | undefined } {
    const { call } = state;
    const d = call.deployment;
    if (!d || target === undefined || target === d.name) return { url: call.url, body: call.body };
    if (state.rewritten?.target !== target) {
      const b = call.body;
      state.rewritten = { target, url: urlFor(call.url, d, target), body: b && d.where !== "path" ? bodyFor(b, d, target) : b };
    }
    return state.rewritten;
  }

  /**
   * 429 when every candidate is throttled, else 503; Retry-After until the soonest candidate
   * returns. Judged over the plan's candidates (the owner alone, when bound to it), leaving out
   * those that answered "not found".
   */
  private exhausted(state: CallState): ForwardResult {
    const { board, clock, events } = this.deps;
    const { call } = state;
    const now = clock.now();
    const callName = call.deployment?.name;
    let allThrottled = true;
    let soonest = Number.POSITIVE_INFINITY;
    for (const group of state.plan.candidates) {
      for (const c of group) {
        if (state.missing[c.index] === 1) continue;
        const target = c.deployment ?? callName;
        if (state.throttled[c.index] !== 1 && !board.throttled(c.index, target, now)) allThrottled = false;
        soonest = Math.min(soonest, board.openUntil(c.index, target, now));
      }
    }
    const seconds = secondsUntil(Number.isFinite(soonest) ? soonest : now, now);
    const headers = { "retry-after": String(seconds), "x-router-attempts": String(state.attempts) };
    // Bound to the one resource that holds its object: say so, rather than "every backend".
    const who = state.plan.kind === "ownerOnly" ? "The backend that holds this object" : undefined;
    const response = allThrottled
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
    events.poolExhausted?.({ deployment: callName, status: response.status, retryAfterSeconds: seconds, attempts: state.attempts });
    return this.result(state, { outcome: "exhausted", response });
  }

  /** The answer and the call's summary, built once, with named fields. */
  private result(
    state: CallState,
    end: { outcome: CallSummary["outcome"]; response: RouterResponse; served?: Served; loggedStatus?: number },
  ): ForwardResult {
    const { call } = state;
    const { served, response } = end;
    return {
      response,
      served: served && { index: served.index, deployment: served.deployment },
      summary: {
        method: call.method,
        path: call.path,
        status: end.loggedStatus ?? response.status,
        deployment: call.deployment?.name,
        backend: served?.name,
        servedDeployment: served?.deployment,
        attempts: state.attempts,
        latencyMs: this.deps.clock.now() - state.started,
        outcome: end.outcome,
      },
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
