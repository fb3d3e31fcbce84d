// The router's routes, framework-free: /openai/* is forwarded, /health and /status are answered
// from memory, everything else is 404. Every host (Functions, plain Node) calls `handle`.

import type { BodyBudget } from "./bodyBudget";
import type { FailureReason } from "./breaker";
import type { BreakerBoard } from "./breakerBoard";
import { estimateCallCost } from "./callCost";
import { findCallDeployment } from "./callDeployment";
import { type CallFamily, callFamily } from "./callFamily";
import { batchRefusal, methodRefusal, operationRefusal } from "./callPolicy";
import type { Client, ClientIdentifier } from "./clientAuth";
import type { Charge, ClientLimiter } from "./clientLimiter";
import type { Clock } from "./clock";
import { errorResponse } from "./errors";
import type { CallSummary, RouterEvents } from "./events";
import type { ForwardCall, Forwarder, ForwardResult } from "./forwarder";
import { isEventStream } from "./headers";
import {
  type BodyEnd,
  type CallerSignal,
  discardBody,
  type HandledCall,
  headerValue,
  type RouterRequest,
  type RouterResponse,
} from "./http";
import type { BodyRefs } from "./jsonModel";
import { isListCall, ownPage } from "./listFilter";
import type { OwnerBook, OwnerRecord } from "./ownerBook";
import { checkOwnership, followOwners, type OwnershipCheck } from "./ownership";
import type { Pool } from "./pool";
import { type BodyHold, BodyReadError, readBodyWithin } from "./requestBody";
import { pathOf, unsafePathReason } from "./requestPath";
import { StallWatch } from "./stallWatch";
import type { SharedStateStatus } from "./stateSync";
import { type StoredObjectCall, storedObjectCall } from "./storedObject";
import { estimatedUsage, reportedUsage } from "./tokenUsage";

export interface RouterDeps {
  forwarder: Forwarder;
  pool: Pool;
  board: BreakerBoard;
  /** Who owns which stored object (responses, files, …). */
  owners: OwnerBook;
  /** The calling client from its key. */
  identify: ClientIdentifier;
  /** Client usage and limits, shared by every instance. */
  limiter: ClientLimiter;
  clock: Clock;
  events: RouterEvents;
  maxRequestBytes: number;
  /** Longest pause while a request body arrives before the call is answered 408. */
  bodyTimeoutMs: number;
  /** The slowest upload accepted (see StallWatch); defaults there. */
  uploadRate?: { minBytesPerSecond?: number; graceMs?: number };
  /** Request bodies this instance may hold at once. */
  bodyBudget: BodyBudget;
  /** When set, `x-azure-fdid` must match (not checked on /health). */
  frontDoorId: string | undefined;
  instance: string;
  sharedState: () => SharedStateStatus;
  /** Whether client usage is shared, and how many instances share it, for /status. */
  clientLimits: () => unknown;
}

/** Anything that answers calls: the router, or its stand-in when settings are invalid. */
export interface RequestHandler {
  handle(request: RouterRequest): Promise<HandledCall>;
}

const openaiPrefix = "/openai/";
const noStore = { "cache-control": "no-store" };

export class Router implements RequestHandler {
  private readonly stallWatch: StallWatch;

  constructor(private readonly deps: RouterDeps) {
    this.stallWatch = new StallWatch({ stallMs: deps.bodyTimeoutMs, clock: deps.clock, ...deps.uploadRate });
  }

  async handle(request: RouterRequest): Promise<HandledCall> {
    try {
      return await this.route(request);
    } catch (error) {
      // Anything unexpected becomes an opaque 500: no stack, no backend detail reaches the caller.
      this.deps.events.unexpectedError?.(error);
      return { response: errorResponse("InternalError", "The router failed to handle the request.") };
    }
  }

  private async route(request: RouterRequest): Promise<HandledCall> {
    const path = pathOf(request.url);
    if (path.startsWith(openaiPrefix)) return this.forward(request, path);
    if (path === "/health" && (request.method === "GET" || request.method === "HEAD")) return { response: this.health(request.method) };
    if (path === "/status" && request.method === "GET") {
      const client = this.gate(request, path);
      return isHandled(client) ? client : { response: this.status(client) };
    }
    return { response: errorResponse("NotFound", "Unknown route. The router serves /openai/*, /health and /status.") };
  }

