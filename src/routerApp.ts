// The composition root: turns validated settings into a running router — board, selection,
// credentials, upstream, state store and its sync — built once, shared by every call.
// Hosts (Functions, plain Node) call this and adapt requests to `app.handler`.

import { randomUUID } from "node:crypto";
import { hostname, totalmem } from "node:os";
import { managedIdentityTokenProvider } from "./adapters/managedIdentity";
import { createCacheStore, createStateStore } from "./adapters/stateStoreFactory";
import { UndiciUpstream } from "./adapters/undiciUpstream";
import { BreakerBoard } from "./core/breakers/breakerBoard";
import { TripSharing, type TripSharingLog } from "./core/breakers/tripSharing";
import type { StateStore } from "./core/breakers/tripStore";
import type { CacheStore } from "./core/cache/cacheStore";
import { ResponseCache } from "./core/cache/responseCache";
import { CapacityBoard } from "./core/capacity/capacityBoard";
import { CapacitySharing } from "./core/capacity/capacitySharing";
import { createClientIdentifier, operatorsClient } from "./core/clients/clientAuth";
import { ClientLimiter } from "./core/clients/clientLimiter";
import { UsageSharing, type UsageSharingLog } from "./core/clients/usageSharing";
import { type Clock, systemClock } from "./core/clock";
import type { Settings } from "./core/config/settings";
import type { RouterEvents } from "./core/events";
import { type Random, systemRandom } from "./core/random";
import { BodyBudget, defaultBodyMemoryBytes } from "./core/request/bodyBudget";
import { buildCredentials, type TokenProvider } from "./core/routing/credentials";
import { Forwarder } from "./core/routing/forwarder";
import { Pool } from "./core/routing/pool";
import { Router } from "./core/routing/router";
import type { Upstream } from "./core/routing/upstream";
import { sharedStateStatus } from "./core/shared/sharedStateStatus";
import type { SharedStore } from "./core/shared/sharedStore";
import { SyncLoop } from "./core/shared/syncLoop";
import { OwnerBook } from "./core/storedObjects/ownerBook";

export interface RouterAppOptions {
  events?: RouterEvents;
  syncLog?: TripSharingLog;
  clock?: Clock;
  random?: Random;
  /** Defaults to undici. */
  upstream?: Upstream;
  /** Defaults to the store `settings.state` names. */
  store?: SharedStore;
  /** The shared store of cached answers; defaults to the Blob service the settings name (none: local only). */
  cacheStore?: CacheStore | undefined;
  /** Defaults to @azure/identity managed identity. */
  tokenProviderFor?: (clientId: string | undefined) => TokenProvider;
  /** Told when client limits fall back to per-instance shares (the store stopped answering) and when they are shared again. */
  limiterLog?: UsageSharingLog;
  /** Name of this instance in shared state; defaults to the host name and a random suffix. */
  instance?: string;
  /** The slowest upload accepted; defaults in StallWatch (16 KiB/s after 10 s). */
  uploadRate?: { minBytesPerSecond?: number; graceMs?: number };
}

export interface RouterApp {
  router: Router;
  board: BreakerBoard;
  pool: Pool;
  sync: SyncLoop;
  trips: TripSharing;
  store: StateStore;
  owners: OwnerBook;
  limiter: ClientLimiter;
  capacity: CapacityBoard;
  /** `undefined` unless the configuration has `cache`. */
  cache: ResponseCache | undefined;
  instance: string;
  close(): Promise<void>;
}

const quietSyncLog: TripSharingLog = { lost: () => {}, restored: () => {}, badRow: () => {} };

