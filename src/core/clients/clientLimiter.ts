// Client limits for the whole router. A call is charged when it is admitted — one request and its
// estimated tokens (callCost.ts) — and corrected to the tokens the backend reported when it ends,
// or refunded when the router answers it itself: so calls in flight count, as at a provisioned
// deployment. Usage is kept per client in five-second buckets (usageBuckets.ts) and judged over
// the last 60–65 s, so no 60-second span holds more than the limit. Sharing (usageSharing.ts) adds
// each instance's usage to the client's record in the store off the request path and brings back
// everyone's; between refreshes an instance takes at most its share of the room left (the room
// divided by the instances present), so instances admitting at once cannot spend it twice.

import type { Clock } from "../clock";
import type { Client } from "./clientAuth";
import { BucketRing, bucketOf, secondsUntilRoom, type UsageDimension } from "./usageBuckets";

/** One admitted call's charge: corrected when its answer ends, refunded when the router answers it. */
export interface Charge {
  readonly client: Client;
  readonly bucket: number;
  tokens: number;
  settled: boolean;
}

export type Admission =
  | { admitted: true; charge: Charge | undefined }
  | { admitted: false; retryAfterSeconds: number; limit: UsageDimension };

export interface ClientUsageView {
  requests: number;
  tokens: number;
  limits: { tokensPerMinute?: number; requestsPerMinute?: number };
}

/** One client's usage at this instance. */
export class ClientUsage {
  /** Every instance's usage, as the store last answered (this instance's shared part included). */
  readonly shared = new BucketRing();
  /** This instance's usage not written yet (corrections included). */
  readonly unshared = new BucketRing();
  /** This instance's usage, all of it: the floor under `shared`, and what is judged while degraded. */
  readonly own = new BucketRing();
  lastCallAt = 0;
  constructor(readonly client: Client) {}

  add(bucket: number, requests: number, tokens: number, now: number): void {
    this.own.add(bucket, requests, tokens, now);
    this.unshared.add(bucket, requests, tokens, now);
  }
}

/** How the limiter judges: everyone's usage against the limit, or (the store down) its own against its share. */
export interface SharingState {
  /** Sharing failed last time: limits hold per instance until it works again. */
  degraded: boolean;
  /** Instances present (at least 1). */
  instances: number;
}

export interface ClientLimiterOptions {
  clock: Clock;
  /** Every configured client: /status lists them all for the operators, with or without traffic. */
  clients?: readonly Client[];
}

const noCharge: Admission = Object.freeze({ admitted: true, charge: undefined });

export class ClientLimiter {
  readonly usage = new Map<string, ClientUsage>();
  readonly sharing: SharingState = { degraded: false, instances: 1 };
  /** Some configured client has limits: only then is anything shared (clients are fixed at start-up). */
  readonly anyLimits: boolean;

  constructor(private readonly options: ClientLimiterOptions) {
    for (const client of options.clients ?? []) this.usageOf(client);
    this.anyLimits = (options.clients ?? []).some((c) => c.limits !== undefined);
  }

  /** Whether a call from `client` costing `tokens` (estimated) may go ahead now; an admitted call is charged at once. */
  admit(client: Client, tokens: number, now = this.options.clock.now()): Admission {
    const limits = client.limits;
    // A client without limits is not counted here at all: nothing on its calls' path.
    if (!limits) return noCharge;
    const usage = this.usageOf(client);
    const rpm = limits.requestsPerMinute;
    const requestsWait = rpm === undefined ? undefined : this.wait(usage, { what: "requests", limit: rpm, cost: 1 }, now);
    if (requestsWait !== undefined) return { admitted: false, limit: "requests", retryAfterSeconds: requestsWait };
    const tpm = limits.tokensPerMinute;
    const cost = tpm === undefined ? 0 : tokens;
    const tokensWait = tpm === undefined ? undefined : this.wait(usage, { what: "tokens", limit: tpm, cost }, now);
    if (tokensWait !== undefined) return { admitted: false, limit: "tokens", retryAfterSeconds: tokensWait };
    const bucket = bucketOf(now);
    usage.add(bucket, 1, cost, now);
    usage.lastCallAt = now;
    return { admitted: true, charge: { client, bucket, tokens: cost, settled: false } };
  }

  /** The call's answer is in: its charge becomes the `tokens` the backend reported (or was estimated). */
  settle(charge: Charge | undefined, tokens: number, now = this.options.clock.now()): void {
    if (!charge || charge.settled || !charge.client.limits?.tokensPerMinute) return;
    charge.settled = true;
    const delta = Math.max(0, tokens) - charge.tokens;
    if (delta !== 0) this.usageOf(charge.client).add(charge.bucket, 0, delta, now);
  }

