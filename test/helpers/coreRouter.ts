// A core router over fakes (an in-process Upstream, a fake clock), for unit tests of routing,
// the forwarding loop and the judge: no sockets, exact time.

import { MemoryStateStore } from "../../src/adapters/memoryStateStore";
import { BreakerBoard } from "../../src/core/breakers/breakerBoard";
import { ResponseCache } from "../../src/core/cache/responseCache";
import { CapacityBoard } from "../../src/core/capacity/capacityBoard";
import { type Client, createClientIdentifier, operatorsClient } from "../../src/core/clients/clientAuth";
import { ClientLimiter } from "../../src/core/clients/clientLimiter";
import { parseRouterConfig, type RouterConfig } from "../../src/core/config/config";
import type { RouterEvents } from "../../src/core/events";
import { BodyBudget } from "../../src/core/request/bodyBudget";
import type { RouterRequest } from "../../src/core/request/exchange";
import { apiKeyCredential, type BackendCredential } from "../../src/core/routing/credentials";
import { Forwarder } from "../../src/core/routing/forwarder";
import { Pool } from "../../src/core/routing/pool";
import { Router } from "../../src/core/routing/router";
import type { Upstream, UpstreamRequest, UpstreamResponse } from "../../src/core/routing/upstream";
import { OwnerBook } from "../../src/core/storedObjects/ownerBook";
import { fakeClock } from "./random";

export const testClientKey = "client";

/** An upstream whose answer per call is a function of the backend origin and request. */
export function fakeUpstream(
  answer: (origin: string, request: UpstreamRequest) => Promise<UpstreamResponse> | UpstreamResponse,
): Upstream & {
  sent: { origin: string; request: UpstreamRequest }[];
} {
  const sent: { origin: string; request: UpstreamRequest }[] = [];
  return {
    sent,
    send: async (origin, request) => {
      sent.push({ origin, request });
      return answer(origin, request);
    },
  };
}

/** A JSON POST to `url` carrying `text` as its body, with the operators' key unless another is given. */
export function jsonCall(url: string, text: string, key = testClientKey): RouterRequest {
  return {
    method: "POST",
    url,
    headers: { "api-key": key, "content-type": "application/json" },
    body: (async function* () {
      yield Buffer.from(text);
    })(),
    signal: undefined,
  };
}

export function answer(status: number, headers: Record<string, string> = {}, text = "{}"): UpstreamResponse {
  let discarded = false;
  return {
    status,
    headers,
    body: (async function* () {
      if (!discarded) yield Buffer.from(text);
    })(),
    discard: () => {
      discarded = true;
    },
  };
}

export function coreRouter(
  rawConfig: unknown,
  upstream: Upstream,
  options: {
    events?: RouterEvents;
    credentials?: BackendCredential[];
    random?: () => number;
    maxRequestBytes?: number;
    bodyBudget?: BodyBudget;
    /** More clients beside the operators' (`testClientKey`), each with its keys. */
    clients?: { client: Client; keys: string[] }[];
  } = {},
) {
  const config: RouterConfig = parseRouterConfig(rawConfig);
  const clock = fakeClock();
  const events = options.events ?? {};
  const board = new BreakerBoard(config.backends, config.circuitBreaker, "test");
  const pool = new Pool(config.backends);
  const random = options.random ?? (() => 0);
  const capacity = new CapacityBoard({ backends: config.backends, clock, random });
  const forwarder = new Forwarder({
    capacity,
    sleep: async (ms) => clock.advance(ms),
    config,
    board,
    upstream,
    credentials: options.credentials ?? config.backends.map(() => apiKeyCredential("k")),
    clock,
    random,
    events,
  });
  const store = new MemoryStateStore(clock, config.circuitBreaker.maxTripDurationMs);
  const owners = new OwnerBook(store);
  const limiter = new ClientLimiter({ clock, clients: (options.clients ?? []).map((c) => c.client) });
  // A local response cache when the configuration has `cache` (no shared store: unit tests).
  const cache = config.cache ? new ResponseCache({ config: config.cache, clock, store: undefined }) : undefined;
  const router = new Router({
    cache,
    forwarder,
    pool,
    board,
    owners,
    limiter,
    identify: createClientIdentifier([{ client: operatorsClient, keys: [testClientKey] }, ...(options.clients ?? [])], undefined),
    clock,
    events,
    maxRequestBytes: options.maxRequestBytes ?? 1_000_000,
    bodyTimeoutMs: 1_000,
    bodyBudget: options.bodyBudget ?? new BodyBudget(64 * 1024 * 1024),
    frontDoorId: undefined,
    instance: "test",
    sharedState: () => ({ store: "memory", connected: true, lastRefreshAt: null, reads: 0, writes: 0 }),
    clientLimits: () => ({ shared: true, instances: 1 }),
  });
  return { router, board, clock, config, forwarder, owners, store, limiter, cache, capacity };
}
