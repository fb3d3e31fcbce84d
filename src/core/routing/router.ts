// The router's routes, framework-free: /openai/* is forwarded, /health and /status are answered
// from memory, everything else is 404. Every host (Functions, plain Node) calls `handle`.

import type { BreakerBoard } from "../breakers/breakerBoard";
import type { CachedAnswer } from "../cache/cachedAnswer";
import { cachedResponse, cacheTicketFor, keepForCache } from "../cache/cacheSteps";
import type { CacheTicket, ResponseCache } from "../cache/responseCache";
import type { CallCost } from "../clients/callCost";
import type { Client, ClientIdentifier } from "../clients/clientAuth";
import type { Charge, ClientLimiter } from "../clients/clientLimiter";
import type { Clock } from "../clock";
import type { RouterEvents } from "../events";
import { admitToLimits, gateClient, permissionRefusal, readCallBody } from "../request/admissionSteps";
import type { BodyBudget } from "../request/bodyBudget";
import { findCallDeployment } from "../request/callDeployment";
import { callFamily } from "../request/callFamily";
import { methodRefusal } from "../request/callPolicy";
import { errorResponse } from "../request/errors";
import { discardBody, type HandledCall, headerValue, type RouterRequest, type RouterResponse } from "../request/exchange";
import type { BodyHold } from "../request/requestBody";
import { pathOf, unsafePathReason } from "../request/requestPath";
import { StallWatch } from "../request/stallWatch";
import type { SharedStateStatus } from "../shared/sharedStateStatus";
import { isListCall, ownPage } from "../storedObjects/listFilter";
import type { OwnerBook, OwnerRecord } from "../storedObjects/ownerBook";
import { checkOwnership, followOwners, type OwnershipCheck } from "../storedObjects/ownership";
import { type StoredObjectCall, storedObjectCall } from "../storedObjects/storedObject";
import { settleAnsweredCall, withBodyAccounting } from "./bodyAccounting";
import type { ForwardCall, Forwarder, ForwardResult } from "./forwarder";
import type { Pool } from "./pool";
import { healthAnswer, statusAnswer } from "./stateRoutes";

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
  /** Reusable answers (`cache` in the configuration); `undefined`: nothing is cached. */
  cache?: ResponseCache | undefined;
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
  /** Capacity per throttling deployment, for /status. */
  capacity?: () => unknown[];
}

/** Anything that answers calls: the router, or its stand-in when settings are invalid. */
export interface RequestHandler {
  handle(request: RouterRequest): Promise<HandledCall>;
}

