// Notices request bodies that stop arriving — or arrive too slowly to be worth the memory they hold
// — without a timer per call: one coarse interval checks every body being read. A timer per call
// (insert, refresh, clear) showed in the benchmark's profile; a Set entry and a timestamp per chunk
// do not. Time comes from the clock it is given.

import type { Clock } from "../clock";

export interface Watched {
  /** `bytes` arrived: the body is alive. */
  touch(bytes: number): void;
  /** Reading is over (done or failed): stop watching. */
  done(): void;
}

export interface StallWatchOptions {
  /** How long a body may go without a chunk. Checked every quarter of it (at most every second). */
  stallMs: number;
  /**
   * Slowest upload, averaged from the start, once `graceMs` have passed: a caller trickling a byte
   * every few seconds would otherwise hold its share of the body budget for as long as it likes.
   * Default 16 KiB/s (a 32 MiB body then takes at most about half an hour).
   */
  minBytesPerSecond?: number;
  /** Time before the rate is judged. Default 10 s (a slow start, a TLS handshake, a proxy buffering). */
  graceMs?: number;
  clock?: Clock;
}

interface Entry {
  started: number;
  last: number;
  bytes: number;
  onStall: () => void;
}

const wallClock: Clock = { now: () => Date.now() };

export class StallWatch {
  private readonly watched = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly stallMs: number;
  private readonly minBytesPerSecond: number;
  private readonly graceMs: number;
  private readonly clock: Clock;

  constructor(options: StallWatchOptions) {
    this.stallMs = options.stallMs;
    this.minBytesPerSecond = options.minBytesPerSecond ?? 16 * 1024;
    this.graceMs = options.graceMs ?? 10_000;
    this.clock = options.clock ?? wallClock;
  }

  watch(onStall: () => void): Watched {
    const now = this.clock.now();
    const entry: Entry = { started: now, last: now, bytes: 0, onStall };
    this.watched.add(entry);
    this.timer ??= this.start();
    return {
      touch: (bytes) => {
        entry.last = this.clock.now();
        entry.bytes += bytes;
      },
      done: () => {
        this.watched.delete(entry);
      },
    };
  }

  private start(): NodeJS.Timeout {
    const timer = setInterval(() => this.check(), Math.max(10, Math.min(1_000, this.stallMs / 4)));
    timer.unref();
    return timer;
  }

  /** Ends every body that stalled or is too slow; exposed for tests with a fake clock. */
  check(): void {
    if (this.watched.size === 0) {
      // Idle: stop until the next body, so an idle router holds no timer.
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = this.clock.now();
    for (const entry of this.watched) {
      const elapsed = now - entry.started;
      const tooSlow = elapsed >= this.graceMs && entry.bytes < (this.minBytesPerSecond * elapsed) / 1000;
      if (!tooSlow && now - entry.last < this.stallMs) continue;
      this.watched.delete(entry);
      entry.onStall();
    }
  }
}
