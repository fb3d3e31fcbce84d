// Shared breaker state in Azure Table Storage. One entity per pool holds every backend's trip,
// so a refresh is one point read and a trip is one conditional write (ETag). Two instances
// racing on the entity settle through 412 + re-read + merge: the longer trip always survives.

import { createHash } from "node:crypto";
import { type PipelinePolicy, RestError } from "@azure/core-rest-pipeline";
import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import type { BackendConfig } from "../core/config";
import { mergeTrip, type SharedTrips, type StateStore, type TripRecord } from "../core/stateStore";

/** Where the table is and how to reach it. */
export type TableLocation =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "tableServiceUrl"; url: string; clientId: string | undefined };

export interface TableStateStoreOptions {
  location: TableLocation;
  table: string;
  /** Partition key of this pool's entity; see `poolKey`. */
  pool: string;
  now?: () => number;
}

/** The entity as stored. */
interface PoolEntity {
  partitionKey: string;
  rowKey: string;
  /** JSON of `SharedTrips`. */
  trips: string;
  /** Instance of the last writer. */
  updatedBy: string;
}

const rowKey = "breakers";
const maxWriteTries = 5;

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

export class TableStateStore implements StateStore {
  readonly description: string;
  /** HTTP requests sent to Table Storage, and 412 conflicts settled, for tests and the benchmark. */
  readonly counts = { requests: 0, reads: 0, writes: 0, conflicts: 0 };
  private readonly client: TableClient;
  private readonly now: () => number;
  private tableReady = false;
  /** The entity as this instance last saw it: a write starts from it and saves a read. */
  private lastSeen: { etag: string | undefined; trips: SharedTrips } | undefined;

  constructor(private readonly options: TableStateStoreOptions) {
    this.now = options.now ?? Date.now;
    const counting: PipelinePolicy = {
      name: "countTableRequests",
      sendRequest: (request, next) => {
        this.counts.requests++;
        return next(request);
      },
    };
    const clientOptions: TableServiceClientOptions = {
      // StateSync owns retries and backoff; the SDK's own would hide an outage behind long waits.
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
  }

  async readTrips(signal: AbortSignal): Promise<SharedTrips> {
    await this.ensureTable(signal);
    return (await this.read(signal)).trips;
  }

  async writeTrip(backend: string, trip: TripRecord, signal: AbortSignal): Promise<void> {
    await this.ensureTable(signal);
    let seen = this.lastSeen ?? (await this.read(signal));
    for (let attempt = 1; attempt <= maxWriteTries; attempt++) {
      const merged = mergeTrip(seen.trips, backend, trip, this.now());
      // Another instance already stored this trip or a longer one: nothing to write.
      if (seen.trips[backend] && merged[backend] === seen.trips[backend]) return;
      const entity: PoolEntity = { partitionKey: this.options.pool, rowKey, trips: JSON.stringify(merged), updatedBy: trip.instance };
      try {
        this.counts.writes++;
        const response =
          seen.etag === undefined
            ? await this.client.createEntity(entity, { abortSignal: signal })
            : await this.client.updateEntity(entity, "Replace", { etag: seen.etag, abortSignal: signal });
        this.lastSeen = { etag: response.etag, trips: merged };
        return;
      } catch (error) {
        // 412: someone wrote since we read; 409: someone created it first. Re-read, merge, try again.
        if (!(error instanceof RestError) || (error.statusCode !== 412 && error.statusCode !== 409)) {
          this.forgetOnTableLoss(error);
          throw error;
        }
        this.counts.conflicts++;
        seen = await this.read(signal);
      }
    }
    throw new Error(`state store: gave up writing ${backend} after ${maxWriteTries} conflicting writes`);
  }

  private async read(signal: AbortSignal): Promise<{ etag: string | undefined; trips: SharedTrips }> {
    this.counts.reads++;
    try {
      const entity = await this.client.getEntity<PoolEntity>(this.options.pool, rowKey, { abortSignal: signal });
      this.lastSeen = { etag: entity.etag, trips: parseTrips(entity.trips) };
    } catch (error) {
      if (!(error instanceof RestError && error.statusCode === 404 && error.code !== "TableNotFound")) {
        this.forgetOnTableLoss(error);
        throw error;
      }
      this.lastSeen = { etag: undefined, trips: {} };
    }
    return this.lastSeen;
  }

  private async ensureTable(signal: AbortSignal): Promise<void> {
    if (this.tableReady) return;
    try {
      await this.client.createTable({ abortSignal: signal });
    } catch (error) {
      if (!(error instanceof RestError && error.statusCode === 409)) throw error;
    }
    this.tableReady = true;
  }

  // A storage account recreated (or Azurite restarted) loses the table: create it again next time.
  private forgetOnTableLoss(error: unknown): void {
    if (error instanceof RestError && error.statusCode === 404) this.tableReady = false;
    this.lastSeen = undefined;
  }
}

function parseTrips(text: string | undefined): SharedTrips {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as SharedTrips) : {};
  } catch {
    return {};
  }
}

function accountOf(connectionString: string): string {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return "devstoreaccount1 (Azurite)";
  return /AccountName=([^;]+)/i.exec(connectionString)?.[1] ?? "account";
}
