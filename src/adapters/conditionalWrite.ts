// The one optimistic write every shared Table Storage row uses (trips, usage, presence, paces): write the
// entity if its row is still the version this instance saw (create it when it saw none), and say
// "conflict" when another writer got there first — 412 after an update, 409 after a create — so the
// caller re-reads, merges and tries again (`writeMerged` is that loop). Any other failure goes on to the caller.

import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient, TableEntity } from "@azure/data-tables";

export async function writeIfUnchanged(
  client: TableClient,
  entity: TableEntity<object>,
  at: { etag: string | undefined; signal: AbortSignal },
): Promise<{ etag: string | undefined } | "conflict"> {
  try {
    const written =
      at.etag === undefined
        ? await client.createEntity(entity, { abortSignal: at.signal })
        : await client.updateEntity(entity, "Replace", { etag: at.etag, abortSignal: at.signal });
    return { etag: written.etag };
  } catch (error) {
    if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) return "conflict";
    throw error;
  }
}

/** Conflicting writes before a read-merge-write gives up. */
export const maxWriteTries = 5;

export interface MergedWrite<S extends { etag: string | undefined }, R> {
  client: TableClient;
  /** The row as last seen (its version in `etag`; none: not there). */
  seen: S;
  /** The entity to write from what was seen, and what it holds; `undefined`: nothing needs writing. */
  merge(seen: S): { entity: TableEntity<object>; holds: R } | undefined;
  /** The row read again after another writer got there first. */
  reread(): Promise<S>;
  counts: { writes: number; conflicts: number };
  /** A failure other than a conflict, before it goes on to the caller. */
  failed(error: unknown): void;
  signal: AbortSignal;
}

/**
 * Read, merge, write if unchanged — again from a fresh read on each conflict, up to
 * `maxWriteTries` times: what the written row holds and its version, `"unchanged"` when nothing
 * needed writing, `"contended"` when every try met another writer (the caller decides what that means).
 */
export async function writeMerged<S extends { etag: string | undefined }, R>(
  write: MergedWrite<S, R>,
): Promise<{ holds: R; etag: string | undefined } | "unchanged" | "contended"> {
  let seen = write.seen;
  for (let attempt = 1; attempt <= maxWriteTries; attempt++) {
    const merged = write.merge(seen);
    if (!merged) return "unchanged";
    write.counts.writes++;
    const written = await writeIfUnchanged(write.client, merged.entity, { etag: seen.etag, signal: write.signal }).catch(
      (error: unknown) => {
        write.failed(error);
        throw error;
      },
    );
    if (written !== "conflict") return { holds: merged.holds, etag: written.etag };
    write.counts.conflicts++;
    seen = await write.reread();
  }
  return "contended";
}
