// The one background loop that keeps this instance and the shared store in step. Each kind of
// shared state (breaker trips, stored objects' owners, client usage, deployments' paces) joins
// it as a participant with a round of its own; the loop gives them one interval with jitter, one
// backoff while the store fails, and one status for `/status`. Participants handle and log their
// own failures, bound their own store calls, and tell the loop how the store answered. The
// request path never waits on any of it.

import type { Clock } from "../clock";
import type { Random } from "../random";

/** How a participant's round went: the store answered, it failed, or there was nothing to do. */
export type RoundOutcome = "ok" | "failed" | "idle";

export interface SyncParticipant {
  /** Its section in `/status`'s shared state (`undefined`: none). */
  readonly section?: string;
  /** One round against the store. Never throws: a failure is handled (and logged) by the participant. */
  round(): Promise<RoundOutcome>;
  status?(): object;
  /** The loop stops: what is still pending is written (bounded by the participant). */
  stop?(): Promise<void>;
}

export interface SyncLoopOptions {
  /** Mean time between rounds. Default 1 s. */
  refreshMs?: number;
  /** Spread of each interval, as a fraction of it (±). Default 0.2. */
  jitter?: number;
  /** Longest interval while the store fails. Default 4 s: sharing resumes within about that of the store answering again. */
  maxBackoffMs?: number;
  clock: Clock;
  random: Random;
}

export interface SyncLoopStatus {
  connected: boolean;
  lastRefreshAt: string | null;
}

export class SyncLoop {
  readonly refreshMs: number;
  private readonly participants: SyncParticipant[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  private stopped = true;
  private running: Promise<void> | undefined;
  private failures = 0;
  private connected: boolean | undefined;
  private lastRefreshAt: number | undefined;

  constructor(private readonly options: SyncLoopOptions) {
    this.refreshMs = options.refreshMs ?? 1000;
  }

  /** Adds a participant; it takes part from the next round on, in the order joined. */
  join<P extends SyncParticipant>(participant: P): P {
    this.participants.push(participant);
    return participant;
  }

  /** Starts the loop; the first round runs at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop, waits for a round in progress, then lets each participant write what it still has. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await Promise.all(this.participants.map((p) => p.stop?.()));
  }

  /**
   * A participant has something to write: the next round runs within `withinMs` (at once by
   * default). Not while a round runs (the next one takes it) nor while the store fails (the
   * backed-off round does).
   */
  wake(withinMs = 0): void {
    if (this.stopped || this.running || this.connected === false) return;
    const at = this.options.clock.now() + withinMs;
    if (at >= this.dueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(withinMs);
  }

  /** One round of every participant in turn; exposed so tests can step the loop. */
  async runRound(): Promise<void> {
    let answered = false;
    let failed = false;
    for (const participant of this.participants) {
      const outcome = await participant.round();
      if (outcome === "failed") failed = true;
      else if (outcome === "ok") answered = true;
    }
    if (failed) {
      this.connected = false;
      this.failures++;
    } else if (answered) {
      this.connected = true;
      this.failures = 0;
      this.lastRefreshAt = this.options.clock.now();
    }
  }

  status(): SyncLoopStatus {
    return {
      connected: this.connected ?? false,
      lastRefreshAt: this.lastRefreshAt === undefined ? null : new Date(this.lastRefreshAt).toISOString(),
    };
  }

  /** Each participant's section of `/status`. */
  sections(): Map<string, object> {
    const sections = new Map<string, object>();
    for (const p of this.participants) if (p.section && p.status) sections.set(p.section, p.status());
    return sections;
  }

  /** The wait before the next round: the interval, doubled per failed round up to the cap, with jitter. */
  nextDelayMs(): number {
    const { jitter = 0.2, maxBackoffMs = 4_000, random } = this.options;
    const base = this.failures === 0 ? this.refreshMs : Math.min(maxBackoffMs, this.refreshMs * 2 ** this.failures);
    // Jitter keeps a thousand instances that started together from reading in lockstep.
    return Math.max(10, base * (1 + jitter * (2 * random() - 1)));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.dueAt = this.options.clock.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Number.POSITIVE_INFINITY;
      this.running = this.runRound().finally(() => {
        this.running = undefined;
        this.schedule(this.nextDelayMs());
      });
    }, delayMs);
    this.timer.unref();
  }
}
