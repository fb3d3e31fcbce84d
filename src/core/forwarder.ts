// The forwarding loop: pick a candidate, send, and act on what `judgeAttempt` decides — serve,
// or record the failure and move on at once to the next candidate with the same bytes (only the
// deployment name rewritten for each backend), or stop because the caller left.

import { type AttemptResult, isNotFoundAnswer, judgeAttempt } from "./attemptOutcome";
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

export class Forwarder {
  constructor(private readonly deps: ForwarderDeps) {}

  async forward(call: ForwardCall): Promise<ForwardResult> {
    const { config, board, clock, random, events } = this.deps;
    const backends = config.backends;
    const started = clock.now();
    const tried = new Uint8Array(backends.length);
    const throttled = new Uint8Array(backends.length);
    const baseHeaders = upstreamRequestHeaders(call.headers);
    const callName = call.deployment?.name;
    const owner = call.owner;
    const probing = owner !== undefined && owner.index === undefined;
    const candidates = owner?.index === undefined ? call.candidates : ownerOnly(call.candidates, owner.index);
    const candidateCount = probing ? countCandidates(candidates) : 0;
    const maxAttempts = owner === undefined ? config.retryCount + 1 : probing ? candidateCount : 1;
    // While asking: the backends that answered "not found" (not the owner, so not part of an
    // exhausted answer), and the last such answer, which is the call's when every one said so.
    const missing = probing ? new Uint8Array(backends.length) : undefined;
    let notFoundCount = 0;
    let lastNotFound: RouterResponse | undefined;
    let attempts = 0;
    let now = started;
    const canTake = (c: Candidate): boolean => tried[c.index] === 0 && !board.isOpen(c.index, c.deployment ?? callName, now);
    // The call as the last target needed it: most calls use one name everywhere, so one rewrite at most.
    let rewritten: { target: string; url: string; body: RequestBody | undefined } | undefined;

    while (attempts < maxAttempts) {
      now = clock.now();
      const candidate = pickBackend(candidates, canTake, random);
      if (candidate === undefined) break;
      const index = candidate.index;
      const backend = backends[index];
      const credential = this.deps.credentials[index];
      if (!backend || !credential) break;
      tried[index] = 1;
      attempts++;
      const target = candidate.deployment ?? callName;
      let url = call.url;
      let body: RequestBody | undefined = call.body;
      if (call.deployment && target !== undefined && target !== callName) {
        if (rewritten?.target !== target) {
          const d = call.deployment;
          const b = call.body;
          rewritten = { target, url: urlFor(call.url, d, target), body: b && d.where !== "path" ? bodyFor(b, d, target) : b };
        }
        url = rewritten.url;
        body = rewritten.body;
      }

      const { result, response } = await this.attempt(backend, credential, url, body, baseHeaders, call);
      const decision = judgeAttempt(result, config.circuitBreaker, call.signal?.aborted === true, clock.now());
      if (decision.action === "abort") {
        response?.discard();
        return this.finish(
          call,
          started,
          attempts,
          undefined,
          "callerGone",
          errorResponse("InternalError", "The caller went away."),
          clientClosedRequest,
        );
      }
      if (decision.action === "failOver") {
        response?.discard();
        const failure = decision.failure;
        if (failure) {
          if (failure.status === 429) throttled[index] = 1;
          board.recordFailure(index, target, failure, clock.now());
        }
        events.attemptFailed?.({
          backend: backend.name,
          deployment: target,
          attempt: attempts,
          reason: failure?.reason ?? "credentialError",
          status: failure?.status,
          detail: decision.detail,
        });
        continue;
      }
      if (!response) break;
      board.recordSuccess(index, target, response.status);
      let answer: RouterResponse["body"] = response.body;
      if (missing && (response.status === 404 || response.status === 400)) {
        // Asking for an unknown owner: a "not found" means "not here", so the next candidate is asked.
        const read = await readSmallBody(response.body);
        answer = read;
        if (read instanceof Uint8Array && isNotFoundAnswer(response.status, read)) {
          missing[index] = 1;
          notFoundCount++;
          lastNotFound = {
            status: response.status,
            headers: downstreamResponseHeaders(response.headers, backend.name, target, attempts),
            body: read,
          };
          continue;
        }
      }
      return this.finish(call, started, attempts, { index, name: backend.name, deployment: target }, "served", {
        status: response.status,
        headers: downstreamResponseHeaders(response.headers, backend.name, target, attempts),
        body: answer,
      });
    }
    // Every candidate said "not found": the object is nowhere, and that is the answer.
    if (lastNotFound && notFoundCount === candidateCount) {
      lastNotFound.headers["x-router-attempts"] = String(attempts);
      return this.finish(call, started, attempts, undefined, "notFound", lastNotFound);
    }
    return this.exhausted(call, candidates, started, attempts, throttled, missing);
  }

