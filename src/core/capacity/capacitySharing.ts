// Shares what instances learn about throttling deployments, off the request path, on the shared
// state loop's rounds: every ten seconds an instance reads the paces others wrote, and seeds a gate
// with its share of each (the pace divided by the instances present) before it has learned one of its
// own — so a new instance, or one of a thousand, does not probe a deployment to find what the
// others know. It writes its own estimate (its pace times the instances) when the stored one is off
// by a quarter or old, at most every five minutes, jittered. A store that fails costs nothing but the
// sharing: each gate goes on learning from its own refusals.

import type { Clock } from "../clock";
import type { Random } from "../random";
import { withinDeadline } from "../shared/deadline";
import type { RoundOutcome, SyncParticipant } from "../shared/syncLoop";
import type { CapacityBoard } from "./capacityBoard";
import type { CapacityStore, SharedPace } from "./sharedPaces";

export interface CapacitySharingOptions {
  clock: Clock;
  random: Random;
  instance: string;
  /** How many instances share the deployments (the presence count). */
  instances: () => number;
  /** Between reads. Default 10 s. */
  readEveryMs?: number;
  /** Least time between two writes of one pace by this instance. Default 5 minutes. */
  writeEveryMs?: number;
  /** Longest wait for one store call. Default 2 s. */
  timeoutMs?: number;
}

/** A pace older than this is not taken, and is written again. */
const staleMs = 10 * 60_000;

export class CapacitySharing implements SyncParticipant {
  readonly section = "capacity";
  readonly counts = { reads: 0, writes: 0, failures: 0, seeded: 0 };
  private readAt = Number.NEGATIVE_INFINITY;
  private shared: readonly SharedPace[] = [];
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly store: CapacityStore,
    private readonly board: CapacityBoard,
    private readonly options: CapacitySharingOptions,
  ) {}

  round(): Promise<RoundOutcome> {
    return this.share();
  }

  /** One round: read when due, seed gates that have no pace yet, write paces worth writing. */
  async share(): Promise<RoundOutcome> {
    const { clock, readEveryMs = 10_000, timeoutMs = 2_000 } = this.options;
    const now = clock.now();
    const before = this.counts.reads + this.counts.writes;
    try {
      if (now - this.readAt >= readEveryMs) {
        this.counts.reads++;
        this.shared = await withinDeadline((signal) => this.store.readPaces(signal), timeoutMs);
        this.readAt = now;
        this.seed(now);
      }
      await this.write(now);
    } catch {
      this.counts.failures++;
      return "failed";
    }
    return this.counts.reads + this.counts.writes > before ? "ok" : "idle";
  }

  status(): { reads: number; writes: number; failures: number; seeded: number } {
    return { ...this.counts };
  }

  private seed(now: number): void {
    const instances = Math.max(1, this.options.instances());
    for (const pace of this.shared) {
      if (now - pace.at > staleMs) continue;
      if (this.board.seed(pace.backend, pace.deployment || undefined, pace.tokensPerMinute / instances)) this.counts.seeded++;
    }
  }

  private async write(now: number): Promise<void> {
    const { random, instance, writeEveryMs = 300_000, timeoutMs = 2_000 } = this.options;
    const instances = Math.max(1, this.options.instances());
    for (const view of this.board.view()) {
      if (view.tokensPerMinute === null) continue;
      const deployment = view.deployment ?? "";
      const key = `${view.backend}\n${deployment}`;
      const estimate = view.tokensPerMinute * instances;
      const stored = this.shared.find((p) => p.backend === view.backend && p.deployment === deployment);
      const off = !stored || Math.abs(estimate - stored.tokensPerMinute) > stored.tokensPerMinute / 4 || now - stored.at > staleMs;
      const last = this.writtenAt.get(key) ?? Number.NEGATIVE_INFINITY;
      // Jittered, so instances that learned together do not all write together.
      if (!off || now - last < writeEveryMs * (0.5 + random())) continue;
      const pace: SharedPace = { backend: view.backend, deployment, tokensPerMinute: Math.round(estimate), at: now, instance };
      this.counts.writes++;
      await withinDeadline((signal) => this.store.writePace(pace, signal), timeoutMs);
      this.writtenAt.set(key, now);
      this.shared = [...this.shared.filter((p) => p !== stored), pace];
    }
  }
}
