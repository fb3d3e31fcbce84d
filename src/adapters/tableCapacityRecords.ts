// Shared paces of throttling deployments in Table Storage, for TableStateStore: one entity per pool
// (RowKey `capacity.v1`) whose `paces` property lists every backend and deployment's pace. A write
// is a conditional write from the version this instance last saw; a 412 re-reads, merges and tries
// again. Writes are rare (an instance writes a pace when it differs from the stored one by a quarter,
// at most every five minutes); reads come every ten seconds per instance.

import { decodePaces, encodePaces, mergePace, type SharedPace } from "../core/capacity/sharedPaces";
import { writeIfUnchanged } from "./conditionalWrite";
import type { TableContext } from "./tableUsageRecords";

const rowKey = "capacity.v1";
const maxWriteTries = 5;

interface Seen {
  paces: readonly SharedPace[];
  etag: string | undefined;
}

export class TableCapacityRecords {
  private seen: Seen | undefined;

  constructor(private readonly table: TableContext) {}

  forget(): void {
    this.seen = undefined;
  }

  async readPaces(signal: AbortSignal): Promise<readonly SharedPace[]> {
    await this.table.ensureTable(signal);
    return (await this.read(signal)).paces;
  }

  async writePace(pace: SharedPace, signal: AbortSignal): Promise<void> {
    const { table } = this;
    await table.ensureTable(signal);
    let seen = this.seen ?? (await this.read(signal));
    for (let attempt = 1; attempt <= maxWriteTries; attempt++) {
      const paces = mergePace(seen.paces, pace);
      table.counts.writes++;
      const entity = { partitionKey: table.pool, rowKey, paces: encodePaces(paces) };
      const written = await writeIfUnchanged(table.client, entity, { etag: seen.etag, signal }).catch((error: unknown) => {
        this.seen = undefined;
        table.lost(error);
        throw error;
      });
      if (written !== "conflict") {
        this.seen = { paces, etag: written.etag };
        return;
      }
      table.counts.conflicts++;
      seen = await this.read(signal);
    }
    // Still contended: another instance's pace stands; this one is written on a later round.
  }

  private async read(signal: AbortSignal): Promise<Seen> {
    const entity = await this.table.getRow(this.table.pool, rowKey, signal);
    this.seen = { paces: decodePaces(entity?.paces), etag: entity?.etag };
    return this.seen;
  }
}
