// The one reading of a list another instance (or anyone) wrote into a shared row: a JSON array of
// entries, each checked against its schema. What fails is dropped and counted, never trusted; a
// value too long, not JSON or not an array is no list at all.

import type { z } from "zod";

export interface StoredList<T> {
  entries: T[];
  /** Entries (or a whole value) that failed: a row to repair, a line to log. */
  dropped: number;
}

export function decodeStoredList<T>(
  value: unknown,
  schema: z.ZodType<T>,
  bounds: { maxChars?: number; maxEntries?: number } = {},
): StoredList<T> {
  if (value === undefined || value === "") return { entries: [], dropped: 0 };
  if (typeof value !== "string" || value.length > (bounds.maxChars ?? Number.POSITIVE_INFINITY)) return { entries: [], dropped: 1 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { entries: [], dropped: 1 };
  }
  if (!Array.isArray(parsed)) return { entries: [], dropped: 1 };
  const entries: T[] = [];
  let dropped = 0;
  for (const item of parsed.slice(0, bounds.maxEntries ?? parsed.length)) {
    const ok = schema.safeParse(item);
    if (ok.success) entries.push(ok.data);
    else dropped++;
  }
  return { entries, dropped };
}
