// The forwarding loop: pick a candidate, send, and act on what `judgeAttempt` decides — serve,
// or record the failure and move on at once to the next candidate with the same bytes (only the
// deployment name rewritten for each backend), or stop because the caller left.

import type { BreakerBoard } from "../breakers/breakerBoard";
import type { CapacityBoard } from "../capacity/capacityBoard";
import { capacityLearns, hasRoom } from "../capacity/capacityStep";
import type { CallCost } from "../clients/callCost";
import type { Clock } from "../clock";
import type { BackendConfig, RouterConfig } from "../config/config";
import type { RouterEvents } from "../events";
import type { Random } from "../random";
import { bodyFor, urlFor } from "../request/callDeployment";
import { errorResponse } from "../request/errors";
import type { OutgoingHeaders, RouterResponse } from "../request/exchange";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "../request/headers";
import { readSmallBody } from "../request/smallBody";
import { type AttemptResult, isNotFoundAnswer, judgeAttempt } from "./attemptOutcome";
import { type AttemptPlan, attemptPlan, countCandidates, probePlan } from "./attemptPlan";
import type { BackendCredential } from "./credentials";
import { exhaustedAnswer } from "./exhaustedAnswer";
import { type CallEnd, callResult, type ForwardCall, type ForwardResult, type Served } from "./forwardCall";
import { type Candidate, pickBackend } from "./selection";
import { spilledFrom } from "./spillover";
import { bodyLength, type RequestBody, type Upstream, UpstreamError, type UpstreamResponse } from "./upstream";

export type { ForwardCall, ForwardResult } from "./forwardCall";

export interface ForwarderDeps {
  config: RouterConfig;
  board: BreakerBoard;
  upstream: Upstream;
  credentials: readonly BackendCredential[];
  clock: Clock;
  random: Random;
  events: RouterEvents;
  /** What each throttling deployment is expected to admit; absent: every candidate is tried. */
  capacity?: CapacityBoard;
  /** Waits `ms` (a call waiting for room, `capacity.waitUpTo`). Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
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
  missing: Uint8Array | undefined;
  /** Probing: the last "not found", which is the call's answer when every candidate said so. */
  lastNotFound: RouterResponse | undefined;
  notFoundCount: number;
  /** The call as the last target needed it: most calls use one name everywhere, so one rewrite at most. */
  rewritten: { target: string; url: string; body: RequestBody | undefined } | undefined;
  baseHeaders: OutgoingHeaders;
  /** The call's estimated cost, worked out when a capacity gate first asks for it. */
  cost: CallCost | undefined;
  /** Candidates passed over because they were not expected to admit the call (not attempts). */
  skipped: number;
  /** What the gate of the candidate last sent the call charged it. */
  charged: number | undefined;
}

/** One attempt's backend: its index, config and credential, and the deployment's name there. */
interface Target {
  index: number;
  backend: BackendConfig;
  credential: BackendCredential;
  target: string | undefined;
}

export class Forwarder {
  constructor(private readonly deps: ForwarderDeps) {}

  /** The failover loop: pick a candidate the plan allows, send, act on the judge's decision. */
  async forward(call: ForwardCall): Promise<ForwardResult> {
    const { config, board, clock, random } = this.deps;
    const state = this.newCall(call);
    const callName = call.deployment?.name;
    let now = state.started;
    const canTake = (c: Candidate): boolean => state.tried[c.index] === 0 && !board.isOpen(c.index, c.deployment ?? callName, now);
    while (state.attempts < state.plan.maxAttempts) {
      now = clock.now();
      const candidate = pickBackend(state.plan.candidates, canTake, random);
      if (candidate === undefined) break;
      const backend = config.backends[candidate.index];
      const credential = this.deps.credentials[candidate.index];
      if (!backend || !credential) break;
      state.tried[candidate.index] = 1;
      const target = candidate.deployment ?? callName;
      // A deployment not expected to admit the call is passed over, when another candidate can take it.
      const capacity = this.deps.capacity;
      if (
        capacity?.active &&
        !(await hasRoom({ capacity, clock, sleep: this.deps.sleep }, state, { index: candidate.index, target, canTake }))
      )
        continue;
      state.attempts++;
      const to = { index: candidate.index, backend, credential, target };
      const { result, response } = await this.attempt(state, to);
      // Judged without another await, except a probe's "not found" which must be read.
      const judged = this.judge(state, to, result, response);
      const done = judged instanceof Promise ? await judged : judged;
      if (done === "stop") break;
      if (done !== "next") return done;
    }
    // Every candidate said "not found": the object is nowhere, and that is the answer.
    // (At least as many: an owner outside the candidates may have said so too.)
    if (state.lastNotFound && state.notFoundCount >= countCandidates(state.plan.candidates)) {
      state.lastNotFound.headers["x-router-attempts"] = String(state.attempts);
      return this.result(state, { outcome: "notFound", response: state.lastNotFound });
    }
    return this.exhausted(state);
  }

