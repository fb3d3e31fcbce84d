// What instances tell each other about a throttling deployment: the rate it admits (tokens a
// minute, for the whole deployment: one instance's pace times the instances present), per backend
// and deployment, with when and by whom it was written. The seam to the store, the merge of one
// pace into the shared list, and the schema every list read from the store passes.

import { z } from "zod";
import { namePattern } from "../config/configSchema";
import { decodeStoredList } from "../shared/storedList";

export interface SharedPace {
  backend: string;
  /** The deployment's name at the backend; `""` for calls that name none. */
  deployment: string;
  /** What the whole deployment admits, tokens a minute. */
  tokensPerMinute: number;
  /** Epoch ms. */
  at: number;
  instance: string;
}

/** The seam to shared paces (Table Storage, or memory). */
export interface CapacityStore {
  readPaces(signal: AbortSignal): Promise<readonly SharedPace[]>;
  /** Puts `pace` in the shared list, replacing the entry of its backend and deployment. */
  writePace(pace: SharedPace, signal: AbortSignal): Promise<void>;
}

/** Entries a list holds at most: 30 backends × 20 deployments, as the trips row. */
const maxEntries = 600;

const entry = z.tuple([
  z.string().regex(namePattern),
  z.union([z.literal(""), z.string().regex(namePattern)]),
  z.number().int().positive().max(1e10),
  z.number().int().nonnegative(),
  z.string().max(100),
]);

/** The list with `pace` in place of the entry of its backend and deployment. */
export function mergePace(list: readonly SharedPace[], pace: SharedPace): SharedPace[] {
  const others = list.filter((p) => p.backend !== pace.backend || p.deployment !== pace.deployment);
  return [...others, pace].slice(-maxEntries);
}

export function encodePaces(list: readonly SharedPace[]): string {
  return JSON.stringify(list.map((p) => [p.backend, p.deployment, Math.round(p.tokensPerMinute), Math.round(p.at), p.instance]));
}

/** The paces a stored list holds; entries that fail the schema are left out, never trusted. */
export function decodePaces(value: unknown): SharedPace[] {
  return decodeStoredList(value, entry, { maxChars: 60_000, maxEntries }).entries.map(
    ([backend, deployment, tokensPerMinute, at, instance]) => ({
      backend,
      deployment,
      tokensPerMinute,
      at,
      instance,
    }),
  );
}
