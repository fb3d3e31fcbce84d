// Which backend owns which stored object (response, conversation, file, batch). This instance
// learns an owner when a backend answers a call that creates an object, or finds one by asking;
// it shares what it learns through the state store in the background (batched, never awaited by
// a call), and asks the store — once per id, with a short timeout — when a follow-up names an id
// it has not seen. Calls that name no stored object never reach any of this.

import { withinDeadline } from "../shared/deadline";
import type { RoundOutcome, SyncParticipant } from "../shared/syncLoop";

/** Who holds a stored object, and which client made it (`undefined`: not known, so the operators' only). */
export interface OwnerRecord {
  backend: string;
  creator: string | undefined;
}

/** One owner record: `backend` undefined deletes it (the object was deleted through the router). */
export interface OwnerChange {
  id: string;
  backend: string | undefined;
  creator?: string | undefined;
}

/** The seam to shared owner records (Table Storage, or memory). */
export interface OwnerStore {
  writeOwners(changes: readonly OwnerChange[], signal: AbortSignal): Promise<void>;
  /** The stored record, `undefined` when there is none (or it fails the schema). */
  readOwner(id: string, signal: AbortSignal): Promise<OwnerRecord | undefined>;
  /** Adds `ids` to `client`'s index of the objects it created (what its list calls are filtered by). */
  writeCreated(client: string, ids: readonly string[], signal: AbortSignal): Promise<void>;
  /** The ids in `client`'s index, in one read (up to 1,000; one more read per thousand beyond). */
  readCreated(client: string, signal: AbortSignal): Promise<ReadonlySet<string>>;
}

export interface OwnerBookOptions {
  /** Longest wait before learned owners are written. Default 500 ms: other instances know them within ~1 s. */
  flushMs?: number;
  /** Asks the shared-state loop for a round within the given time (owners to write). */
  wake?: (withinMs: number) => void;
  /** Longest wait for a store read on a follow-up; past it the owner counts as unknown. Default 1 s. */
  readTimeoutMs?: number;
  /** Owners kept in memory; the oldest learned go first. Default 100,000 (~15 MB). */
  maxKnown?: number;
  /** Told once when writing fails, and once when it works again. */
  log?: { writeFailed(error: unknown): void; writeRestored(): void };
  /** Times the writes a creating call waits for. Default: the system clock. */
  clock?: { now(): number };
}

/** What /status shows. */
export interface OwnerBookStatus {
  known: number;
  pending: number;
  reads: number;
  writes: number;
  failedWrites: number;
  /** Writes made before a creating call's answer went on (one per new object). */
  recordedBeforeAnswer: number;
  /** Their mean time, ms: what a creating call waits for its record. */
  recordMeanMs: number;
}

/** Changes held while the store fails; past this the oldest are dropped (their ids fall back to asking backends). */
const maxPending = 50_000;
/** Owners per store write call: Table Storage's batch transaction limit. */
const writeChunk = 100;

export class OwnerBook implements SyncParticipant {
  readonly section = "owners";
  /** What this instance knows; `gone`: deleted through it (kept so a late call gets the owner's own 404). */
  private readonly known = new Map<string, OwnerRecord & { gone?: boolean }>();
  private pending = new Map<string, OwnerRecord | undefined>();
  /** New objects by creator, for the creators' indexes: written with the next flush. */
  private pendingCreated = new Map<string, Set<string>>();
  /** Each creator's index as last read, briefly: a list call's refilled pages read it once. */
  private readonly createdRead = new Map<string, { at: number; ids: ReadonlySet<string> }>();
  private readonly flushMs: number;
  private readonly readTimeoutMs: number;
  private readonly maxKnown: number;
  private failing = false;
  private readonly counts = { reads: 0, writes: 0, failedWrites: 0, recordedBeforeAnswer: 0 };
  private recordMsTotal = 0;

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
  async find(id: string): Promise<OwnerRecord | undefined> {
    const local = this.known.get(id);
    if (local !== undefined) return local;
    return this.read(id);
  }

  /**
   * The record as the store holds it now (bounded like `find`), replacing what this instance
   * remembered; what this instance remembers when the store does not answer.
   */
  async reread(id: string): Promise<OwnerRecord | undefined> {
    return (await this.read(id)) ?? this.known.get(id);
  }

  /** Records that `backend` owns `id` (made by `creator`), here at once and in the store soon. */
  learn(id: string, backend: string, creator?: string): void {
    const known = this.known.get(id);
    if (known?.backend === backend && known.creator === creator) return;
    const record = { backend, creator };
    this.remember(id, record);
    this.queue(id, record);
  }

  /**
   * Records a new object's owner and creator and writes it to the store now, before the answer that
   * reveals the id goes on: another instance then knows whose it is as soon as the caller can name
   * it. Bounded by the read timeout; a store that fails or is slow leaves the write to the next
   * flush (and the id to its creator at this instance only until then), never fails the call.
   */
  async record(id: string, backend: string, creator: string): Promise<void> {
    const record = { backend, creator };
    this.remember(id, record);
    this.counts.writes += 2;
    this.counts.recordedBeforeAnswer++;
    const clock = this.options.clock ?? Date;
    const started = clock.now();
    // The record (whose it is, where) and the creator's index (what its list calls are filtered by),
    // side by side: one round trip before the id goes on.
    const [owner, index] = await Promise.allSettled([
      withinDeadline((signal) => this.store.writeOwners([{ id, ...record }], signal), this.readTimeoutMs),
      withinDeadline((signal) => this.store.writeCreated(creator, [id], signal), this.readTimeoutMs),
    ]);
    this.recordMsTotal += clock.now() - started;
    if (owner.status === "rejected") {
      this.counts.failedWrites++;
      this.queue(id, record);
    }
    if (index.status === "rejected") {
      const pending = this.pendingCreated.get(creator) ?? new Set<string>();
      pending.add(id);
      this.pendingCreated.set(creator, pending);
      this.options.wake?.(this.flushMs);
    }
  }

