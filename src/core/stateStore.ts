// The seam to shared breaker state. Implementations: MemoryStateStore (one process) and
// TableStateStore (Azure Table Storage, shared by every instance). Only trips are shared:
// they are rare (written on transitions) and absolute in time, so any instance can apply them.

import type { FailureReason } from "./breaker";

/** One backend's trip as stored: what every instance needs to steer around it. */
export interface TripRecord {
  /** Epoch ms when the backend may take traffic again. */
  openUntil: number;
  /** Epoch ms when the trip began. */
  trippedAt: number;
  reason: FailureReason;
  lastStatus: number | undefined;
  /** Instance that wrote it (for /status and debugging). */
  instance: string;
}

/** Current trips by backend name. Backends without a trip are absent. */
export type SharedTrips = Readonly<Record<string, TripRecord>>;

export interface StateStore {
  /** Where the state lives, without secrets, for the start-up log and /status. */
  readonly description: string;
  /** Every trip of the pool in one read. */
  readTrips(signal: AbortSignal): Promise<SharedTrips>;
  /** Stores a trip; when another instance stored a longer one meanwhile, the longer stays. */
  writeTrip(backend: string, trip: TripRecord, signal: AbortSignal): Promise<void>;
  /** Store operations so far (reads include the re-reads of conflicts), for /status and the benchmark. */
  readonly counts?: { readonly reads: number; readonly writes: number };
  /** Releases connections; the store is not used afterwards. */
  close?(): Promise<void>;
}

/** The trips after adding `trip` for `backend`: the later `openUntil` wins; trips over before `now` are dropped. */
export function mergeTrip(trips: SharedTrips, backend: string, trip: TripRecord, now: number): Record<string, TripRecord> {
  const merged: Record<string, TripRecord> = {};
  for (const [name, existing] of Object.entries(trips)) if (existing.openUntil > now) merged[name] = existing;
  const existing = merged[backend];
  if (!existing || trip.openUntil > existing.openUntil) merged[backend] = trip;
  return merged;
}
