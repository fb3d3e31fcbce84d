// What one deployment at one backend is expected to admit, learned from its own answers, so a
// throttling deployment is sent what it will take and the rest goes straight to the next
// candidates. Azure's provisioned deployments admit while their bucket is at most full and refuse
// with `retry-after-ms` — the time until it is no longer over — so the gate keeps a mirror of that
// bucket: a level that each call sent raises by its cost, that drains at the learned pace, and
// that a call ending with fewer tokens than it reserved lowers. A call is expected to be admitted
// while the mirror is at most as full as the bucket is learned to hold. A refusal resets the
// mirror to what the deployment said (over by `retry-after-ms` of draining), whatever the pace.
//
// The pace is learned as TCP learns its window (AIMD): bootstrapped from two refusals (the tokens
// sent between them over the time the deployment took to drain them), raised slowly while calls
// wait on it, cut once per refusal, twice as hard for refusals in a row (nothing this instance
// sent was kept between them: the pace is far off, not calls that happened to meet). What the bucket holds is learned from each refusal (the mirror's
// level then, less what the deployment said it still had to drain). Until it has a pace the gate
// holds nothing back but refusals in a row: the breaker's short trip holds calls for the time the
// deployment said, and past the first refusal in a row the gate backs off, doubling, since a
// deployment that others keep full refuses each call sent the moment the delay ends and teaches
// nothing (a pace needs calls it kept). Units are
// the router's own estimate of a call's cost; a constant error in it is learned away with the pace.
// Pure: time and randomness are given.

import type { CallCost } from "../clients/callCost";
import type { Random } from "../random";

export interface CapacityGateOptions {
  /**
   * The deployment's rate as configured, tokens per minute (`capacity.tokensPerMinute`): this
   * instance starts at its share of it (÷ the instances present) until a refusal refines the pace.
   */
  tokensPerMinute?: number;
  random: Random;
  /** Growth of the pace per second while calls wait on it, right after a refusal. Default 0.1%. */
  growthPerSecond?: number;
  /** How long a call may wait for room (`capacity.waitUpTo`) before it is sent on. Default: not at all. */
  waitUpToMs?: number;
  /** The cut of the pace on a refusal. Default 2%. */
  cut?: number;
  /**
   * How many instances send to the deployment (the presence count client limits use). Each learns
   * its own share from the answers it gets; with more of them, each grows its share more slowly
   * and cuts it more on a refusal, so the deployment sees about as many refusals from many as from one.
   */
  instances?: () => number;
}

export interface CapacityView {
  /** Tokens per minute this instance expects the deployment to admit from it; `null` before anything is learned. */
  tokensPerMinute: number | null;
  /** Tokens it expects the deployment to absorb at once (its burst), as learned. */
  burstTokens: number;
  /** How full the mirror of the deployment's bucket is now, in percent of what it holds. */
  utilization: number;
  sent: number;
  skipped: number;
  refused: number;
  /** Share of the calls that reached the gate that it sent on to the next candidates. */
  spillShare: number;
}

/** Refusals this close together are one congestion event: the pace is cut once. */
const minCutGapMs = 50;
/** Refusals for the bootstrap must be this far apart for their tokens to say something. */
const minSampleMs = 100;
/** The fastest the pace grows, per second, however long no refusal came. */
const maxGrowthPerSecond = 0.1;
/** The largest cut of a pace on one refusal. */
const maxCut = 0.2;
/** Before a pace is known: the back-off after the second refusal in a row, doubling with each more, up to the longest. */
const firstBackOffMs = 25;
const longestBackOffMs = 1_000;
/** How long the mirror stays empty before the deployment is taken to have idled (see `drained`). */
const idleAfterDryMs = 150;
/**
 * A configured rate is the user's word for the deployment's size: a pace below this instance's
 * share of it, with no refusal this long, returns to it this fast (and not past it), as TCP's slow
 * start returns to its threshold; above it, the pace grows as any does.
 */