  /** A call's progress, before its first attempt. */
  private newCall(call: ForwardCall): CallState {
    const { config, clock } = this.deps;
    const size = config.backends.length;
    const plan = attemptPlan(call.candidates, call.owner, config.retryCount);
    return {
      call,
      plan,
      started: clock.now(),
      attempts: 0,
      tried: new Uint8Array(size),
      throttled: new Uint8Array(size),
      missing: plan.notFoundMovesOn ? new Uint8Array(size) : undefined,
      lastNotFound: undefined,
      notFoundCount: 0,
      rewritten: undefined,
      baseHeaders: upstreamRequestHeaders(call.headers),
      cost: call.cost,
      skipped: 0,
      charged: undefined,
    };
  }

  /** What one attempt's result means: the call's answer, "next" to go on to another candidate, or "stop". */
  private judge(
    state: CallState,
    to: Target,
    result: AttemptResult,
    response: UpstreamResponse | undefined,
  ): ForwardResult | "next" | "stop" | Promise<ForwardResult | "next"> {
    const { config, board, clock, events } = this.deps;
    const { index, backend, target } = to;
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
      if (this.deps.capacity) capacityLearns(this.deps.capacity, state, { index, target, failure });
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
    const answer = { status: response.status, headers, body: response.body };
    const served: Served = { index, name: backend.name, deployment: target, spilledFrom: spilledFrom(response.headers) };
    // Azure's own spillover served it: the deployment asked did not do the work.
    if (served.spilledFrom !== undefined && this.deps.capacity)
      capacityLearns(this.deps.capacity, state, { index, target, failure: undefined });
    if (!state.plan.notFoundMovesOn && !state.plan.thenProbe) return this.result(state, { outcome: "served", served, response: answer });
    return this.answerOf(state, index, answer).then((a) =>
      a === "next" ? "next" : this.result(state, { outcome: "served", served, response: a }),
    );
  }

  /** A backend's answer; while probing (or asking an owner whose record may be wrong), a "not found" is "not here": "next". */
  private async answerOf(state: CallState, index: number, answer: RouterResponse): Promise<RouterResponse | "next"> {
    const { status, body } = answer;
    if ((status !== 404 && status !== 400) || body === undefined || body instanceof Uint8Array) return answer;
    const read = await readSmallBody(body);
    if (!(read instanceof Uint8Array) || !isNotFoundAnswer(status, read)) return { ...answer, body: read };
    if (state.plan.thenProbe) {
      // The recorded owner has no such object: its record was wrong. The others are asked, each once.
      state.plan = probePlan(state.call.candidates);
      state.plan.maxAttempts += state.attempts;
      state.missing = new Uint8Array(this.deps.config.backends.length);
    }
    if (state.missing) state.missing[index] = 1;
    state.notFoundCount++;
    state.lastNotFound = { ...answer, body: read };
    return "next";
  }

  /** One attempt at one backend: its result for the judge, and the response to serve or discard. */
  private async attempt(state: CallState, to: Target): Promise<{ result: AttemptResult; response: UpstreamResponse | undefined }> {
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
    // Most calls use one name everywhere: the call itself is its own target (no object made).
    if (!d || target === undefined || target === d.name) return call;
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
    const response = exhaustedAnswer(board, {
      candidates: state.plan.candidates,
      callName,
      skip: state.missing,
      throttledNow: state.throttled,
      ownerBound: state.plan.kind === "ownerOnly",
      attempts: state.attempts,
      now,
    });
    const seconds = Number(response.headers["retry-after"]);
    events.poolExhausted?.({ deployment: callName, status: response.status, retryAfterSeconds: seconds, attempts: state.attempts });
    return this.result(state, { outcome: "exhausted", response });
  }

  /** The answer and the call's summary, built once, with named fields. */
  private result(state: CallState, end: CallEnd): ForwardResult {
    return callResult(state, end, { capacity: this.deps.capacity, now: this.deps.clock.now() });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