  /**
   * A call on `/openai/*`, as steps in order, each of which may answer the call itself: method,
   * Front Door and key, path, body, deployment, permission, candidates, stored objects (the
   * client's own only), limits; then the failover loop, and what the answer teaches.
   */
  private async forward(request: RouterRequest, path: string): Promise<HandledCall> {
    const badMethod = methodRefusal(request.method);
    if (badMethod) return this.rejected(request, path, badMethod);
    const client = this.gate(request, path);
    if (isHandled(client)) return client;
    const unsafe = unsafePathReason(path);
    if (unsafe) return this.rejected(request, path, errorResponse("BadRequest", unsafe));
    const hold: BodyHold = { budget: this.deps.bodyBudget, bytes: 0 };
    try {
      const handled = await this.forwardWithin(request, path, hold, client);
      if (handled.summary) handled.summary.client = client.name;
      // A client with limits sees its own budget, not the backend's.
      this.deps.limiter.writeHeaders(client, handled.response.headers);
      return handled;
    } finally {
      // The body is done with once the answer's headers are in: no later attempt re-sends it.
      hold.budget.give(hold.bytes);
    }
  }

  private async forwardWithin(request: RouterRequest, path: string, hold: BodyHold, client: Client): Promise<HandledCall> {
    const body = await this.readBody(request, hold);
    if (!(body instanceof Uint8Array)) return this.rejected(request, path, body.response, body.outcome);
    const hasBody = body.length > 0 || (request.method !== "GET" && request.method !== "HEAD");
    const sent = hasBody ? body : undefined;
    const lookup = findCallDeployment(request.url, path, headerValue(request.headers, "content-type"), sent);
    if (lookup.kind === "ambiguous") {
      return this.rejected(
        request,
        path,
        errorResponse("BadRequest", "The request names the model more than once, or its body is ambiguous."),
      );
    }
    const deployment = lookup.kind === "deployment" ? lookup.deployment : undefined;
    const family = callFamily(request.method, path);
    const refusal = this.permission(request, client, { family, deployment: deployment?.name, body: sent, refs: lookup.refs });
    if (refusal) return this.rejected(request, path, refusal, "rejected", deployment?.name);
    const candidates = deployment ? this.deps.pool.candidates(deployment.name) : this.deps.pool.anyBackend;
    if (!candidates) {
      const response = errorResponse("DeploymentNotFound", "The API deployment for this resource does not exist.");
      return this.rejected(request, path, response, "rejected", deployment?.name);
    }
    // Only calls on the stored-object paths get past this check; every other call skips it at once.
    const stored = storedObjectCall(request.method, path, lookup.refs);
    const ownership = stored ? await checkOwnership(this.deps.owners, client, stored) : noOwnership;
    if ("refused" in ownership) return this.rejected(request, path, ownership.refused, "rejected", deployment?.name);
    const admission = this.limits(client, request.method, path, sent);
    if ("refused" in admission) return this.rejected(request, path, admission.refused, "rejected", deployment?.name);
    const charge = admission.charge;
    const listing = !client.seesAllClients && isListCall(request.method, path);
    const call: ForwardCall = {
      method: request.method,
      url: request.url,
      path,
      // Ids are read from answers on stored objects: those come back uncompressed.
      headers: stored || listing ? { ...request.headers, "accept-encoding": undefined } : request.headers,
      body: sent,
      signal: request.signal,
      deployment,
      candidates,
      owner: stored?.ref === undefined ? undefined : { index: indexOfOwner(this.deps.pool, ownership.record) },
    };
    let result = await this.deps.forwarder.forward(call);
    if (stored) {
      result = await this.retryWrongOwner(call, result, stored);
      await followOwners(this.deps, { client, stored, record: ownership.record }, result);
    }
    if (listing && result.served) result.response = await this.ownListPage(call, result, client);
    // Answered by the router itself (every candidate out, the owner tripped): not a call the client's budget pays for.
    if (result.summary.outcome === "exhausted") this.deps.limiter.refund(charge);
    else if (result.summary.outcome === "notFound") this.deps.limiter.settle(charge, 0);
    else if (result.response.body instanceof Uint8Array) {
      // An answer already read (a probe's): its usage, if any, is in it.
      const text = Buffer.from(result.response.body.buffer, result.response.body.byteOffset, result.response.body.byteLength).toString(
        "utf8",
      );
      this.deps.limiter.settle(charge, reportedUsage(text)?.totalTokens ?? 0);
    }
    return this.withBodyAccounting(result, charge, sent ? sent.length : 0, request.signal);
  }