  /** One attempt at one backend: its result for the judge, and the response to serve or discard. */
  private async attempt(
    backend: BackendConfig,
    credential: BackendCredential,
    url: string,
    body: RequestBody | undefined,
    baseHeaders: OutgoingHeaders,
    call: ForwardCall,
  ): Promise<{ result: AttemptResult; response: UpstreamResponse | undefined }> {
    const { config, upstream } = this.deps;
    let headers = baseHeaders;
    try {
      // Cached credentials answer synchronously; awaiting only a real promise saves a tick per call.
      const pending = credential.authHeader();
      const auth = pending instanceof Promise ? await pending : pending;
      if (auth) headers = { ...baseHeaders, [auth[0]]: auth[1] };
    } catch (error) {
      return { result: { kind: "credentialError", message: messageOf(error) }, response: undefined };
    }
    // A body in pieces is sent with its length declared, not chunked, as the caller sent it.
    if (body !== undefined && !(body instanceof Uint8Array)) headers = { ...headers, "content-length": String(bodyLength(body)) };
    let response: UpstreamResponse;
    try {
      response = await upstream.send(backend.origin, {
        method: call.method,
        path: backend.basePath + url,
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

  /**
   * 429 when every candidate is throttled, else 503; Retry-After until the soonest candidate
   * returns. `candidates` are the call's, or its owner alone; `missing` leaves out those that
   * answered "not found".
   */
  private exhausted(
    call: ForwardCall,
    candidates: PriorityGroups,
    started: number,
    attempts: number,
    throttledNow: Uint8Array,
    missing: Uint8Array | undefined,
  ): ForwardResult {
    const { board, clock, events } = this.deps;
    const now = clock.now();
    const callName = call.deployment?.name;
    let allThrottled = true;
    let soonest = Number.POSITIVE_INFINITY;
    for (const group of candidates) {
      for (const c of group) {
        if (missing?.[c.index] === 1) continue;
        const target = c.deployment ?? callName;
        if (throttledNow[c.index] !== 1 && !board.throttled(c.index, target, now)) allThrottled = false;
        soonest = Math.min(soonest, board.openUntil(c.index, target, now));
      }
    }
    const seconds = secondsUntil(Number.isFinite(soonest) ? soonest : now, now);
    const headers = { "retry-after": String(seconds), "x-router-attempts": String(attempts) };
    // Bound to the one resource that holds its object: say so, rather than "every backend".
    const ownerBound = call.owner?.index !== undefined;
    const response = allThrottled
      ? errorResponse(
          "TooManyRequests",
          ownerBound
            ? `The backend that holds this object is throttled. Retry after ${seconds} seconds.`
            : `Every backend that serves this call is throttled. Retry after ${seconds} seconds.`,
          headers,
        )
      : errorResponse(
          "NoBackendAvailable",
          ownerBound
            ? `The backend that holds this object cannot take the request now. Retry after ${seconds} seconds.`
            : `No backend can take the request now. Retry after ${seconds} seconds.`,
          headers,
        );
    events.poolExhausted?.({ deployment: callName, status: response.status, retryAfterSeconds: seconds, attempts });
    return this.finish(call, started, attempts, undefined, "exhausted", response);
  }

  private finish(
    call: ForwardCall,
    started: number,
    attempts: number,
    served: { index: number; name: string; deployment: string | undefined } | undefined,
    outcome: CallSummary["outcome"],
    response: RouterResponse,
    loggedStatus = response.status,
  ): ForwardResult {
    return {
      response,
      served: served && { index: served.index, deployment: served.deployment },
      summary: {
        method: call.method,
        path: call.path,
        status: loggedStatus,
        deployment: call.deployment?.name,
        backend: served?.name,
        servedDeployment: served?.deployment,
        attempts,
        latencyMs: this.deps.clock.now() - started,
        outcome,
      },
    };
  }
}

/** The owner's own candidate entry (its name for the deployment), or the owner as it is. */
function ownerOnly(groups: PriorityGroups, index: number): PriorityGroups {
  for (const group of groups) for (const c of group) if (c.index === index) return [[c]];
  return [[{ index, weight: 1, deployment: undefined }]];
}

function countCandidates(groups: PriorityGroups): number {
  let n = 0;
  for (const group of groups) n += group.length;
  return n;
}

/** Error answers are small: a larger body is no "not found" and is passed on as a stream. */
const smallBodyBytes = 64 * 1024;

/** A small answer's whole body (to read its error code), or the body as a stream again when it is larger. */
async function readSmallBody(body: AsyncIterable<Uint8Array>): Promise<Buffer | AsyncIterable<Uint8Array>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return Buffer.concat(chunks);
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > smallBodyBytes) return replay(chunks, iterator);
  }
}

async function* replay(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* chunks;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