const openaiPrefix = "/openai/";

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
    if (path === "/health" && (request.method === "GET" || request.method === "HEAD"))
      return { response: healthAnswer(this.deps, request.method) };
    if (path === "/status" && request.method === "GET") {
      const client = this.gate(request, path);
      return isHandled(client) ? client : { response: statusAnswer(this.deps, client) };
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
    if (badMethod) return this.answeredHere(request, path, badMethod);
    const client = this.gate(request, path);
    if (isHandled(client)) return client;
    const unsafe = unsafePathReason(path);
    if (unsafe) return this.answeredHere(request, path, errorResponse("BadRequest", unsafe));
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
    const admitted = await this.admit(request, path, hold, client);
    return "response" in admitted ? admitted : this.send(request, client, admitted);
  }

  /** The admission steps in order: each answers the call itself, or the call goes on as admitted. */
  private async admit(request: RouterRequest, path: string, hold: BodyHold, client: Client): Promise<HandledCall | Admitted> {
    const body = await readCallBody(request, { maxRequestBytes: this.deps.maxRequestBytes, watch: this.stallWatch, hold });
    if (!(body instanceof Uint8Array)) return this.answeredHere(request, path, body.response, { outcome: body.outcome });
    const sent = body.length > 0 || (request.method !== "GET" && request.method !== "HEAD") ? body : undefined;
    const lookup = findCallDeployment(request.url, path, headerValue(request.headers, "content-type"), sent);
    if (lookup.kind === "ambiguous") return this.answeredHere(request, path, errorResponse("BadRequest", ambiguous));
    const deployment = lookup.kind === "deployment" ? lookup.deployment : undefined;
    const name = deployment?.name;
    // The operators' key may do anything: its calls skip the permission step (and its allocations).
    if (!client.seesAllClients || client.deployments) {
      const family = callFamily(request.method, path);
      const refusal = permissionRefusal(request, client, { family, deployment: name, body: sent, refs: lookup.refs });
      if (refusal) return this.answeredHere(request, path, refusal, { deployment: name });
    }
    const candidates = deployment ? this.deps.pool.candidates(deployment.name) : this.deps.pool.anyBackend;
    if (!candidates) return this.answeredHere(request, path, errorResponse("DeploymentNotFound", deploymentNotFound), { deployment: name });
    // Only calls on the stored-object paths get past this check; every other call skips it at once.
    const stored = storedObjectCall(request.method, path, lookup.refs);
    const ownership = stored ? await checkOwnership(this.deps.owners, client, stored) : noOwnership;
    if ("refused" in ownership) return this.answeredHere(request, path, ownership.refused, { deployment: name });
    const admission = client.limits ? admitToLimits(this.deps.limiter, client, { method: request.method, path, body: sent }) : unlimited;
    if ("refused" in admission) return this.answeredHere(request, path, admission.refused, { deployment: name });
    const responses = this.deps.cache;
    const cache =
      responses && name !== undefined
        ? cacheTicketFor(responses, request, { path, client: client.name, deployment: name, body: sent })
        : undefined;
    const hit = cache && (await responses?.lookup(cache));
    if (hit) return this.cacheHit(request, path, { deployment: name, answer: hit, charge: admission.charge });
    const listing = !client.seesAllClients && isListCall(request.method, path);
    // Ids are read from answers on stored objects, and cacheable answers are kept as they come:
    // those are asked for uncompressed.
    const plain = stored !== undefined || listing || cache !== undefined;
    const call: ForwardCall = {
      method: request.method,
      url: request.url,
      path,
      headers: plain ? { ...request.headers, "accept-encoding": undefined } : request.headers,
      body: sent,
      signal: request.signal,
      deployment,
      candidates,
      owner: stored?.ref === undefined ? undefined : this.ownerOf(stored.ref, ownership.record),
      // Estimated once: capacity admission in the failover loop takes the estimate client limits charged.
      cost: admission.cost,
    };
    return { call, stored, record: ownership.record, charge: admission.charge, listing, cache };
  }

  /** A cached answer, with no backend call: it counts as a request for the client, its tokens are saved, not charged. */
  private cacheHit(
    request: RouterRequest,
    path: string,
    hit: { deployment: string | undefined; answer: CachedAnswer; charge: Charge | undefined },
  ): HandledCall {
    const { answer } = hit;
    this.deps.limiter.settle(hit.charge, 0);
    const handled = this.answeredHere(request, path, cachedResponse(answer), { outcome: "served", deployment: hit.deployment });
    if (handled.summary) {
      handled.summary.cache = "hit";
      handled.summary.bytes = answer.body.length;
      if (answer.totalTokens !== undefined) handled.summary.savedTokens = answer.totalTokens;
    }
    return handled;
  }

  /** The failover loop, then what its answer teaches: owners, the client's own list page, the charge. */
  private async send(request: RouterRequest, client: Client, admitted: Admitted): Promise<HandledCall> {
    const { call, stored, charge } = admitted;
    const result = await this.deps.forwarder.forward(call);
    if (admitted.cache && this.deps.cache) keepForCache(this.deps.cache, admitted.cache, result);
    if (stored) {
      // No candidate has it: a record that named one was wrong; the store is asked again next time.
      if (result.summary.outcome === "notFound" && stored.ref !== undefined && admitted.record) this.deps.owners.drop(stored.ref);
      await followOwners(this.deps, { client, stored, record: admitted.record }, result);
    }
    if (admitted.listing && result.served) result.response = await this.ownListPage(call, result, client);
    settleAnsweredCall(this.deps.limiter, charge, result, this.deps.clock.now());
    return withBodyAccounting(this.deps, { result, charge, requestBytes: call.body ? call.body.length : 0, signal: request.signal });
  }

  /**
   * Where a call on `ref` goes: its recorded owner alone — and, unless this instance saw the object
   * deleted (the owner's 404 is then the answer), the other candidates when the owner answers "not
   * found", as the record was wrong — or, with no record, a probe.
   */
  private ownerOf(ref: string, record: OwnerRecord | undefined): { index: number | undefined; thenProbe?: boolean } {
    const index = record === undefined ? undefined : this.deps.pool.indexOf(record.backend);
    return index === undefined ? { index } : { index, thenProbe: !this.deps.owners.isGone(ref) };
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

  /** Front Door lock and client key, in that order: the calling client, or the answer that refuses the call. */
  private gate(request: RouterRequest, path: string): HandledCall | Client {
    const client = gateClient(request, this.deps);
    return "status" in client ? this.answeredHere(request, path, client) : client;
  }

  /**
   * A call the router answers itself, with its summary (no backend tried): a refusal (outcome
   * `rejected`, or `callerGone` when the body never arrived), or a cache hit (`served`).
   */
  private answeredHere(
    request: RouterRequest,
    path: string,
    response: RouterResponse,
    as: { outcome?: "rejected" | "callerGone" | "served"; deployment?: string | undefined } = {},
  ): HandledCall {
    const { outcome = "rejected", deployment } = as;
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
}

const noOwnership: OwnershipCheck = { record: undefined };
const unlimited: { charge: Charge | undefined; cost?: CallCost } = { charge: undefined };
// Messages only: an answer is built per call, as its headers are written to afterwards (budget headers).
const ambiguous = "The request names the model more than once, or its body is ambiguous.";
const deploymentNotFound = "The API deployment for this resource does not exist.";

/** A call that passed every admission step, ready for the failover loop. */
interface Admitted {
  call: ForwardCall;
  stored: StoredObjectCall | undefined;
  record: OwnerRecord | undefined;
  charge: Charge | undefined;
  /** A list of files or batches for a client other than the operators: only its own objects are shown. */
  listing: boolean;
  /** Set when the answer may be reused: it is kept for the next such call. */
  cache: CacheTicket | undefined;
}

function isHandled(result: HandledCall | Client): result is HandledCall {
  return (result as HandledCall).response !== undefined;
}
