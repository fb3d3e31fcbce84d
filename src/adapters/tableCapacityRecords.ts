// Shared paces of throttling deployments in Table Storage, for TableStateStore: one entity per pool
// (RowKey `capacity.v1`) whose `paces` property lists every backend and deployment's pace. A write
// is a conditional write from the version this instance last saw; a 412 re-reads, merges and tries
// again. Writes are rare (an instance writes a pace when it differs from the stored one by a quarter,
// at most every five minutes); reads come every ten seconds per instance.

import { decodePaces, encodePaces, mergePace, type SharedPace } from "../core/capacity/sharedPaces";
import { writeMerged } from "./conditionalWrite";
import type { TableContext } from "./tableUsageRecords";

const rowKey = "capacity.v1";

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
    const written = await writeMerged({
      client: table.client,
      seen: this.seen ?? (await this.read(signal)),
      merge: (seen) => {
        const paces = mergePace(seen.paces, pace);
        return { entity: { partitionKey: table.pool, rowKey, paces: encodePaces(paces) }, holds: paces };
      },
      reread: () => this.read(signal),
      counts: table.counts,
      failed: (error) => {
        this.seen = undefined;
        table.lost(error);
      },
      signal,
    });
    // Still contended: another instance's pace stands; this one is written on a later round.
    if (typeof written === "object") this.seen = { paces: written.holds, etag: written.etag };
  }

  private async read(signal: AbortSignal): Promise<Seen> {
    const entity = await this.table.getRow(this.table.pool, rowKey, signal);
    this.seen = { paces: decodePaces(entity?.paces), etag: entity?.etag };
    return this.seen;
  }
}
