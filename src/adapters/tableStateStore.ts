// Shared breaker state in Azure Table Storage. One entity per pool holds every trip of every
// backend and deployment, so a refresh is one point read and a trip is one conditional write
// (ETag). Two instances racing on the entity settle through 412 + re-read + merge: the longer
// trip always survives. Rows are decoded with a schema: what fails it is dropped, logged once,
// and left out of the next write.

import { createHash } from "node:crypto";
import { type PipelinePolicy, RestError } from "@azure/core-rest-pipeline";
import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { decodeTrips, encodeTrips } from "../core/breakers/tripCodec";
import { findTrip, mergeTrip, type SharedTrips, type StateStore, type TripRecord, tripEnd } from "../core/breakers/tripStore";
import type { CapacityStore, SharedPace } from "../core/capacity/sharedPaces";
import type { BucketUsage } from "../core/clients/usageBuckets";
import type { UsageStore } from "../core/clients/usageSharing";
import type { Clock } from "../core/clock";
import type { BackendConfig } from "../core/config/config";
import type { OwnerChange, OwnerRecord, OwnerStore } from "../core/storedObjects/ownerBook";
import { maxWriteTries, writeMerged } from "./conditionalWrite";
import { TableCapacityRecords } from "./tableCapacityRecords";
import { errorCodeOf, isTableMissing } from "./tableErrors";
import { TableOwnerRecords } from "./tableOwnerRecords";
import { type TableContext, TableUsageRecords } from "./tableUsageRecords";

/** Where the table is and how to reach it. */
export type TableLocation =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "tableServiceUrl"; url: string; clientId: string | undefined };

export interface TableStateStoreOptions {
  location: TableLocation;
  table: string;
  /** Partition key of this pool's entity; see `poolKey`. */
  pool: string;
  clock: Clock;
  /** The pool's `maxTripDuration`: trips past it are dropped when writing. */
  maxTripMs: number;
  /** Told once per stored version of the row that held entries failing the schema. */
  onBadRow?: (dropped: number) => void;
}

/** The entity as stored: `trips`, then `trips1`, `trips2`, … when the encoded trips outgrow one property. */
type PoolEntity = { partitionKey: string; rowKey: string; updatedBy: string } & Record<string, string>;

// Versioned (an older format kept one trip per backend under RowKey "breakers"; this row keeps trips
// per deployment): during a rolling upgrade old and new instances do not see each other's trips,
// rather than misread them.
const rowKey = "breakers.v2";
/** A string property holds 64 KiB of UTF-16, 32K characters; the encoding is ASCII. */
const charsPerProperty = 30_000;
/** At most this many properties: 15 × 60 KB stays under the entity's 1 MiB. */
const maxChunks = 15;

interface Seen {
  etag: string | undefined;
  trips: SharedTrips;
  /** The row held entries that failed the schema: the next write leaves them out, whatever else it changes. */
  needsRepair: boolean;
}

/**
 * The pool's partition key: a digest of its backends' names and URLs. Router deployments with the
 * same backends (two regions behind Front Door) share one entity; different pools never clash.
 */
export function poolKey(backends: readonly Pick<BackendConfig, "name" | "origin" | "basePath">[]): string {
  const identity = backends
    .map((b) => `${b.name}=${b.origin}${b.basePath}`)
    .sort()
    .join("\n");
  return `pool-${createHash("sha256").update(identity).digest("hex").slice(0, 20)}`;
}

/** An entity as read, before its schema is checked. */
type StoredRow = Record<string, unknown> & { etag?: string };

export class TableStateStore implements StateStore, OwnerStore, UsageStore, CapacityStore {
  readonly description: string;
  /** HTTP requests sent to Table Storage, and 412 conflicts settled, for tests and the benchmark. */
  readonly counts = { requests: 0, reads: 0, writes: 0, conflicts: 0 };
  private readonly client: TableClient;
  private tableReady = false;
  /** The entity as this instance last saw it: a write starts from it and saves a read. */
  private lastSeen: Seen | undefined;
  /** Client usage and instance presence, the records of their own file. */
  private readonly usage: TableUsageRecords;
  /** Owner records and creator indexes, the records of their own file. */
  private readonly owners: TableOwnerRecords;
  /** Shared paces of throttling deployments, the records of their own file. */
  private readonly paces: TableCapacityRecords;
  /** ETag of the last row reported bad, so a bad row is logged once, not on every refresh. */
  private reportedEtag: string | undefined;

