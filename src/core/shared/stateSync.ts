// Keeps this instance's breaker board and the shared store in step, in the background:
// a refresh (one read) every interval with jitter, and a write for each local trip.
// The store is a helper, never a dependency: every call has a timeout, failures back off,
// and the request path never waits on any of it.

import type { BreakerBoard } from "../breakers/breakerBoard";
import { type StateStore, type TripRecord, tripKey } from "../breakers/tripStore";
import type { Clock } from "../clock";
import type { Random } from "../random";
import type { OwnerBookStatus } from "../storedObjects/ownerBook";
import { withinDeadline } from "./deadline";

/** What /status says about shared state. */
export interface SharedStateStatus {
  store: string;
  connected: boolean;
  lastRefreshAt: string | null;
  /** Store operations by this instance since start. */
  reads: number;
  writes: number;
  /** Owner records of stored objects (added by the composition root). */
  owners?: OwnerBookStatus;
  /** Paces of throttling deployments shared between instances (added by the composition root). */
  capacity?: { reads: number; writes: number; failures: number; seeded: number };
}

export interface StateSyncLog {
  /** Once, when the store stops answering. */
  lost(error: unknown): void;
  /** Once, when it answers again. */
  restored(): void;
  /** Once per stored version of a row that held entries failing the schema; they were ignored. */
  badRow(dropped: number): void;
}

export interface StateSyncOptions {
  /** Mean time between refreshes. Default 1 s. */
  refreshMs?: number;
  /** Spread of each interval, as a fraction of it (±). Default 0.2. */
  jitter?: number;
  /** Longest wait for one store call. Default: the refresh interval, at most 2 s. */
  timeoutMs?: number;
  /** Longest interval while the store fails. Default 4 s: sharing resumes within about that of the store answering again. */
  maxBackoffMs?: number;
  clock: Clock;
  random: Random;
  log: StateSyncLog;
  /**
   * More shared state to keep in step on each refresh (client usage), after the trips: it gets
   * the same interval, jitter and backoff, and handles its own failures.
   */
  alsoOnRefresh?: () => Promise<void>;
}

export class StateSync {
  private readonly refreshMs: number;
  private readonly jitter: number;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  /** Local trips not yet written, by backend and scope. */
  private readonly pending = new Map<string, TripRecord>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private running: Promise<void> | undefined;
  private failures = 0;
  private connected: boolean | undefined;
  private lastRefreshAt: number | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly board: BreakerBoard,
    private readonly options: StateSyncOptions,
  ) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.jitter = options.jitter ?? 0.2;
    this.timeoutMs = options.timeoutMs ?? Math.min(this.refreshMs, 2000);
    this.maxBackoffMs = options.maxBackoffMs ?? 4_000;
    board.onTrip((trip) => {
      // A trip over before the next refresh (a PTU's `retry-after-ms` of a few ms) stays local:
      // by the time another instance read it, it would be over, and writing it costs the store.
      if (trip.source === "local" && trip.openUntil - trip.trippedAt >= this.refreshMs) this.share(trip);
    });
  }

  /** Starts the background loop; the first refresh runs at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Queues a local trip for the store and returns at once. */
  share(trip: TripRecord): void {
    const key = tripKey(trip);
    const queued = this.pending.get(key);
    if (!queued || trip.openUntil > queued.openUntil) {
      const { backend, scope, openUntil, trippedAt, reason, lastStatus, instance } = trip;
      this.pending.set(key, { backend, scope, openUntil, trippedAt, reason, lastStatus, instance });
    }
    if (!this.stopped && !this.running && this.connected !== false) {
      // Write now rather than at the next tick: other instances learn within one of their refreshes.
      // While the store is down the write waits for the backed-off tick instead.
      if (this.timer) clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  status(): SharedStateStatus {
    return {
      store: this.store.description,
      connected: this.connected ?? false,
      lastRefreshAt: this.lastRefreshAt === undefined ? null : new Date(this.lastRefreshAt).toISOString(),
      reads: this.store.counts?.reads ?? 0,
      writes: this.store.counts?.writes ?? 0,
    };
  }

  /** One round of writes then a read; exposed so tests can step the loop. */
  async syncOnce(): Promise<void> {
    // Trips that ended are reported closed on this tick, whether or not the store answers.
    this.board.sweep(this.options.clock.now());
    try {
      await this.flushWrites();
      const trips = await this.withTimeout((signal) => this.store.readTrips(signal));
      const now = this.options.clock.now();
      this.board.applySharedTrips(trips, now);
      this.lastRefreshAt = now;
      this.succeeded();
    } catch (error) {
      this.failed(error);
    }
    await this.options.alsoOnRefresh?.();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.syncOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.nextDelay());
      });
    }, delayMs);
    this.timer.unref();
  }

  private nextDelay(): number {
    const base = this.failures === 0 ? this.refreshMs : Math.min(this.maxBackoffMs, this.refreshMs * 2 ** this.failures);
    // Jitter keeps a thousand instances that started together from reading in lockstep.
    return Math.max(10, base * (1 + this.jitter * (2 * this.options.random() - 1)));
  }

  private async flushWrites(): Promise<void> {
    const now = this.options.clock.now();
    for (const [key, trip] of [...this.pending]) {
      if (trip.openUntil <= now) {
        this.pending.delete(key);
        continue;
      }
      await this.withTimeout((signal) => this.store.writeTrip(trip, signal));
      // A longer trip may have been queued while this one was written.
      if (this.pending.get(key) === trip) this.pending.delete(key);
    }
  }

  private withTimeout<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withinDeadline(call, this.timeoutMs, "state store");
  }

  private succeeded(): void {
    if (this.connected === false) this.options.log.restored();
    this.connected = true;
    this.failures = 0;
  }

  private failed(error: unknown): void {
    if (this.connected !== false) this.options.log.lost(error);
    this.connected = false;
    this.failures++;
  }
}