  /**
   * Which of `ids` `client` created: those this instance knows, the rest from the client's index
   * in the store — one read for the whole page (and the pages a list call refills with, read
   * within 2 s), bounded by the read timeout. The index is written with the record, before an id is
   * released, so it holds every object its client can name. A store that fails makes them not the client's.
   */
  async createdBy(client: string, ids: readonly string[]): Promise<Set<string>> {
    const mine = new Set<string>();
    const unknown: string[] = [];
    for (const id of ids) {
      const known = this.known.get(id);
      if (known) {
        if (known.creator === client) mine.add(id);
      } else unknown.push(id);
    }
    if (unknown.length === 0) return mine;
    const clock = this.options.clock ?? Date;
    let index = this.createdRead.get(client);
    if (!index || clock.now() - index.at > 2_000) {
      this.counts.reads++;
      try {
        const ids = await withinDeadline((signal) => this.store.readCreated(client, signal), this.readTimeoutMs);
        index = { at: clock.now(), ids };
        this.createdRead.set(client, index);
      } catch {
        index = { at: 0, ids: new Set() };
      }
    }
    for (const id of unknown) if (index.ids.has(id)) mine.add(id);
    return mine;
  }

  /** Forgets what this instance remembers of `id` (a record that proved wrong); the store is asked again next time. */
  drop(id: string): void {
    this.known.delete(id);
  }

  private async read(id: string): Promise<OwnerRecord | undefined> {
    this.counts.reads++;
    try {
      const record = await withinDeadline((signal) => this.store.readOwner(id, signal), this.readTimeoutMs);
      if (record !== undefined) this.remember(id, record);
      return record;
    } catch {
      return undefined;
    }
  }

  /**
   * The object was deleted: its shared record goes. This instance keeps the former owner in
   * memory, so a late call on the id gets that backend's own 404 in one attempt.
   */
  forget(id: string): void {
    const known = this.known.get(id);
    if (known) this.known.set(id, { ...known, gone: true });
    this.queue(id, undefined);
  }

  /** Whether `id` was deleted through this instance (its former owner's 404 is the answer). */
  isGone(id: string): boolean {
    return this.known.get(id)?.gone === true;
  }

  status(): OwnerBookStatus {
    const recordMeanMs = this.counts.recordedBeforeAnswer > 0 ? this.recordMsTotal / this.counts.recordedBeforeAnswer : 0;
    return { known: this.known.size, pending: this.pending.size, ...this.counts, recordMeanMs: Math.round(recordMeanMs * 100) / 100 };
  }

  /** One round of the shared-state loop: what is pending, in batches. */
  async round(): Promise<RoundOutcome> {
    if (this.pending.size === 0 && this.pendingCreated.size === 0) return "idle";
    return this.flush();
  }

  /** The loop stops: what is pending is written. */
  async stop(): Promise<void> {
    await this.round();
  }

  private remember(id: string, record: OwnerRecord): void {
    this.known.delete(id); // re-inserted last: the Map's order is the eviction order
    this.known.set(id, record);
    if (this.known.size > this.maxKnown) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  private queue(id: string, record: OwnerRecord | undefined): void {
    this.pending.set(id, record);
    if (this.pending.size > maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.options.wake?.(this.flushMs);
  }

  /** Owner records, then each creator's new ids, in chunks; a creator's ids leave `created` once written. */
  private async write(changes: readonly OwnerChange[], created: Map<string, Set<string>>, signal: AbortSignal): Promise<void> {
    for (let i = 0; i < changes.length; i += writeChunk) {
      this.counts.writes++;
      await this.store.writeOwners(changes.slice(i, i + writeChunk), signal);
    }
    for (const [client, ids] of created) {
      const list = [...ids];
      for (let i = 0; i < list.length; i += writeChunk) {
        this.counts.writes++;
        await this.store.writeCreated(client, list.slice(i, i + writeChunk), signal);
      }
      created.delete(client);
    }
  }

  private async flush(): Promise<RoundOutcome> {
    const batch = this.pending;
    this.pending = new Map();
    const created = this.pendingCreated;
    this.pendingCreated = new Map();
    const changes = [...batch].map(([id, record]) => ({ id, backend: record?.backend, creator: record?.creator }));
    try {
      // The whole batch within 5 s: a slow store leaves the rest for the next round.
      await withinDeadline((signal) => this.write(changes, created, signal), 5_000);
      if (this.failing) this.options.log?.writeRestored();
      this.failing = false;
      return "ok";
    } catch (error) {
      this.counts.failedWrites++;
      if (!this.failing) this.options.log?.writeFailed(error);
      this.failing = true;
      // Keep what was not written, unless newer changes to the same ids arrived meanwhile.
      for (const [id, record] of batch) if (!this.pending.has(id)) this.pending.set(id, record);
      for (const [client, ids] of created) {
        const index = this.pendingCreated.get(client) ?? new Set<string>();
        for (const id of ids) index.add(id);
        this.pendingCreated.set(client, index);
      }
      return "failed";
    }
  }
}
