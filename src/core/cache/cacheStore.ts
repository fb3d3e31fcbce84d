// Where cached answers are shared between instances: one named entry per key, read and written
// whole. Its twins are MemoryCacheStore (here: tests, one process) and BlobCacheStore (Azure Blob
// Storage, src/adapters). The store holds bytes only; what they mean, and whether they are sound,
// is cachedAnswerCodec's concern — anyone can write to the store.

export interface CacheStore {
  /** Human-readable location for /status and logs (no secret). */
  readonly description: string;
  /** The entry stored under `name`, `undefined` when there is none. Throws when the store fails. */
  read(name: string, signal: AbortSignal): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `name`, replacing what was there. Throws when the store fails. */
  write(name: string, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** The store's in-memory twin: one map, for unit tests and the composition of tests without Azurite. */
export class MemoryCacheStore implements CacheStore {
  readonly description = "memory";
  readonly entries = new Map<string, Uint8Array>();
  readonly counts = { reads: 0, writes: 0 };
  /** Set to make every call fail, as a store that is down does. */
  down = false;

  async read(name: string): Promise<Uint8Array | undefined> {
    this.counts.reads++;
    if (this.down) throw new Error("cache store down");
    return this.entries.get(name);
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.counts.writes++;
    if (this.down) throw new Error("cache store down");
    this.entries.set(name, bytes);
  }
}