export function createRouterApp(settings: Settings, options: RouterAppOptions = {}): RouterApp {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const events = options.events ?? {};
  const syncLog = options.syncLog ?? quietSyncLog;
  const instance = options.instance ?? `${process.env.WEBSITE_INSTANCE_ID?.slice(0, 12) || hostname()}-${randomUUID().slice(0, 8)}`;
  const config = settings.config;
  const store: SharedStore = options.store ?? createStateStore(settings, { clock, onBadRow: (dropped) => syncLog.badRow(dropped) });
  const upstream = options.upstream ?? new UndiciUpstream({ bodyTimeoutMs: config.attemptTimeoutMs });
  const tokenProviderFor = options.tokenProviderFor ?? ((clientId) => managedIdentityTokenProvider(clientId, clock));

  const board = new BreakerBoard(config.backends, config.circuitBreaker, instance);
  if (events.breakerOpened) board.onTrip(events.breakerOpened);
  if (events.breakerClosed) board.onClose(events.breakerClosed);
  const limiter = new ClientLimiter({ clock, clients: settings.clients.map((c) => c.client) });
  // Each instance takes its share of a throttling deployment by how many instances are present.
  const capacity = new CapacityBoard({ backends: config.backends, clock, random, instances: () => limiter.sharing.instances });
  const usageSharing = new UsageSharing(store, limiter, {
    clock,
    instance,
    random,
    log: options.limiterLog,
    presenceWanted: () => capacity.active,
  });
  const capacitySharing = new CapacitySharing(store, capacity, { clock, random, instance, instances: () => limiter.sharing.instances });
  // One loop for all shared state; each kind joins it with its own round, in this order.
  const sync = new SyncLoop({ refreshMs: settings.stateRefreshMs, clock, random });
  const trips = sync.join(new TripSharing(store, board, { clock, log: syncLog, refreshMs: sync.refreshMs, wake: () => sync.wake() }));
  // A failing store is reported by the trips' lost/restored too: the same outage, seen from the owners' writes.
  const owners = sync.join(
    new OwnerBook(store, {
      log: { writeFailed: (error) => syncLog.lost(error), writeRestored: () => syncLog.restored() },
      wake: (withinMs) => sync.wake(withinMs),
    }),
  );
  sync.join(usageSharing);
  sync.join(capacitySharing);
  const pool = new Pool(config.backends);
  const forwarder = new Forwarder({
    config,
    board,
    upstream,
    credentials: buildCredentials(config.backends, settings.backendKeys, tokenProviderFor),
    clock,
    random,
    events,
    capacity,
  });
  // The cache's store failing is the state account failing: reported with the rest of shared state.
  const cacheLog = { storeLost: (error: unknown) => syncLog.lost(error), storeRestored: () => syncLog.restored() };
  const cache = config.cache
    ? new ResponseCache({
        config: config.cache,
        clock,
        store: "cacheStore" in options ? options.cacheStore : createCacheStore(settings),
        log: cacheLog,
      })
    : undefined;
  const router = new Router({
    forwarder,
    pool,
    board,
    owners,
    limiter,
    cache,
    identify: createClientIdentifier(settings.clients, settings.allowAnonymous ? operatorsClient : undefined),
    clock,
    events,
    maxRequestBytes: config.maxRequestBytes,
    bodyTimeoutMs: config.attemptTimeoutMs,
    uploadRate: options.uploadRate,
    bodyBudget: new BodyBudget(settings.bodyMemoryBytes ?? defaultBodyMemoryBytes(instanceMemory(), config.maxRequestBytes)),
    frontDoorId: settings.frontDoorId,
    instance,
    sharedState: () => sharedStateStatus(store, sync),
    clientLimits: () => usageSharing.status(),
    capacity: () => capacity.view(),
  });
  sync.start();
  return {
    router,
    board,
    pool,
    sync,
    trips,
    store,
    owners,
    limiter,
    capacity,
    cache,
    instance,
    close: async () => {
      await sync.stop();
      await Promise.all([upstream.close?.(), store.close?.()]);
    },
  };
}

/** The instance's memory: its cgroup limit when it runs in one (Flex Consumption does), else the machine's. */
function instanceMemory(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained && constrained > 0 && constrained < totalmem() ? constrained : totalmem();
}