  constructor(private readonly options: TableStateStoreOptions) {
    const counting: PipelinePolicy = {
      name: "countTableRequests",
      sendRequest: (request, next) => {
        this.counts.requests++;
        return next(request);
      },
    };
    const clientOptions: TableServiceClientOptions = {
      // The shared-state loop owns retries and backoff; the SDK's own would hide an outage behind long waits.
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ policy: counting, position: "perCall" }],
    };
    const location = options.location;
    if (location.kind === "connectionString") {
      const insecure = /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true|=http:\/\//i.test(location.connectionString);
      this.client = TableClient.fromConnectionString(location.connectionString, options.table, {
        ...clientOptions,
        allowInsecureConnection: insecure,
      });
      this.description = `Azure Table Storage ${accountOf(location.connectionString)}/${options.table} (connection string)`;
    } else {
      const credential = new DefaultAzureCredential(location.clientId ? { managedIdentityClientId: location.clientId } : {});
      this.client = new TableClient(location.url, options.table, credential, clientOptions);
      this.description = `Azure Table Storage ${new URL(location.url).host}/${options.table} (managed identity)`;
    }
    const context: TableContext = {
      client: this.client,
      pool: options.pool,
      counts: this.counts,
      ensureTable: (signal) => this.ensureTable(signal),
      getRow: (partitionKey, key, signal) => this.getRow(partitionKey, key, signal),
      lost: (error: unknown) => {
        if (error instanceof RestError && isTableMissing(error)) this.forgetOnTableLoss(error);
      },
    };
    this.usage = new TableUsageRecords(context);
    this.owners = new TableOwnerRecords(context);
    this.paces = new TableCapacityRecords(context);
  }

  async readTrips(signal: AbortSignal): Promise<SharedTrips> {
    await this.ensureTable(signal);
    return (await this.read(signal)).trips;
  }

  async writeTrip(trip: TripRecord, signal: AbortSignal): Promise<void> {
    await this.ensureTable(signal);
    const { clock, maxTripMs } = this.options;
    const written = await writeMerged({
      client: this.client,
      seen: this.lastSeen ?? (await this.read(signal)),
      merge: (seen) => {
        // Another instance already stored this trip or a longer one, and the row is sound: nothing to write.
        const stored = findTrip(seen.trips, trip.backend, trip.scope);
        if (stored && tripEnd(stored, maxTripMs) >= tripEnd(trip, maxTripMs) && !seen.needsRepair) return undefined;
        const merged = mergeTrip(seen.trips, trip, clock.now(), maxTripMs);
        return { entity: this.entity(merged, trip.instance), holds: merged };
      },
      reread: () => this.read(signal),
      counts: this.counts,
      failed: (error) => this.forgetOnTableLoss(error),
      signal,
    });
    if (written === "unchanged") return;
    if (written !== "contended") {
      this.lastSeen = { etag: written.etag, trips: written.holds, needsRepair: false };
      return;
    }
    throw new Error(`state store: gave up writing a trip of ${trip.backend} after ${maxWriteTries} conflicting writes`);
  }

  writeOwners(changes: readonly OwnerChange[], signal: AbortSignal): Promise<void> {
    return this.owners.writeOwners(changes, signal);
  }

  writeCreated(client: string, ids: readonly string[], signal: AbortSignal): Promise<void> {
    return this.owners.writeCreated(client, ids, signal);
  }

  readCreated(client: string, signal: AbortSignal): Promise<ReadonlySet<string>> {
    return this.owners.readCreated(client, signal);
  }

  readOwner(id: string, signal: AbortSignal): Promise<OwnerRecord | undefined> {
    return this.owners.readOwner(id, signal);
  }

  addUsage(client: string, delta: readonly BucketUsage[], signal: AbortSignal): Promise<readonly BucketUsage[]> {
    return this.usage.addUsage(client, delta, signal);
  }

  readUsage(client: string, signal: AbortSignal): Promise<readonly BucketUsage[]> {
    return this.usage.readUsage(client, signal);
  }

  readPaces(signal: AbortSignal): Promise<readonly SharedPace[]> {
    return this.paces.readPaces(signal);
  }

  writePace(pace: SharedPace, signal: AbortSignal): Promise<void> {
    return this.paces.writePace(pace, signal);
  }

  checkIn(instance: string, slot: number, signal: AbortSignal): Promise<void> {
    return this.usage.checkIn(instance, slot, signal);
  }

  readPresence(slot: number, signal: AbortSignal): Promise<{ current: number; previous: number }> {
    return this.usage.readPresence(slot, signal);
  }

  /** One entity by its keys (a counted read), or `undefined` when there is none; a lost table is noted and thrown. */
  private async getRow(partitionKey: string, rowKey: string, signal: AbortSignal): Promise<StoredRow | undefined> {
    this.counts.reads++;
    try {
      return await this.client.getEntity<Record<string, unknown>>(partitionKey, rowKey, { abortSignal: signal });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && !isTableMissing(error)) return undefined;
      this.forgetOnTableLoss(error);
      throw error;
    }
  }

  private entity(trips: SharedTrips, writer: string): PoolEntity {
    const text = encodeWithin(trips, maxChunks * charsPerProperty, this.options.maxTripMs);
    const entity: PoolEntity = { partitionKey: this.options.pool, rowKey, updatedBy: writer, trips: "" };
    const chunks = Math.ceil(text.length / charsPerProperty);
    for (let i = 0; i < chunks; i++) entity[i === 0 ? "trips" : `trips${i}`] = text.slice(i * charsPerProperty, (i + 1) * charsPerProperty);
    return entity;
  }

  private async read(signal: AbortSignal): Promise<Seen> {
    const entity = await this.getRow(this.options.pool, rowKey, signal);
    if (entity === undefined) {
      this.lastSeen = { etag: undefined, trips: [], needsRepair: false };
      return this.lastSeen;
    }
    const previous = this.lastSeen;
    // An unchanged row needs no decoding: most refreshes read the same version again.
    if (previous && entity.etag !== undefined && previous.etag === entity.etag) return previous;
    const { trips, dropped } = decodeTrips(joinChunks(entity), this.options.clock.now());
    if (dropped > 0 && entity.etag !== this.reportedEtag) {
      this.reportedEtag = entity.etag;
      this.options.onBadRow?.(dropped);
    }
    this.lastSeen = { etag: entity.etag, trips, needsRepair: dropped > 0 };
    return this.lastSeen;
  }

  private async ensureTable(signal: AbortSignal): Promise<void> {
    if (this.tableReady) return;
    try {
      await this.client.createTable({ abortSignal: signal });
    } catch (error) {
      // 409 TableAlreadyExists is what we want; 409 TableBeingDeleted (a delete takes 40 s or more)
      // is an outage like any other: the caller backs off and this runs again.
      if (!(error instanceof RestError && error.statusCode === 409 && errorCodeOf(error) !== "TableBeingDeleted")) throw error;
    }
    this.tableReady = true;
    this.usage.forget();
    this.paces.forget();
  }

  // A storage account recreated, the table deleted (or Azurite restarted) loses the table: create it again next time.
  private forgetOnTableLoss(error: unknown): void {
    if (error instanceof RestError && error.statusCode === 404) this.tableReady = false;
    this.lastSeen = undefined;
  }
}

