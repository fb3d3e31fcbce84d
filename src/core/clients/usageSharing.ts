// Shares client usage between instances, off the request path: one round per round of the
// shared-state loop (its jitter and backoff). Each round, for each client with limits
// and recent traffic, this instance adds what it has not shared yet to the client's record (one
// conditional write, no read) or, with nothing to add, reads it; the store answers with every
// instance's usage per bucket. An instance also counts itself present once per 30-second slot and
// reads how many are present, so it knows its share before its first call. When the store stops
// answering, each instance holds itself to its share of each limit (the limit divided by the
// instances last present), never to "unlimited" and never to "reject everything".

import type { Clock } from "../clock";
import { withinDeadline } from "../shared/deadline";
import type { RoundOutcome, SyncParticipant } from "../shared/syncLoop";
import type { ClientLimiter } from "./clientLimiter";
import { type BucketUsage, bucketMs, bucketOf, type UsageDimension, windowBuckets } from "./usageBuckets";

/** The seam to shared usage and presence records (Table Storage, or memory). */
export interface UsageStore {
  /** Adds `delta` (buckets of one instance's unshared usage) to the client's record; the record's buckets after. */
  addUsage(client: string, delta: readonly BucketUsage[], signal: AbortSignal): Promise<readonly BucketUsage[]>;
  readUsage(client: string, signal: AbortSignal): Promise<readonly BucketUsage[]>;
  /** Counts `instance` present in `slot` (once per slot and instance). */
  checkIn(instance: string, slot: number, signal: AbortSignal): Promise<void>;
  /** Instances present in `slot` and in the slot before. */
  readPresence(slot: number, signal: AbortSignal): Promise<{ current: number; previous: number }>;
}

export interface UsageSharingLog {
  /** Once, when sharing fails: limits now hold per instance. */
  degraded(error: unknown, instances: number): void;
  /** Once, when sharing works again. */
  restored(): void;
}

export interface UsageSharingOptions {
  clock: Clock;
  /** This instance's name, for its presence. */
  instance: string;
  /** Longest wait for one store call. Default 2 s. */
  timeoutMs?: number;
  log?: UsageSharingLog;
  /** A number in [0, 1): where in each slot this instance checks in, so a thousand do not check in at once. */
  random?: () => number;
  /** Presence is wanted without client limits too (capacity gates take their share of a deployment by it). */
  presenceWanted?: () => boolean;
}

/** Presence is counted per slot; an instance checks in once per slot. */
export const presenceSlotMs = 30_000;
/** After its first slot, an instance reads presence this often (before: on every round). */
const presenceReadMs = 10_000;
/** A client quiet this long has nothing to share and nothing to admit against. */
const quietMs = windowBuckets * bucketMs + 5_000;
/** Instances any one record may claim: more is garbage, not a fleet. */
const maxInstances = 10_000;

export class UsageSharing implements SyncParticipant {
  readonly counts = { reads: 0, writes: 0, failures: 0 };
  private readonly timeoutMs: number;
  private readonly startedAt: number;
  private checkedInSlot = -1;
  private checkInAt = 0;
  private presenceReadAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: UsageStore,
    private readonly limiter: ClientLimiter,
    private readonly options: UsageSharingOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.startedAt = options.clock.now();
  }

  status(): { shared: boolean; instances: number; reads: number; writes: number; failures: number } {
    return { shared: !this.limiter.sharing.degraded, instances: this.limiter.sharing.instances, ...this.counts };
  }

  round(): Promise<RoundOutcome> {
    return this.share();
  }

  /** One round: presence when due, then each client with limits and recent traffic. */
  async share(): Promise<RoundOutcome> {
    // A router whose clients have no limits, and whose deployments never throttled, shares nothing, presence included.
    if (!this.limiter.anyLimits && !this.options.presenceWanted?.()) return "idle";
    const now = this.options.clock.now();
    try {
      await this.presence(now);
      for (const usage of this.limiter.usage.values()) {
        if (!usage.client.limits) continue;
        const pending = usage.unshared.entries(now);
        if (pending.length === 0 && now - usage.lastCallAt > quietMs) continue;
        const name = usage.client.name;
        let answer: readonly BucketUsage[];
        if (pending.length === 0) {
          this.counts.reads++;
          answer = await this.bounded((signal) => this.store.readUsage(name, signal));
        } else {
          this.counts.writes++;
          answer = await this.bounded((signal) => this.store.addUsage(name, pending, signal));
          // What arrived during the write stays unshared for the next round.
          for (const b of pending) usage.unshared.add(b.bucket, -b.requests, -b.tokens, now);
        }
        // Never less than this instance's own usage: a record reset or garbled loses no usage seen here.
        usage.shared.replace(
          withFloor(answer, (b, what) => usage.own.at(b, what), now),
          now,
        );
      }
    } catch (error) {
      this.counts.failures++;
      if (!this.limiter.sharing.degraded) this.options.log?.degraded(error, this.limiter.sharing.instances);
      this.limiter.sharing.degraded = true;
      return "failed";
    }
    if (this.limiter.sharing.degraded) {
      this.limiter.sharing.degraded = false;
      this.options.log?.restored();
    }
    return "ok";
  }

  private bounded<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withinDeadline(call, this.timeoutMs);
  }

  /** Checks in once per slot (at once on start, later at a random point of the slot) and reads how many are present. */
  private async presence(now: number): Promise<void> {
    const slot = Math.floor(now / presenceSlotMs);
    if (this.checkedInSlot !== slot) {
      if (this.checkedInSlot === -1 || now >= this.checkInAt) {
        this.counts.writes++;
        await this.bounded((signal) => this.store.checkIn(this.options.instance, slot, signal));
        this.checkedInSlot = slot;
        const random = this.options.random ?? Math.random;
        this.checkInAt = (slot + 1) * presenceSlotMs + Math.floor(random() * presenceSlotMs * 0.6);
        this.presenceReadAt = Number.NEGATIVE_INFINITY;
      }
    }
    const young = now - this.startedAt < presenceSlotMs;
    if (!young && now - this.presenceReadAt < presenceReadMs) return;
    this.counts.reads++;
    const present = await this.bounded((signal) => this.store.readPresence(slot, signal));
    this.presenceReadAt = now;
    const counted = Math.max(present.current, present.previous);
    this.limiter.sharing.instances = Math.min(maxInstances, Math.max(1, Number.isFinite(counted) ? counted : 1));
  }
}

/** The store's buckets, each at least `floor` (what this instance itself used in it). */
function withFloor(answer: readonly BucketUsage[], floor: (bucket: number, what: UsageDimension) => number, now: number): BucketUsage[] {
  const byBucket = new Map<number, BucketUsage>();
  for (const b of answer) byBucket.set(b.bucket, b);
  const out: BucketUsage[] = [];
  const current = bucketOf(now);
  for (let b = current - windowBuckets + 1; b <= current; b++) {
    const stored = byBucket.get(b);
    const requests = Math.max(stored?.requests ?? 0, floor(b, "requests"));
    const tokens = Math.max(stored?.tokens ?? 0, floor(b, "tokens"));
    if (requests > 0 || tokens > 0) out.push({ bucket: b, requests, tokens });
  }
  return out;
}
