// Shared trips to and from the text a store keeps. Anyone with access to the table can write a
// row, and other versions of the router write it too: every stored entry is decoded with a schema
// and checked, never cast, and entries that fail are dropped (and left out of the next write).

import { z } from "zod";
import { namePattern } from "../config/config";
import { decodeStoredList } from "../shared/storedList";
import { noDeployment, type SharedTrips, type TripRecord, wholeBackend } from "./tripStore";

/** How far in the future a trip may say it began: clocks of instances differ a little, never by much. */
export const maxClockSkewMs = 30_000;

const latestTime = 8.64e15; // the largest time a Date can hold
const time = z.number().int().min(0).max(latestTime);

// Compact on purpose: a row holds every trip of a pool (see the README for its size).
const entrySchema = z.tuple([
  z.string().regex(namePattern),
  z.union([z.literal(wholeBackend), z.literal(noDeployment), z.string().regex(namePattern)]),
  time,
  time,
  z.enum(["throttled", "serverError", "status", "connectionError", "timeout", "brokenStream"]),
  z.number().int().min(100).max(599).nullable(),
  z.string().regex(/^[\x20-\x7e]{0,100}$/),
]);

export interface DecodedTrips {
  trips: TripRecord[];
  /** Entries that failed the schema (or the whole text, counted as one, when it is not a JSON array). */
  dropped: number;
}

export function encodeTrips(trips: SharedTrips): string {
  return JSON.stringify(trips.map((t) => [t.backend, t.scope, t.openUntil, t.trippedAt, t.reason, t.lastStatus ?? null, t.instance]));
}

/** The valid trips in `text`; `now` bounds how far ahead a trip may claim to have started. */
export function decodeTrips(text: string | undefined, now: number): DecodedTrips {
  const list = decodeStoredList(text, entrySchema);
  const trips: TripRecord[] = [];
  let dropped = list.dropped;
  for (const entry of list.entries) {
    const [backend, scope, openUntil, trippedAt, reason, lastStatus, instance] = entry;
    // A trip that began after it ended, or starts well in the future, would dodge the cap on its length.
    if (trippedAt > openUntil || trippedAt > now + maxClockSkewMs) {
      dropped++;
      continue;
    }
    trips.push({ backend, scope, openUntil, trippedAt, reason, lastStatus: lastStatus ?? undefined, instance });
  }
  return { trips, dropped };
}