const returnAfterQuietMs = 500;
const returnPerSecond = 0.02;
/** How much of a new sample of the pace or the bucket's size is taken. */
const sampleWeight = 0.3;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export class CapacityGate {
  /** Tokens per ms; `undefined` until learned (or configured). */
  private perMs: number | undefined;
  /** The configured rate of the whole deployment, tokens per ms: shared out until the first refusal teaches the pace. */
  private readonly configuredPerMs: number | undefined;
  /** The mirror of the deployment's bucket, at `at`. */
  private level = 0;
  private at = 0;
  /** What the bucket is learned to hold before it refuses. */
  private holds = 0;
  /** The first call sent: the bucket is taken as empty before it. */
  private firstSentAt: number | undefined;
  /** The last refusal, and the tokens sent since (taken as what the deployment drained between refusals). */
  private lastRefusal: { at: number; delayMs: number } | undefined;
  private sentSince = 0;
  /** Before a pace is known: the tokens sent before the first refusal, and its time and delay. */
  private firstRefusal: { at: number; delayMs: number; sentBefore: number } | undefined;
  /** The mirror stayed empty a while since the last refusal: the deployment may have idled, so no pace sample. */
  private ranEmpty = false;
  /** When the mirror last ran dry. */
  private dryAt: number | undefined;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** Tokens sent since the last refusal and not (yet) refused or released: none means refusals in a row. */
  private keptSinceRefusal = 0;
  /** Refusals in a row: each with nothing sent and kept since the one before. */
  private refusalsInRow = 0;
  /** Before a pace is known: refusals in a row hold calls back until then. */
  private heldUntil = 0;
  private lastGrowthAt: number | undefined;
  private readonly growth: number;
  private readonly cut: number;
  readonly counts = { sent: 0, skipped: 0, refused: 0 };
  /** The deployment's prompt count over the router's estimate (bytes / 4), learned from the usage it reports. */
  private promptScale = 1;

  constructor(private readonly options: CapacityGateOptions) {
    this.configuredPerMs = options.tokensPerMinute === undefined ? undefined : options.tokensPerMinute / 60_000;
    this.perMs = this.configuredPerMs;
    this.growth = options.growthPerSecond ?? 0.001;
    this.cut = options.cut ?? 0.02;
  }

  /** A pace from other instances, taken only while this gate has none of its own. */
  seed(tokensPerMinute: number): boolean {
    if (this.perMs !== undefined) return false;
    this.perMs = tokensPerMinute / 60_000;
    return true;
  }

  /**
   * What the deployment charges a call when it admits it, as Azure does: its prompt (the router's
   * estimate, scaled to the deployment's own count as learned) plus the most it may write.
   */
  tokensFor(cost: CallCost): number {
    return cost.prompt * this.promptScale + cost.maxOutput;
  }

  /** A call ended with the deployment's own count of its prompt: the estimate's scale is refined. */
  learnPrompt(estimated: number, reported: number): void {
    if (estimated <= 0 || reported <= 0) return;
    const ratio = Math.min(4, Math.max(0.25, reported / estimated));
    this.promptScale += sampleWeight * (ratio - this.promptScale);
  }

  /** Whether a call costing `tokens` is expected to be admitted now; if so it is charged (sent). */
  take(tokens: number, now: number): boolean {
    // A configured rate is the whole deployment's: this instance's share, as many as are present now.
    if (this.counts.refused === 0 && this.configuredPerMs !== undefined) this.perMs = this.configuredShare();
    if (this.perMs === undefined && now < this.heldUntil) {
      this.counts.skipped++;
      return false;
    }
    // A configured rate says how fast the deployment drains, not how much it holds: until it first
    // refuses, nothing is held back (the mirror, there from the start, counts every call from an
    // empty bucket, so that refusal measures what the bucket holds).
    if (this.perMs !== undefined && this.counts.refused > 0 && this.drained(now) > this.holdsFor(tokens)) {
      this.grow(now);
      this.counts.skipped++;
      return false;
    }
    this.send(tokens, now);
    return true;
  }

  /**
   * How long a call would wait for room, when the deployment allows waiting (`waitUpTo`) and room
   * is expected within it; `undefined` when it has room now, or is not worth waiting for.
   */
  waitMs(tokens: number, now: number): number | undefined {
    const perMs = this.perMs;
    const limit = this.options.waitUpToMs;
    if (perMs === undefined || limit === undefined) return undefined;
    const over = this.drained(now) - this.holdsFor(tokens);
    if (over <= 0) return undefined;
    const wait = Math.ceil(over / perMs - 1e-9); // (not a whole ms more for a rounding error)
    return wait <= limit ? wait : undefined;
  }

  /** A call sent whatever the gate expects (the last candidate, an owner-bound call). */
  send(tokens: number, now: number): void {
    this.counts.sent++;
    this.firstSentAt ??= now;
    this.sentSince += tokens;
    this.keptSinceRefusal += tokens;
    this.level = this.drained(now) + tokens;
    if (this.lastGrowthAt !== undefined && now - this.lastGrowthAt > 1_000) this.lastGrowthAt = undefined;
  }

  /** A call sent was not taken, for another reason than a refusal (an error, no answer): its charge is undone. */
  release(tokens: number): void {
    this.sentSince -= tokens;
    // (A call sent before the last refusal may be released after it: it was not counted since.)
    this.keptSinceRefusal = Math.max(0, this.keptSinceRefusal - tokens);
    this.level = Math.max(0, this.level - tokens);
  }

  /**
   * The deployment refused a call it was sent, saying when it has room again (`retry-after-ms`).
   * `charged`: the call was charged to this gate when sent — not so for a call sent before the gate
   * was made (it is made at a deployment's first such refusal), which has nothing to give back.
   */
  refused(tokens: number, delayMs: number, now: number, charged = true): void {
    if (charged) this.release(tokens);
    this.counts.refused++;
    this.refusalsInRow = this.keptSinceRefusal > 0 ? 1 : this.refusalsInRow + 1;
    this.keptSinceRefusal = 0;
    if (this.perMs === undefined) {
      const backOff = this.refusalsInRow < 2 ? 0 : Math.min(longestBackOffMs, firstBackOffMs * 2 ** (this.refusalsInRow - 2));
      this.heldUntil = now + backOff; // (the breaker holds calls for the delay itself)
      this.bootstrap(delayMs, now, tokens);
    } else this.learn(delayMs, now, tokens);
    if (this.lastRefusal === undefined || now - this.lastRefusal.at >= minSampleMs) {
      this.lastRefusal = { at: now, delayMs };
      this.sentSince = 0;
      this.ranEmpty = false;
    }
    // Exact, whatever the pace: over by what drains in `delayMs`. Spread a little, so instances
    // told the same moment do not all come back at once.
    if (this.perMs !== undefined) {
      this.level = this.holds + this.perMs * (delayMs + this.options.random() * Math.min(delayMs, 10));
      this.at = now;
    }
  }

  /** A refusal with a pace known: the pace and the bucket's size refined, the pace cut once per congestion. */
  private learn(delayMs: number, now: number, tokens: number): void {
    const perMs = this.perMs as number;
    const last = this.lastRefusal;
    if (last && !this.ranEmpty && now - last.at >= minSampleMs && this.sentSince > 0) {
      const sample = this.sentSince / (now - last.at + delayMs - last.delayMs);
      if (Number.isFinite(sample) && sample > 0) this.perMs = perMs + sampleWeight * (clamp(sample, perMs * 0.7, perMs * 1.3) - perMs);
    }
    // At least half a call: a bucket below full admits a call whatever its size, so it always holds some.
    const holds = Math.max(tokens / 2, this.drained(now) - (this.perMs as number) * delayMs);
    // (The first measurement, for a pace configured or seeded, is all there is to go on.)
    this.holds = this.holds === 0 ? holds : this.holds + sampleWeight * (holds - this.holds);
    if (now - this.lastCutAt >= Math.max(minCutGapMs, delayMs)) {
      const inRow = this.refusalsInRow >= 2 ? 2 : 1;
      this.perMs = (this.perMs as number) * (1 - Math.min(maxCut, this.cut * this.sharers() * inRow));
      this.lastCutAt = now;
    }
  }

  /**
   * The first pace, from two refusals at least `minSampleMs` apart while nothing was held back (the
   * deployment stayed busy): it drained what was sent between them, plus what it had left to drain
   * at the first, less what it had left at the second. And what the bucket holds: what was sent
   * into it, empty, before the first refusal, less what drained by then and what it was over by —
   * at least half of the call refused, as every refusal teaches (the instance's share of a bucket
   * others fill too can measure nothing, and a gate that holds nothing waits for its mirror to run
   * dry before each call).
   */
  private bootstrap(delayMs: number, now: number, tokens: number): void {
    const first = this.firstRefusal;
    if (!first) {
      this.firstRefusal = { at: now, delayMs, sentBefore: this.sentSince };
      return;
    }
    const last = this.lastRefusal ?? first;
    if (now - last.at < minSampleMs || this.sentSince <= 0) return;
    const perMs = this.sentSince / (now - last.at + delayMs - last.delayMs);
    if (!Number.isFinite(perMs) || perMs <= 0) return;
    this.perMs = perMs;
    this.holds = Math.max(tokens / 2, first.sentBefore - perMs * (first.at - (this.firstSentAt ?? first.at) + first.delayMs));
  }

  /** An admitted call ended: `correction` tokens (used − charged, usually negative) went back to the deployment. */
  settled(correction: number, now: number): void {
    this.level = Math.max(0, this.drained(now) + correction);
    this.sentSince += correction;
  }

  view(now: number): CapacityView {
    const level = this.drained(now);
    return {
      tokensPerMinute: this.perMs === undefined ? null : Math.round(this.perMs * 60_000),
      burstTokens: Math.round(this.holds),
      utilization: this.holds > 0 ? Math.round((100 * level) / this.holds) : 0,
      ...this.counts,
      spillShare: Math.round((1000 * this.counts.skipped) / Math.max(1, this.counts.sent + this.counts.skipped)) / 1000,
    };
  }

  /** The mirror's level at `now`, drained at the pace since it was last set. */
  private drained(now: number): number {
    const perMs = this.perMs;
    if (perMs !== undefined && now > this.at) {
      const level = this.level - (now - this.at) * perMs;
      if (level <= 0) {
        // Dry for a moment is calls meeting the pace: a gate made at a deployment's first refusal
        // knows only part of what its bucket holds, so its mirror touches empty while the bucket is
        // still busy. Dry for a stretch, the deployment may have idled.
        if (this.level > 0) this.dryAt = this.at + this.level / perMs;
        if (now - (this.dryAt ?? now) >= idleAfterDryMs) this.ranEmpty = true;
      }
      this.level = Math.max(0, level);
    }
    this.at = Math.max(this.at, now);
    return this.level;
  }

  /**
   * What the bucket is taken to hold when a call costing `tokens` asks: as learned, and at least
   * half a call, measured or not (a pace seeded from other instances has measured nothing yet).
   */
  private holdsFor(tokens: number): number {
    return Math.max(this.holds, tokens / 2);
  }

  /** This instance's share of the configured rate, as many instances as are present now. */
  private configuredShare(): number | undefined {
    return this.configuredPerMs === undefined ? undefined : this.configuredPerMs / this.sharers();
  }

  private sharers(): number {
    return Math.max(1, this.options.instances?.() ?? 1);
  }

  /** Calls wait on the pace: it may be too slow, so it grows (and the next refusal tells). */
  private grow(now: number): void {
    if (this.perMs === undefined) return;
    const since = this.lastGrowthAt ?? now;
    // Slow right after a refusal (the pace was just found too fast), faster the longer none came.
    const quiet = this.lastRefusal === undefined ? 0 : (now - this.lastRefusal.at) / 1_000;
    // Below the share of a configured rate, a while after the last refusal: back to it, faster.
    const share = this.configuredShare();
    const returnTo = share !== undefined && this.perMs < share && quiet * 1_000 >= returnAfterQuietMs ? share : undefined;
    const perSecond = Math.max(
      returnTo === undefined ? 0 : returnPerSecond,
      Math.min(maxGrowthPerSecond, this.growth * (1 + quiet)) / this.sharers(),
    );
    const grown = this.perMs * (1 + (perSecond * Math.min(now - since, 1_000)) / 1_000);
    this.perMs = returnTo === undefined ? grown : Math.min(returnTo, grown);
    this.lastGrowthAt = now;
  }
}
