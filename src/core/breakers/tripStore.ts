// The seam to shared breaker state. Implementations: MemoryStateStore (one process) and
// TableStateStore (Azure Table Storage, shared by every instance). Only trips are shared:
// they are rare (written on transitions) and absolute in time, so any instance can apply them.

import type { FailureReason } from "./breaker";

/** The scope of a trip that holds back every call to its backend (a refused or reset connection). */
export const wholeBackend = "*";
/** The scope of a trip that holds back the calls that name no deployment (`GET /openai/models`, …). */
export const noDeployment = "";

/**
 * Which calls a trip holds back at its backend: `wholeBackend`, `noDeployment`, or the name of a
 * deployment at that backend (quotas are per deployment, so breakers are too).
 */
export type TripScope = string;

/** One trip as stored: what every instance needs to steer around it. */
export interface TripRecord {
  /** Backend name: instances sharing state identify a backend by name. */
  backend: string;
  scope: TripScope;
  /** Epoch ms when the breaker may let calls through again. */
  openUntil: number;
  /** Epoch ms when the trip began; no trip lasts past `trippedAt + maxTripDuration`. */
  trippedAt: number;
  reason: FailureReason;
  lastStatus: number | undefined;
  /** Instance that wrote it (for /status and debugging). */
  instance: string;
}

/** Every current trip of a pool. */
export type SharedTrips = readonly TripRecord[];

export interface StateStore {
  /** Where the state lives, without secrets, for the start-up log and /status. */
  readonly description: string;
  /** Every trip of the pool in one read. */
  readTrips(signal: AbortSignal): Promise<SharedTrips>;
  /** Stores a trip; when another instance stored a longer one for the same backend and scope, the longer stays. */
  writeTrip(trip: TripRecord, signal: AbortSignal): Promise<void>;
  /** Store operations so far (reads include the re-reads of conflicts), for /status and the benchmark. */
  readonly counts?: { readonly reads: number; readonly writes: number };
  /** Releases connections; the store is not used afterwards. */
  close?(): Promise<void>;
}

/** When a trip really ends: its `openUntil`, but never later than `maxTripMs` after it began. */
export function tripEnd(trip: Pick<TripRecord, "openUntil" | "trippedAt">, maxTripMs: number): number {
  return Math.min(trip.openUntil, trip.trippedAt + maxTripMs);
}

/** One key per backend and scope, for maps of trips. */
export const tripKey = (trip: Pick<TripRecord, "backend" | "scope">): string => `${trip.backend}\n${trip.scope}`;

/**
 * The trips after adding `trip`: per backend and scope the later end wins; trips over before
 * `now` (their cap included) are dropped, so a row cannot hold a backend out past its cap.
 */
export function mergeTrip(trips: SharedTrips, trip: TripRecord, now: number, maxTripMs: number): TripRecord[] {
  const merged = new Map<string, TripRecord>();
  for (const existing of trips) {
    if (tripEnd(existing, maxTripMs) <= now) continue;
    const key = tripKey(existing);
    const seen = merged.get(key);
    if (!seen || tripEnd(existing, maxTripMs) > tripEnd(seen, maxTripMs)) merged.set(key, existing);
  }
  const key = tripKey(trip);
  const existing = merged.get(key);
  if (tripEnd(trip, maxTripMs) > now && (!existing || tripEnd(trip, maxTripMs) > tripEnd(existing, maxTripMs))) merged.set(key, trip);
  return [...merged.values()];
}

/** The stored trip for `trip`'s backend and scope, if any. */
export function findTrip(trips: SharedTrips, backend: string, scope: TripScope): TripRecord | undefined {
  for (const t of trips) if (t.backend === backend && t.scope === scope) return t;
  return undefined;
}
