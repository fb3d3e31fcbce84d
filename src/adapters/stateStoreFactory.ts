// Chooses the state store, and the shared store of cached answers, the settings name.

import type { CacheStore } from "../core/cache/cacheStore";
import type { Clock } from "../core/clock";
import type { Settings } from "../core/config/settings";
import type { SharedStore } from "../core/shared/sharedStore";
import { BlobCacheStore } from "./blobCacheStore";
import { MemoryStateStore } from "./memoryStateStore";
import { poolKey, TableStateStore } from "./tableStateStore";

export interface StateStoreOptions {
  clock: Clock;
  /** Told when a stored row held entries that failed the schema (they are ignored). */
  onBadRow?: (dropped: number) => void;
}

export function createStateStore(settings: Settings, options: StateStoreOptions): SharedStore {
  const state = settings.state;
  const maxTripMs = settings.config.circuitBreaker.maxTripDurationMs;
  if (state.kind === "memory") return new MemoryStateStore(options.clock, maxTripMs);
  return new TableStateStore({
    location:
      state.kind === "connectionString"
        ? { kind: "connectionString", connectionString: state.connectionString }
        : { kind: "tableServiceUrl", url: state.url, clientId: state.clientId },
    table: settings.stateTable,
    pool: poolKey(settings.config.backends),
    clock: options.clock,
    maxTripMs,
    onBadRow: options.onBadRow,
  });
}

/** The shared store of cached answers the settings name, or `undefined` (answers stay in each instance). */
export function createCacheStore(settings: Settings): CacheStore | undefined {
  const location = settings.cacheStore;
  if (!settings.config.cache || location.kind === "none") return undefined;
  return new BlobCacheStore({ location, container: settings.cacheContainer });
}
