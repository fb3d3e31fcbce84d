// Client usage and instance presence in Table Storage, for TableStateStore.
//
// Usage: one entity per client (RowKey the client's name) in one of 16 partitions by a hash of the
// name; its `buckets` property holds the counted five-second buckets as JSON `[[bucket, requests,
// tokens], …]`. An add is a conditional write from the version this instance last saw (one write,
// no read, while no other instance wrote in between); a 412 re-reads and adds again, so every add
// lands exactly once. An entry failing the schema (negative, fractional, absurdly large, not a
// number) is dropped, never trusted: a bucket lost that way costs at most the window, and the
// limiter never counts less than its own usage.
//
// Presence: eight entities in the pool's presence partition; an instance counts itself in the one
// its name hashes to, once per 30-second slot (`{ slot, count, previous }`, conditional writes),
// and one partition query reads them all.

import { createHash } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import { type BucketUsage, mergeBuckets } from "../core/clients/usageBuckets";
import { decodeStoredList } from "../core/shared/storedList";
import { maxWriteTries, writeMerged } from "./conditionalWrite";

const usagePartitions = 16;
const presenceRows = 8;
/** More than this in one bucket is garbage, not usage. */
const maxCount = 1e12;

const entry = z.tuple([z.number().int().min(0), z.number().int().min(0).max(maxCount), z.number().int().min(0).max(maxCount)]);
const presenceRowSchema = z.object({
  slot: z.number().int(),
  count: z.number().int().min(0).max(100_000),
  previous: z.number().int().min(0).max(100_000),
});

/** The keys of a client's usage record: the pool's partition (one of 16 by a hash of the name), the name. */
export function usageKey(pool: string, client: string): { partitionKey: string; rowKey: string } {
  const bucket = createHash("sha256").update(client).digest().readUInt8(0) % usagePartitions;
  return { partitionKey: `${pool}.usage.${bucket.toString(16)}`, rowKey: client };
}

/** The buckets a stored `buckets` property holds; entries that fail the schema are left out. */
export function decodeBuckets(value: unknown): BucketUsage[] {
  return decodeStoredList(value, entry, { maxChars: 64 * 1024, maxEntries: 64 }).entries.map(([bucket, requests, tokens]) => ({
    bucket,
    requests,
    tokens,
  }));
}

const encodeBuckets = (buckets: readonly BucketUsage[]): string =>
  JSON.stringify(buckets.map((b) => [b.bucket, Math.round(b.requests), Math.round(b.tokens)]));

/** What TableStateStore lends these records: its client, pool, counters and table handling. */
export interface TableContext {
  client: TableClient;
  pool: string;
  counts: { reads: number; writes: number; conflicts: number };
  ensureTable(signal: AbortSignal): Promise<void>;
  getRow(partitionKey: string, rowKey: string, signal: AbortSignal): Promise<(Record<string, unknown> & { etag?: string }) | undefined>;
  /** Notes a lost table (to recreate it) before an error goes on. */
  lost(error: unknown): void;
}

interface Seen {
  buckets: readonly BucketUsage[];
  etag: string | undefined;
}

export class TableUsageRecords {
  /** Each record as this instance last saw or wrote it: an add starts from it and saves a read. */
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly table: TableContext) {}

  forget(): void {
    this.seen.clear();
  }

  async addUsage(client: string, delta: readonly BucketUsage[], signal: AbortSignal): Promise<readonly BucketUsage[]> {
    const { table } = this;
    await table.ensureTable(signal);
    const key = usageKey(table.pool, client);
    const written = await writeMerged({
      client: table.client,
      seen: this.seen.get(key.rowKey) ?? (await this.read(key, signal)),
      merge: (seen) => {
        const buckets = mergeBuckets(seen.buckets, delta);
        return { entity: { ...key, buckets: encodeBuckets(buckets) }, holds: buckets };
      },
      reread: () => this.read(key, signal),
      counts: table.counts,
      failed: (error) => {
        this.seen.delete(key.rowKey);
        table.lost(error);
      },
      signal,
    });
    if (typeof written === "object") {
      this.seen.set(key.rowKey, { buckets: written.holds, etag: written.etag });
      return written.holds;
    }
    throw new Error(`state store: gave up adding usage of ${client} after ${maxWriteTries} conflicting writes`);
  }

  async readUsage(client: string, signal: AbortSignal): Promise<readonly BucketUsage[]> {
    await this.table.ensureTable(signal);
    return (await this.read(usageKey(this.table.pool, client), signal)).buckets;
  }

  async checkIn(instance: string, slot: number, signal: AbortSignal): Promise<void> {
    const { table } = this;
    await table.ensureTable(signal);
    const key = {
      partitionKey: `${table.pool}.presence`,
      rowKey: `p${createHash("sha256").update(instance).digest().readUInt8(0) % presenceRows}`,
    };
    const readRow = async () => {
      const row = await table.getRow(key.partitionKey, key.rowKey, signal);
      const stored = presenceRowSchema.safeParse(row);
      return { was: stored.success ? stored.data : undefined, etag: row?.etag };
    };
    await writeMerged({
      client: table.client,
      seen: await readRow(),
      merge: ({ was }) => {
        const next =
          was?.slot === slot
            ? { slot, count: was.count + 1, previous: was.previous }
            : { slot, count: 1, previous: was?.slot === slot - 1 ? was.count : 0 };
        return { entity: { ...key, ...next }, holds: next };
      },
      reread: readRow,
      counts: table.counts,
      failed: (error) => table.lost(error),
      signal,
    });
    // Still contended after every try: this slot's count goes without this instance (presence is a
    // share's divisor, not a limit): never an outage of the limits for it.
  }

  async readPresence(slot: number, signal: AbortSignal): Promise<{ current: number; previous: number }> {
    const { table } = this;
    await table.ensureTable(signal);
    table.counts.reads++;
    let current = 0;
    let previous = 0;
    try {
      const rows = table.client.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${`${table.pool}.presence`}` },
        abortSignal: signal,
      });
      for await (const row of rows) {
        const stored = presenceRowSchema.safeParse(row);
        if (!stored.success) continue;
        if (stored.data.slot === slot) {
          current += stored.data.count;
          previous += stored.data.previous;
        } else if (stored.data.slot === slot - 1) previous += stored.data.count;
      }
    } catch (error) {
      table.lost(error);
      throw error;
    }
    return { current, previous };
  }

  private async read(key: { partitionKey: string; rowKey: string }, signal: AbortSignal): Promise<Seen> {
    const entity = await this.table.getRow(key.partitionKey, key.rowKey, signal);
    const seen = { buckets: decodeBuckets(entity?.buckets), etag: entity?.etag };
    this.seen.set(key.rowKey, seen);
    return seen;
  }
}