/**
 * The trips encoded in at most `maxChars`: past it, the trips ending soonest are left out (they
 * matter least, and the instances that saw them keep them locally) — never a truncated text.
 */
export function encodeWithin(trips: SharedTrips, maxChars: number, maxTripMs: number): string {
  let text = encodeTrips(trips);
  if (text.length <= maxChars) return text;
  let kept = [...trips].sort((a, b) => tripEnd(b, maxTripMs) - tripEnd(a, maxTripMs));
  while (text.length > maxChars && kept.length > 0) {
    kept = kept.slice(0, Math.floor((kept.length * maxChars) / text.length) - 1);
    text = encodeTrips(kept);
  }
  return text;
}

/** The encoded trips of a stored entity: its chunk properties in order; anything not a string ends the text. */
function joinChunks(entity: Record<string, unknown>): string | undefined {
  const first = entity.trips;
  if (typeof first !== "string") return first === undefined ? undefined : "not a string";
  let text = first;
  for (let i = 1; i < maxChunks; i++) {
    const next = entity[`trips${i}`];
    if (typeof next !== "string") break;
    text += next;
  }
  return text;
}

function accountOf(connectionString: string): string {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return "devstoreaccount1 (Azurite)";
  return /AccountName=([^;]+)/i.exec(connectionString)?.[1] ?? "account";
}

export { isTableMissing } from "./tableErrors";
export { ownerPartitionKey } from "./tableOwnerRecords";