  /** The router answered an admitted call itself (every backend out, an owner tripped): it costs nothing. */
  refund(charge: Charge | undefined, now = this.options.clock.now()): void {
    if (!charge || charge.settled) return;
    charge.settled = true;
    this.usageOf(charge.client).add(charge.bucket, -1, -charge.tokens, now);
  }

  /**
   * Writes a client's own budget into `headers` as `x-ratelimit-*`, over the backend's values
   * (nothing for a client without limits). Written in place: this runs on every call.
   */
  writeHeaders(client: Client, headers: Record<string, string | string[]>, at?: number): void {
    const limits = client.limits;
    if (!limits) return;
    const now = at ?? this.options.clock.now();
    const usage = this.usageOf(client);
    const rpm = limits.requestsPerMinute;
    if (rpm !== undefined) {
      headers["x-ratelimit-limit-requests"] = String(rpm);
      headers["x-ratelimit-remaining-requests"] = String(Math.max(0, Math.floor(this.heldTo(rpm) - this.used(usage, "requests", now))));
    }
    const tpm = limits.tokensPerMinute;
    if (tpm !== undefined) {
      headers["x-ratelimit-limit-tokens"] = String(tpm);
      headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, Math.floor(this.heldTo(tpm) - this.used(usage, "tokens", now))));
    }
  }

  /**
   * Usage in the counted window per client, all of them or only `only`, for /status. Built from
   * entries, as client names such as `__proto__` must stay plain properties.
   */
  view(only: Client | undefined, now = this.options.clock.now()): Record<string, ClientUsageView> {
    const shown = only ? [this.usageOf(only)] : [...this.usage.values()];
    return Object.fromEntries(
      shown.map((usage) => {
        const limits = usage.client.limits;
        const view: ClientUsageView = {
          requests: Math.round(this.everyone(usage, "requests", now)),
          tokens: Math.round(this.everyone(usage, "tokens", now)),
          limits: {
            ...(limits?.tokensPerMinute !== undefined ? { tokensPerMinute: limits.tokensPerMinute } : {}),
            ...(limits?.requestsPerMinute !== undefined ? { requestsPerMinute: limits.requestsPerMinute } : {}),
          },
        };
        return [usage.client.name, view];
      }),
    );
  }

  usageOf(client: Client): ClientUsage {
    let usage = this.usage.get(client.name);
    if (!usage) {
      usage = new ClientUsage(client);
      this.usage.set(client.name, usage);
    }
    return usage;
  }

  /** Every instance's usage as known here: the shared total plus what is not shared yet. */
  private everyone(usage: ClientUsage, what: UsageDimension, now: number): number {
    return usage.shared.total(what, now) + usage.unshared.total(what, now);
  }

  /** The figure a limit is judged on: everyone's usage while sharing, this instance's own while degraded. */
  private used(usage: ClientUsage, what: UsageDimension, now: number): number {
    return this.sharing.degraded ? usage.own.total(what, now) : this.everyone(usage, what, now);
  }

  private heldTo(limit: number): number {
    return this.sharing.degraded ? limit / this.sharing.instances : limit;
  }

  /**
   * `undefined` when `cost` more fits, else the seconds to wait. A call larger than the whole
   * limit is let through when nothing else is counted (it then fills the window). Besides the limit
   * itself, an instance takes at most its share of the room left at the last refresh — but always
   * one call after a refresh, so a share smaller than a call cannot shut the client out.
   */
  private wait(usage: ClientUsage, ask: { what: UsageDimension; limit: number; cost: number }, now: number): number | undefined {
    const { what, limit, cost } = ask;
    const held = this.heldTo(limit);
    const used = this.used(usage, what, now);
    if (used > 0 && used + cost > held) {
      const ring = this.sharing.degraded ? usage.own : undefined;
      const at = ring ? (b: number) => ring.at(b, what) : (b: number) => usage.shared.at(b, what) + usage.unshared.at(b, what);
      return secondsUntilRoom(at, held, Math.min(cost, held), now);
    }
    const { degraded, instances } = this.sharing;
    if (degraded || instances === 1) return undefined;
    const mine = usage.unshared.total(what, now);
    const room = limit - usage.shared.total(what, now);
    return mine > 0 && mine + cost > room / instances ? 1 : undefined;
  }
}
