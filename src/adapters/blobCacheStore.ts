// Shared cached answers in Azure Blob Storage: one block blob per key in one container of the
// state storage account. A read is one GET (404: no entry), a write one PUT; the container is
// created when a call finds it missing. Retries are the response cache's business (it goes local
// for a while when the store fails), so the SDK makes none of its own.

import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from "@azure/storage-blob";
import type { CacheStore } from "../core/cache/cacheStore";
import type { CacheStoreSetting } from "../core/config/settings";

export interface BlobCacheStoreOptions {
  location: Exclude<CacheStoreSetting, { kind: "none" }>;
  container: string;
}

const pipeline: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };

export class BlobCacheStore implements CacheStore {
  readonly description: string;
  /** Requests sent, for tests and the benchmark. */
  readonly counts = { reads: 0, writes: 0 };
  private readonly container: ContainerClient;
  private containerReady = false;

  constructor(options: BlobCacheStoreOptions) {
    const { location } = options;
    const service =
      location.kind === "connectionString"
        ? BlobServiceClient.fromConnectionString(location.connectionString, pipeline)
        : new BlobServiceClient(
            location.url,
            new DefaultAzureCredential(location.clientId ? { managedIdentityClientId: location.clientId } : {}),
            pipeline,
          );
    this.container = service.getContainerClient(options.container);
    this.description = `Azure Blob Storage ${new URL(service.url).host}/${options.container}`;
  }

  async read(name: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    this.counts.reads++;
    try {
      // One GET (downloadToBuffer would ask for the blob's properties first).
      const answer = await this.container.getBlockBlobClient(name).download(0, undefined, { abortSignal: signal });
      const chunks: Buffer[] = [];
      for await (const chunk of answer.readableStreamBody ?? []) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      // No entry, or no container yet: a miss either way (the first write creates the container).
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async write(name: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    if (!this.containerReady) await this.ensureContainer(signal);
    this.counts.writes++;
    const blob = this.container.getBlockBlobClient(name);
    try {
      await blob.uploadData(bytes, { abortSignal: signal, blobHTTPHeaders: { blobContentType: "application/octet-stream" } });
    } catch (error) {
      // The container went away (deleted, or the emulator restarted empty): made again once.
      if (!isNotFound(error)) throw error;
      this.containerReady = false;
      await this.ensureContainer(signal);
      await blob.uploadData(bytes, { abortSignal: signal });
    }
  }

  private async ensureContainer(signal: AbortSignal): Promise<void> {
    this.counts.writes++;
    await this.container.createIfNotExists({ abortSignal: signal });
    this.containerReady = true;
  }
}

/** A 404 from the service (the SDK's RestError, whichever copy of core-rest-pipeline threw it). */
function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: unknown } | null)?.statusCode === 404;
}
