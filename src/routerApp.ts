// The composition root: turns validated settings into a running router — board, selection,
// credentials, upstream, state store and its sync — built once, shared by every call.
// Hosts (Functions, plain Node) call this and adapt requests to `app.handler`.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { managedIdentityTokenProvider } from "./adapters/managedIdentity";
import { createStateStore } from "./adapters/stateStoreFactory";
import { UndiciUpstream } from "./adapters/undiciUpstream";
import { BreakerBoard } from "./core/breakerBoard";
import { createClientAuthenticator } from "./core/clientAuth";
import { type Clock, type Random, systemClock, systemRandom } from "./core/clock";
import { buildCredentials, type TokenProvider } from "./core/credentials";
import type { RouterEvents } from "./core/events";
import { Forwarder } from "./core/forwarder";
import { Router } from "./core/router";
import { groupByPriority } from "./core/selection";
import type { Settings } from "./core/settings";
import type { StateStore } from "./core/stateStore";
import { StateSync, type StateSyncLog } from "./core/stateSync";
import type { Upstream } from "./core/upstream";

export interface RouterAppOptions {
  events?: RouterEvents;
  syncLog?: StateSyncLog;
  clock?: Clock;
  random?: Random;
  /** Defaults to undici. */
  upstream?: Upstream;
  /** Defaults to the store `settings.state` names. */
  store?: StateStore;
  /** Defaults to @azure/identity managed identity. */
  tokenProviderFor?: (clientId: string | undefined) => TokenProvider;
  /** Name of this instance in shared state; defaults to the host name and a random suffix. */
  instance?: string;
}

export interface RouterApp {
  router: Router;
  board: BreakerBoard;
  sync: StateSync;
  store: StateStore;
  instance: string;
  close(): Promise<void>;
}

export function createRouterApp(settings: Settings, options: RouterAppOptions = {}): RouterApp {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const events = options.events ?? {};
  const instance = options.instance ?? `${process.env.WEBSITE_INSTANCE_ID?.slice(0, 12) || hostname()}-${randomUUID().slice(0, 8)}`;
  const config = settings.config;
  const store: StateStore = options.store ?? createStateStore(settings);
  const upstream = options.upstream ?? new UndiciUpstream({ bodyTimeoutMs: config.attemptTimeoutMs });
  const tokenProviderFor = options.tokenProviderFor ?? ((clientId) => managedIdentityTokenProvider(clientId, clock));

  let sync: StateSync | undefined;
  const board = new BreakerBoard(
    config.backends.map((b) => b.name),
    config.circuitBreaker,
    instance,
    events,
    (backend, trip) => sync?.share(backend, trip),
  );
  sync = new StateSync(store, board, {
    refreshMs: settings.stateRefreshMs,
    clock,
    random,
    log: options.syncLog ?? { lost: () => {}, restored: () => {} },
  });
  const forwarder = new Forwarder({
    config,
    board,
    groups: groupByPriority(config.backends),
    upstream,
    credentials: buildCredentials(config.backends, settings.backendKeys, tokenProviderFor),
    clock,
    random,
    events,
  });
  const stateSync = sync;
  const router = new Router({
    forwarder,
    board,
    authenticate: createClientAuthenticator(settings.clientKeys, settings.allowAnonymous),
    clock,
    events,
    maxRequestBytes: config.maxRequestBytes,
    frontDoorId: settings.frontDoorId,
    instance,
    sharedState: () => stateSync.status(),
  });
  stateSync.start();
  return {
    router,
    board,
    sync: stateSync,
    store,
    instance,
    close: async () => {
      await stateSync.stop();
      await Promise.all([upstream.close?.(), store.close?.()]);
    },
  };
}
