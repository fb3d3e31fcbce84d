// Notices request bodies that stop arriving, without a timer per call: one coarse interval checks
// every body being read. A timer per call (insert, refresh, clear) showed in the benchmark's
// profile; a Set entry and a timestamp per chunk do not. It runs on real time, like any timeout.

export interface Watched {
  /** A chunk arrived: the body is alive. */
  touch(): void;
  /** Reading is over (done or failed): stop watching. */
  done(): void;
}

export class StallWatch {
  private readonly watched = new Set<{ last: number; onStall: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  /** `stallMs`: how long a body may go without a chunk. Checked every quarter of it (at most every second). */
  constructor(private readonly stallMs: number) {}

  watch(onStall: () => void): Watched {
    const entry = { last: Date.now(), onStall };
    this.watched.add(entry);
    this.timer ??= this.start();
    return {
      touch: () => {
        entry.last = Date.now();
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

  private check(): void {
    if (this.watched.size === 0) {
      // Idle: stop until the next body, so an idle router holds no timer.
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const entry of this.watched) {
      if (now - entry.last < this.stallMs) continue;
      this.watched.delete(entry);
      entry.onStall();
    }
  }
}