  /** The request body, or the answer when it cannot be read (too large, stalled, cut off, no room). */
  private async readBody(
    request: RouterRequest,
    hold: BodyHold,
  ): Promise<Buffer | { response: RouterResponse; outcome: "rejected" | "callerGone" }> {
    const { maxRequestBytes } = this.deps;
    const declared = Number(headerValue(request.headers, "content-length"));
    let body: Buffer | undefined;
    try {
      body = await readBodyWithin(request.body, {
        limit: maxRequestBytes,
        declaredLength: Number.isFinite(declared) ? declared : undefined,
        watch: this.stallWatch,
        hold,
      });
    } catch (error) {
      if (!(error instanceof BodyReadError)) throw error;
      if (error.kind === "timeout")
        return { response: errorResponse("RequestTimeout", "The request body did not arrive in time."), outcome: "rejected" };
      if (error.kind === "busy") {
        const busy = errorResponse("ServerBusy", "This instance holds as many request bodies as it may. Retry after 1 second.", {
          "retry-after": "1",
        });
        return { response: busy, outcome: "rejected" };
      }
      // The caller left (or its connection broke) during the upload: its call, not our failure.
      return { response: errorResponse("BadRequest", "The request body was cut off."), outcome: "callerGone" };
    }
    if (body === undefined) {
      return {
        response: errorResponse("RequestTooLarge", `The request body is larger than ${maxRequestBytes} bytes.`),
        outcome: "rejected",
      };
    }
    return body;
  }

  /** The client's permission: the operation, its deployments, a batch's deployments. */
  private permission(
    request: RouterRequest,
    client: Client,
    call: { family: CallFamily; deployment: string | undefined; body: Uint8Array | undefined; refs: BodyRefs | undefined },
  ): RouterResponse | undefined {
    const { family, deployment } = call;
    const operation = operationRefusal(client, family, deployment !== undefined);
    if (operation) return operation;
    if (deployment !== undefined && client.deployments && !client.deployments.has(deployment)) {
      return errorResponse("DeploymentNotAllowed", "This client may not call this deployment.");
    }
    return batchRefusal(client, {
      method: request.method,
      family,
      contentType: headerValue(request.headers, "content-type"),
      body: call.body,
      refs: call.refs,
    });
  }

  /**
   * The client's limits: the call admitted and charged its estimated cost (only a client with a
   * token limit pays for the estimate), or the 429.
   */
  private limits(
    client: Client,
    method: string,
    path: string,
    body: Uint8Array | undefined,
  ): { charge: Charge | undefined } | { refused: RouterResponse } {
    const cost = client.limits?.tokensPerMinute === undefined ? 0 : estimateCallCost(method, path, body);
    const admission = this.deps.limiter.admit(client, cost);
    if (admission.admitted) return { charge: admission.charge };
    const seconds = admission.retryAfterSeconds;
    return {
      refused: errorResponse(
        "TooManyRequests",
        `This client has used its ${admission.limit === "requests" ? "requests" : "tokens"} per minute. Retry after ${seconds} seconds.`,
        { "retry-after": String(seconds) },
      ),
    };
  }

  /**
   * The recorded owner answered 404: the record was wrong (a row naming another backend, or one
   * this instance remembered). It is dropped here, and the other candidates are asked, each once.
   */
  private async retryWrongOwner(call: ForwardCall, result: ForwardResult, stored: StoredObjectCall): Promise<ForwardResult> {
    if (call.owner?.index === undefined || stored.ref === undefined || result.response.status !== 404 || !result.served) return result;
    if (this.deps.owners.isGone(stored.ref)) return result;
    this.deps.owners.drop(stored.ref);
    discardBody(result.response.body);
    const probed = await this.deps.forwarder.forward({ ...call, owner: { index: undefined } });
    probed.summary.attempts += result.summary.attempts;
    return probed;
  }

  /** A list page holding only the client's own objects, refilled from the same resource's next pages. */
  private async ownListPage(call: ForwardCall, result: ForwardResult, client: Client): Promise<RouterResponse> {
    const served = result.served;
    return ownPage({
      first: result.response,
      client,
      owners: this.deps.owners,
      url: call.url,
      nextPage: async (url) => {
        if (!served) return undefined;
        const next = await this.deps.forwarder.forward({ ...call, url, owner: { index: served.index } });
        if (next.response.status === 200) return next.response;
        discardBody(next.response.body);
        return undefined;
      },
    });
  }

  /** A served stream can still break: the host reports its end, and a break counts against the backend. */
  private withBodyAccounting(
    result: ForwardResult,
    charge: Charge | undefined,
    requestBytes: number,
    signal: CallerSignal | undefined,
  ): HandledCall {
    const { response, summary, served } = result;
    const sse = isEventStream(response.headers);
    if (!served || response.body === undefined || response.body instanceof Uint8Array) return { response, summary };
    return {
      response,
      summary,
      // The summary is this call's own: completed in place, not copied (a copy per call showed in the profile).
      bodyDone: (end: BodyEnd): CallSummary => {
        summary.bytes = end.bytes;
        const usage = (end.tail && reportedUsage(end.tail)) || (sse ? estimatedUsage(requestBytes, end.events ?? 0) : undefined);
        if (usage) {
          summary.promptTokens = usage.promptTokens;
          summary.completionTokens = usage.completionTokens;
          summary.totalTokens = usage.totalTokens;
          if (usage.estimated) summary.tokensEstimated = true;
        }
        // The estimate charged at admission becomes what the backend reported (nothing reported: nothing used).
        this.deps.limiter.settle(charge, usage?.totalTokens ?? 0);
        const outcome = streamOutcome(end, signal, sse);
        summary.outcome = outcome;
        if (outcome === "broken") {
          const reason: FailureReason = end.error !== undefined && isTimeout(end.error) ? "timeout" : "brokenStream";
          this.deps.board.recordFailure(served.index, served.deployment, { reason }, this.deps.clock.now());
        }
        return summary;
      },
    };
  }

