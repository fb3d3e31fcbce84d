// Breaker trips shared between instances, as a participant of the shared-state loop: each round
// writes the local trips not yet written, then reads every instance's and applies them to this
// instance's board. A trip is written at once (the loop is woken), so other instances learn of it
// within one of their rounds; a trip over before the next round stays local.

import type { Clock } from "../clock";
import { withinDeadline } from "../shared/deadline";
import type { RoundOutcome, SyncParticipant } from "../shared/syncLoop";
import type { BreakerBoard } from "./breakerBoard";
import { type StateStore, type TripRecord, tripKey } from "./tripStore";

export interface TripSharingLog {
  /** Once, when the store stops answering. */
  lost(error: unknown): void;
  /** Once, when it answers again. */
  restored(): void;
  /** Once per stored version of a row that held entries failing the schema; they were ignored. */
  badRow(dropped: number): void;
}

export interface TripSharingOptions {
  clock: Clock;
  log: TripSharingLog;
  /** The loop's interval: a trip shorter than it is not written (it would be over before anyone read it). */
  refreshMs: number;
  /** Longest wait for one store call. Default: the refresh interval, at most 2 s. */
  timeoutMs?: number;
  /** Asks the loop for a round now (a trip to write). */
  wake: () => void;
}

export class TripSharing implements SyncParticipant {
  /** Local trips not yet written, by backend and scope. */
  private readonly pending = new Map<string, TripRecord>();
  private readonly timeoutMs: number;
  private connected: boolean | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly board: BreakerBoard,
    private readonly options: TripSharingOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? Math.min(options.refreshMs, 2000);
    board.onTrip((trip) => {
      // A trip over before the next refresh (a PTU's `retry-after-ms` of a few ms) stays local:
      // by the time another instance read it, it would be over, and writing it costs the store.
      if (trip.source === "local" && trip.openUntil - trip.trippedAt >= options.refreshMs) this.share(trip);
    });
  }

  /** Queues a local trip for the store and asks the loop to write it now. */
  share(trip: TripRecord): void {
    const key = tripKey(trip);
    const queued = this.pending.get(key);
    if (!queued || trip.openUntil > queued.openUntil) {
      const { backend, scope, openUntil, trippedAt, reason, lastStatus, instance } = trip;
      this.pending.set(key, { backend, scope, openUntil, trippedAt, reason, lastStatus, instance });
    }
    this.options.wake();
  }

  async round(): Promise<RoundOutcome> {
    // Trips that ended are reported closed on this round, whether or not the store answers.
    this.board.sweep(this.options.clock.now());
    try {
      await this.flushWrites();
      const trips = await withinDeadline((signal) => this.store.readTrips(signal), this.timeoutMs);
      this.board.applySharedTrips(trips, this.options.clock.now());
      if (this.connected === false) this.options.log.restored();
      this.connected = true;
      return "ok";
    } catch (error) {
      if (this.connected !== false) this.options.log.lost(error);
      this.connected = false;
      return "failed";
    }
  }

  private async flushWrites(): Promise<void> {
    const now = this.options.clock.now();
    for (const [key, trip] of [...this.pending]) {
      if (trip.openUntil <= now) {
        this.pending.delete(key);
        continue;
      }
      await withinDeadline((signal) => this.store.writeTrip(trip, signal), this.timeoutMs);
      // A longer trip may have been queued while this one was written.
      if (this.pending.get(key) === trip) this.pending.delete(key);
    }
  }
}
