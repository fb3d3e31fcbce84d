// Which backend owns which stored object (response, conversation, file, batch). This instance
// learns an owner when a backend answers a call that creates an object, or finds one by asking;
// it shares what it learns through the state store in the background (batched, never awaited by
// a call), and asks the store — once per id, with a short timeout — when a follow-up names an id
// it has not seen. Calls that name no stored object never reach any of this.

/** One owner record: `backend` undefined deletes it (the object was deleted through the router). */
export interface OwnerChange {
  id: string;
  backend: string | undefined;
}

/** The seam to shared owner records (Table Storage, or memory). */
export interface OwnerStore {
  writeOwners(changes: readonly OwnerChange[], signal: AbortSignal): Promise<void>;
  /** The stored owner's backend name, `undefined` when there is no record (or it fails the schema). */
  readOwner(id: string, signal: AbortSignal): Promise<string | undefined>;
}

export interface OwnerBookOptions {
  /** Longest wait before learned owners are written. Default 500 ms: other instances know them within ~1 s. */
  flushMs?: number;
  /** Longest wait for a store read on a follow-up; past it the owner counts as unknown. Default 1 s. */
  readTimeoutMs?: number;
  /** Owners kept in memory; the oldest learned go first. Default 100,000 (~15 MB). */
  maxKnown?: number;
  /** Told once when writing fails, and once when it works again. */
  log?: { writeFailed(error: unknown): void; writeRestored(): void };
}

/** What /status shows. */
export interface OwnerBookStatus {
  known: number;
  pending: number;
  reads: number;
  writes: number;
  failedWrites: number;
}

/** Changes held while the store fails; past this the oldest are dropped (their ids fall back to asking backends). */
const maxPending = 50_000;
/** Owners per store write call: Table Storage's batch transaction limit. */
const writeChunk = 100;

export class OwnerBook {
  private readonly known = new Map<string, string>();
  private pending = new Map<string, string | undefined>();
  private readonly flushMs: number;
  private readonly readTimeoutMs: number;
  private readonly maxKnown: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private readonly counts = { reads: 0, writes: 0, failedWrites: 0 };

  constructor(
    private readonly store: OwnerStore,
    private readonly options: OwnerBookOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 500;
    this.readTimeoutMs = options.readTimeoutMs ?? 1000;
    this.maxKnown = options.maxKnown ?? 100_000;
  }

  /**
   * The owner of `id`: from memory, else from the store (bounded by the read timeout; a store
   * that fails or is slow makes the owner unknown, never the call fail).
   */
  async find(id: string): Promise<string | undefined> {
    const local = this.known.get(id);
    if (local !== undefined) return local;
    this.counts.reads++;
    try {
      const backend = await this.store.readOwner(id, AbortSignal.timeout(this.readTimeoutMs));
      if (backend !== undefined) this.remember(id, backend);
      return backend;
    } catch {
      return undefined;
    }
  }

  /** Records that `backend` owns `id`, here at once and in the store soon. */
  learn(id: string, backend: string): void {
    if (this.known.get(id) === backend) return;
    this.remember(id, backend);
    this.queue(id, backend);
  }

  /**
   * The object was deleted: its shared record goes. This instance keeps the former owner in
   * memory, so a late call on the id gets that backend's own 404 in one attempt.
   */
  forget(id: string): void {
    this.queue(id, undefined);
  }

  status(): OwnerBookStatus {
    return { known: this.known.size, pending: this.pending.size, ...this.counts };
  }

  /** Writes what is pending and stops writing. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.pending.size > 0) await this.flush();
  }

  private remember(id: string, backend: string): void {
    this.known.delete(id); // re-inserted last: the Map's order is the eviction order
    this.known.set(id, backend);
    if (this.known.size > this.maxKnown) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  private queue(id: string, backend: string | undefined): void {
    this.pending.set(id, backend);
    if (this.pending.size > maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.schedule(this.flushMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        // Failing: try again later, up to 8 s apart; what arrived meanwhile goes in the same write.
        if (this.pending.size > 0) this.schedule(this.failing ? Math.min(8_000, this.flushMs * 8) : this.flushMs);
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const changes = [...batch].map(([id, backend]) => ({ id, backend }));
    const signal = AbortSignal.timeout(5_000);
    try {
      for (let i = 0; i < changes.length; i += writeChunk) {
        this.counts.writes++;
        await this.store.writeOwners(changes.slice(i, i + writeChunk), signal);
      }
      if (this.failing) this.options.log?.writeRestored();
      this.failing = false;
    } catch (error) {
      this.counts.failedWrites++;
      if (!this.failing) this.options.log?.writeFailed(error);
      this.failing = true;
      // Keep what was not written, unless newer changes to the same ids arrived meanwhile.
      for (const [id, backend] of batch) if (!this.pending.has(id)) this.pending.set(id, backend);
    }
  }
}
