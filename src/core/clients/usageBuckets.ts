// Client usage in five-second buckets. A limit is judged on the current bucket and the twelve
// before it — 60 to 65 seconds, so every 60-second span that ends now is inside what is counted
// and no span can hold more than the limit (a weighted previous minute lets a burst at the end of
// one minute and another at the start of the next through together). Thirteen counters per
// dimension per client, no log of calls; pure, tested with exact times.

export const bucketMs = 5_000;
/** Buckets counted: the current one and the twelve before it. */
export const windowBuckets = 13;

/** The bucket `now` falls in. */
export function bucketOf(now: number): number {
  return Math.floor(now / bucketMs);
}

/** One bucket's usage, as shared through the store. */
export interface BucketUsage {
  bucket: number;
  requests: number;
  tokens: number;
}

export type UsageDimension = "requests" | "tokens";

/**
 * Usage per bucket of one client (one instance's, or everyone's), the counted buckets only. The
 * window's totals are kept as buckets are added to, and counted again only when the window moves
 * (once per bucket): a call reads them several times (its admission, its headers), never summing.
 */
export class BucketRing {
  private readonly ids = new Float64Array(windowBuckets).fill(-1);
  private readonly counts = { requests: new Float64Array(windowBuckets), tokens: new Float64Array(windowBuckets) };
  /** The window's totals (each bucket at least 0) as of the window ending with bucket `totalsAt`; -1: to count. */
  private totalsAt = -1;
  private readonly totals = { requests: 0, tokens: 0 };

  /** Adds to `bucket` (negative amounts correct an estimate); a bucket out of the window is ignored. */
  add(bucket: number, requests: number, tokens: number, now: number): void {
    const current = bucketOf(now);
    if (bucket > current || bucket <= current - windowBuckets) return;
    const slot = bucket % windowBuckets;
    if (this.ids[slot] !== bucket) {
      this.ids[slot] = bucket;
      this.counts.requests[slot] = 0;
      this.counts.tokens[slot] = 0;
    }
    const inTotals = this.totalsAt !== -1 && bucket <= this.totalsAt && bucket > this.totalsAt - windowBuckets;
    this.addTo("requests", slot, requests, inTotals);
    this.addTo("tokens", slot, tokens, inTotals);
  }

  /** `bucket`'s usage of `what` (0 when not held). */
  at(bucket: number, what: UsageDimension): number {
    const slot = bucket % windowBuckets;
    return this.ids[slot] === bucket ? Math.max(0, this.counts[what][slot] as number) : 0;
  }

  /** Usage of `what` in the counted buckets. */
  total(what: UsageDimension, now: number): number {
    const current = bucketOf(now);
    if (current !== this.totalsAt) this.count(current);
    return this.totals[what];
  }

  private addTo(what: UsageDimension, slot: number, amount: number, inTotals: boolean): void {
    const before = this.counts[what][slot] as number;
    const after = before + amount;
    this.counts[what][slot] = after;
    // A bucket counts at least 0: a correction larger than the estimate takes nothing from the others.
    if (inTotals) this.totals[what] += Math.max(0, after) - Math.max(0, before);
  }

  private count(current: number): void {
    this.totalsAt = current;
    this.totals.requests = 0;
    this.totals.tokens = 0;
    for (let b = current - windowBuckets + 1; b <= current; b++) {
      this.totals.requests += this.at(b, "requests");
      this.totals.tokens += this.at(b, "tokens");
    }
  }

  /** The counted buckets that hold anything, oldest first, as held (a correction may leave one below zero). */
  entries(now: number): BucketUsage[] {
    const current = bucketOf(now);
    const out: BucketUsage[] = [];
    for (let b = current - windowBuckets + 1; b <= current; b++) {
      const slot = b % windowBuckets;
      if (this.ids[slot] !== b) continue;
      const requests = this.counts.requests[slot] as number;
      const tokens = this.counts.tokens[slot] as number;
      if (requests !== 0 || tokens !== 0) out.push({ bucket: b, requests, tokens });
    }
    return out;
  }

  /** Replaces everything with `buckets` (what the store answered). */
  replace(buckets: readonly BucketUsage[], now: number): void {
    this.ids.fill(-1);
    this.totalsAt = -1;
    for (const b of buckets) this.add(b.bucket, b.requests, b.tokens, now);
  }
}

/**
 * Whole seconds until `need` more fits under `limit` (at least 1), if nothing else is used: each
 * time a bucket ends, the oldest counted one drops out. `usage(b)` is the usage of bucket `b`.
 */
export function secondsUntilRoom(usage: (bucket: number) => number, limit: number, need: number, now: number): number {
  const current = bucketOf(now);
  let total = 0;
  for (let b = current - windowBuckets + 1; b <= current; b++) total += usage(b);
  let k = 1;
  for (; k <= windowBuckets; k++) {
    total -= usage(current - windowBuckets + k);
    if (total + need <= limit) break;
  }
  const waitMs = (current + Math.min(k, windowBuckets)) * bucketMs - now;
  // The epsilon keeps float noise (1000.0000000001 ms) from adding a whole second.
  return Math.max(1, Math.ceil(waitMs / 1000 - 1e-9));
}

/**
 * A client's record after adding `delta` to `stored`: per bucket, the sum (never below zero), and
 * only the counted buckets up to the newest either side knows. What both stores keep.
 */
export function mergeBuckets(stored: readonly BucketUsage[], delta: readonly BucketUsage[]): BucketUsage[] {
  const byBucket = new Map<number, BucketUsage>();
  let newest = Number.NEGATIVE_INFINITY;
  for (const b of [...stored, ...delta]) {
    newest = Math.max(newest, b.bucket);
    const held = byBucket.get(b.bucket);
    byBucket.set(b.bucket, held ? { bucket: b.bucket, requests: held.requests + b.requests, tokens: held.tokens + b.tokens } : { ...b });
  }
  return [...byBucket.values()]
    .filter((b) => b.bucket > newest - windowBuckets)
    .map((b) => ({ bucket: b.bucket, requests: Math.max(0, b.requests), tokens: Math.max(0, b.tokens) }))
    .filter((b) => b.requests > 0 || b.tokens > 0)
    .sort((a, b) => a.bucket - b.bucket);
}
