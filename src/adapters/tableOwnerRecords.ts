// Owner records and creator indexes in Table Storage, for TableStateStore.
//
// Owner records: one entity per object (RowKey the id) in one of 256 partitions per pool by a hash
// of the id, holding its backend and creator. Creator indexes: one partition per client
// (`<pool>.created.<client>`), RowKey the id: what the client's list calls are filtered by, read
// whole in one query.

import { createHash } from "node:crypto";
import { RestError } from "@azure/core-rest-pipeline";
import { odata } from "@azure/data-tables";
import { z } from "zod";
import { namePattern } from "../core/config/config";
import type { OwnerChange, OwnerRecord } from "../core/storedObjects/ownerBook";
import { isObjectId } from "../core/storedObjects/storedObject";
import { isTableMissing } from "./tableErrors";
import type { TableContext } from "./tableUsageRecords";

/** Partitions owner records are spread over (by a hash of the id), so their writes stay far under a partition's target. */
const ownerPartitions = 256;
/** An owner record as stored; anything else in the row is ignored, a row failing this is no record. */
const ownerRowSchema = z.object({ backend: z.string().regex(namePattern), creator: z.string().regex(namePattern).optional() });

/** The partition of the owner record of `id`: the pool's, one of `ownerPartitions` by a hash of the id. */
export function ownerPartitionKey(pool: string, id: string): string {
  const bucket = createHash("sha256").update(id).digest().readUInt16BE(0) % ownerPartitions;
  return `${pool}.owners.${bucket.toString(16).padStart(2, "0")}`;
}

export class TableOwnerRecords {
  constructor(private readonly table: TableContext) {}

  /**
   * Owner records: one entity per object (RowKey the id), partitions by a hash of the id. Changes
   * to one partition go in one batch transaction; deletes go one by one (a batch fails whole when
   * one entity is missing, and a missing record is what a delete wants anyway).
   */
  async writeOwners(changes: readonly OwnerChange[], signal: AbortSignal): Promise<void> {
    await this.table.ensureTable(signal);
    const upserts = new Map<string, { partitionKey: string; rowKey: string; backend: string; creator?: string }[]>();
    for (const { id, backend, creator } of changes) {
      const partitionKey = ownerPartitionKey(this.table.pool, id);
      if (backend === undefined) {
        this.table.counts.writes++;
        try {
          await this.table.client.deleteEntity(partitionKey, id, { abortSignal: signal });
        } catch (error) {
          if (!(error instanceof RestError && error.statusCode === 404 && !isTableMissing(error))) {
            if (error instanceof RestError && isTableMissing(error)) this.table.lost(error);
            throw error;
          }
        }
        continue;
      }
      const group = upserts.get(partitionKey) ?? [];
      group.push(creator === undefined ? { partitionKey, rowKey: id, backend } : { partitionKey, rowKey: id, backend, creator });
      upserts.set(partitionKey, group);
    }
    for (const group of upserts.values()) {
      this.table.counts.writes++;
      await this.writing(() =>
        group.length === 1
          ? this.table.client.upsertEntity(group[0] as (typeof group)[0], "Replace", { abortSignal: signal })
          : this.table.client.submitTransaction(group.map((entity) => ["upsert", entity, "Replace"] as const)),
      );
    }
  }

  /** A creator's index: one partition per client (`<pool>.created.<client>`), RowKey the id; one batch per write. */
  async writeCreated(client: string, ids: readonly string[], signal: AbortSignal): Promise<void> {
    await this.table.ensureTable(signal);
    const partitionKey = `${this.table.pool}.created.${client}`;
    const entities = ids.map((id) => ({ partitionKey, rowKey: id }));
    this.table.counts.writes++;
    await this.writing(() =>
      entities.length === 1
        ? this.table.client.upsertEntity(entities[0] as (typeof entities)[0], "Replace", { abortSignal: signal })
        : this.table.client.submitTransaction(entities.map((entity) => ["upsert", entity, "Replace"] as const)),
    );
  }

  async readCreated(client: string, signal: AbortSignal): Promise<ReadonlySet<string>> {
    await this.table.ensureTable(signal);
    const ids = new Set<string>();
    const partitionKey = `${this.table.pool}.created.${client}`;
    try {
      const pages = this.table.client
        .listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ["RowKey"] }, abortSignal: signal })
        .byPage({ maxPageSize: 1000 });
      let read = 0;
      for await (const page of pages) {
        this.table.counts.reads++;
        for (const row of page) if (typeof row.rowKey === "string" && isObjectId(row.rowKey)) ids.add(row.rowKey);
        // Bounded: a client with more than 20,000 objects has the rest read as unknown (not its own).
        if (++read >= 20) break;
      }
    } catch (error) {
      if (error instanceof RestError && isTableMissing(error)) this.table.lost(error);
      throw error;
    }
    return ids;
  }

  async readOwner(id: string, signal: AbortSignal): Promise<OwnerRecord | undefined> {
    await this.table.ensureTable(signal);
    const row = ownerRowSchema.safeParse(await this.table.getRow(ownerPartitionKey(this.table.pool, id), id, signal));
    return row.success ? { backend: row.data.backend, creator: row.data.creator } : undefined;
  }

  /** Runs a write; a lost table is noted (and recreated on the next call) before the error goes on. */
  private async writing(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.table.lost(error);
      throw error;
    }
  }
}