  /** Front Door lock and client key, in that order: the calling client, or the answer that refuses the call. */
  private gate(request: RouterRequest, path: string): HandledCall | Client {
    const { frontDoorId, identify } = this.deps;
    if (frontDoorId !== undefined && headerValue(request.headers, "x-azure-fdid") !== frontDoorId) {
      return this.rejected(request, path, errorResponse("Forbidden", "Calls must come through the configured Azure Front Door."));
    }
    const client = identify(request.headers);
    if (!client) {
      return this.rejected(
        request,
        path,
        errorResponse(
          "Unauthorized",
          "Access denied due to missing or invalid key. Send it as 'api-key: <key>' or 'Authorization: Bearer <key>'.",
          { "www-authenticate": "Bearer" },
        ),
      );
    }
    return client;
  }

  private rejected(
    request: RouterRequest,
    path: string,
    response: RouterResponse,
    outcome: "rejected" | "callerGone" = "rejected",
    deployment?: string,
  ): HandledCall {
    return {
      response,
      summary: {
        method: request.method,
        path,
        status: response.status,
        deployment,
        backend: undefined,
        servedDeployment: undefined,
        attempts: 0,
        latencyMs: 0,
        outcome,
      },
    };
  }

  private health(method: string): RouterResponse {
    const { board, clock } = this.deps;
    const now = clock.now();
    const available = board.availableCount(now);
    const total = board.size;
    const healthy = available > 0;
    const payload = Buffer.from(JSON.stringify({ status: healthy ? "healthy" : "unavailable", backends: { available, total } }));
    const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(payload.length), ...noStore };
    if (!healthy) headers["retry-after"] = String(board.retryAfterSeconds(now));
    return { status: healthy ? 200 : 503, headers, body: method === "HEAD" ? undefined : payload };
  }

  /** Breakers and usage: every client's to the operators (`default`), its own to any other client. */
  private status(client: Client): RouterResponse {
    const { board, clock, instance, sharedState, limiter, clientLimits } = this.deps;
    const now = clock.now();
    const payload = Buffer.from(
      JSON.stringify({
        instance,
        time: new Date(now).toISOString(),
        sharedState: sharedState(),
        backends: board.view(now),
        clients: limiter.view(client.seesAllClients ? undefined : client, now),
        clientLimits: clientLimits(),
      }),
    );
    return {
      status: 200,
      headers: { "content-type": "application/json", "content-length": String(payload.length), ...noStore },
      body: payload,
    };
  }
}

const noOwnership: OwnershipCheck = { record: undefined };

function indexOfOwner(pool: Pool, record: OwnerRecord | undefined): number | undefined {
  return record === undefined ? undefined : pool.indexOf(record.backend);
}

function isHandled(result: HandledCall | Client): result is HandledCall {
  return (result as HandledCall).response !== undefined;
}

/**
 * How a served body ended. A caller that left is never the backend's failure, whatever the body
 * reported after (the Node host's hang-up aborts the upstream body, which then errors); a stream
 * that carried an `error` event was answered; a stream that closed before its terminal event broke.
 */
function streamOutcome(end: BodyEnd, signal: CallerSignal | undefined, sse: boolean): CallSummary["outcome"] {
  if (end.callerGone || signal?.aborted === true) return "callerGone";
  if (end.error !== undefined) return "broken";
  if (end.streamError) return "streamError";
  if (sse && end.terminated === false) return "broken";
  return "served";
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "UND_ERR_BODY_TIMEOUT";
}

/** Stands in for the router when settings are invalid: every call 500 `RouterMisconfigured`, /health 503. */
export function misconfiguredHandler(): RequestHandler {
  return {
    handle: async (request) => {
      if (pathOf(request.url) === "/health") {
        return {
          response: errorResponse("NoBackendAvailable", "The router is misconfigured; see its log.", { "retry-after": "60", ...noStore }),
        };
      }
      return {
        response: errorResponse("RouterMisconfigured", "The router is misconfigured; the operator must fix its settings (see its log)."),
      };
    },
  };
}
