// Client usage and limits for the whole router. Each instance counts its own calls and tokens per
// client and minute, and on each refresh of shared state (`share`, run by StateSync, so with its
// jitter and backoff) — only for clients with limits that had traffic —
// adds what it has not shared yet to the client's record for the window in the state store, which
// answers with the total of every instance. A call is admitted against that shared total plus this
// instance's unshared usage; nothing on the request path waits on storage. When the store stops
// answering, each instance holds itself to its share of each limit (the limit divided by the
// instances that last wrote to the record), never to "unlimited" and never to "reject everything".

import type { Client } from "./clientAuth";
import type { Clock } from "./clock";
import { secondsUntilRoom, slidingUsage, windowOf } from "./usageWindow";

export interface UsageCounts {
  requests: number;
  tokens: number;
}

/** A client's record for one window, as the store holds it: every instance's usage, and how many instances wrote. */
export interface UsageTotals extends UsageCounts {
  writers: number;
}

/** The seam to shared usage records (Table Storage, or memory). */
export interface UsageStore {
  /** Adds `delta` to the client's record for `window` (and counts one more writer when `newWriter`); the totals after. */
  addUsage(client: string, window: number, delta: UsageCounts & { newWriter: boolean }, signal: AbortSignal): Promise<UsageTotals>;
  readUsage(client: string, window: number, signal: AbortSignal): Promise<UsageTotals>;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number; limit: "requests" | "tokens" };

export interface ClientUsageView {
  requests: number;
  tokens: number;
  limits: { tokensPerMinute?: number; requestsPerMinute?: number };
}

export interface ClientLimiterLog {
  /** Once, when sharing fails: limits now hold per instance. */
  degraded(error: unknown, instances: number): void;
  /** Once, when sharing works again. */
  restored(): void;
}

interface WindowState {
  window: number;
  /** Every instance's usage of the window, as the store last answered (this instance's shared part included). */
  shared: UsageTotals;
  /** This instance's usage in the window, all of it. */
  own: UsageCounts;
  /** This instance's usage not written yet. */
  unshared: UsageCounts;
  /** This instance has added to the window's record (the next write is not a new writer). */
  wrote: boolean;
}

/** One client's usage: the current window and the one before, for the sliding minute. */
class ClientUsage {
  current: WindowState;
  previous: WindowState;
  lastCallAt = 0;
  constructor(
    readonly client: Client,
    window: number,
  ) {
    this.current = emptyWindow(window);
    this.previous = emptyWindow(window - 1);
  }

  /** Turns the windows over when `now` is past the current one. */
  roll(window: number): void {
    if (window === this.current.window) return;
    this.previous = window === this.current.window + 1 ? this.current : emptyWindow(window - 1);
    this.current = emptyWindow(window);
  }
}

/** Instances that wrote the client's usage in this window or the last (at least 1). */
const instancesOf = (usage: ClientUsage): number => Math.max(1, usage.current.shared.writers, usage.previous.shared.writers);

const emptyWindow = (window: number): WindowState => ({
  window,
  shared: { requests: 0, tokens: 0, writers: 0 },
  own: { requests: 0, tokens: 0 },
  unshared: { requests: 0, tokens: 0 },
  wrote: false,
});

export interface ClientLimiterOptions {
  clock: Clock;
  /** Longest wait for one store call. Default 2 s. */
  timeoutMs?: number;
  /** Every configured client: /status lists them all for the operators, with or without traffic. */
  clients?: readonly Client[];
  log?: ClientLimiterLog;
}

export class ClientLimiter {
  private readonly usage = new Map<string, ClientUsage>();
  private readonly timeoutMs: number;
  /** Sharing failed last time: limits hold per instance until it works again. */
  private degraded = false;
  /** Instances that last wrote to any record (at least 1): the share each takes while degraded. */
  private instances = 1;
  readonly counts = { reads: 0, writes: 0, failures: 0 };

  constructor(
    private readonly store: UsageStore,
    private readonly options: ClientLimiterOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    for (const client of options.clients ?? []) this.usageOf(client, options.clock.now());
  }

  /** Whether a call from `client` may go ahead now; an admitted call counts at once. */
  admit(client: Client, now = this.options.clock.now()): Admission {
    const usage = this.usageOf(client, now);
    const limits = client.limits;
    if (limits) {
      const requestsWait = limits.requestsPerMinute === undefined ? undefined : this.wait(usage, "requests", limits.requestsPerMinute, now);
      if (requestsWait !== undefined) return { admitted: false, limit: "requests", retryAfterSeconds: requestsWait };
      // Tokens: admitted while the window has room; a call's tokens count when its answer is in.
      const tokensWait = limits.tokensPerMinute === undefined ? undefined : this.wait(usage, "tokens", limits.tokensPerMinute, now);
      if (tokensWait !== undefined) return { admitted: false, limit: "tokens", retryAfterSeconds: tokensWait };
    }
    usage.current.own.requests++;
    usage.current.unshared.requests++;
    usage.lastCallAt = now;
    return { admitted: true };
  }

  /** An admitted call the router answered itself (429/503, every backend out): it does not count. */
  release(client: Client, now = this.options.clock.now()): void {
    const usage = this.usageOf(client, now);
    if (usage.current.own.requests > 0) usage.current.own.requests--;
    if (usage.current.unshared.requests > 0) usage.current.unshared.requests--;
  }

  /** Tokens of an answered call, counted in the window the answer ended in. */
  recordTokens(client: Client, tokens: number, now = this.options.clock.now()): void {
    if (!(tokens > 0)) return;
    const usage = this.usageOf(client, now);
    usage.current.own.tokens += tokens;
    usage.current.unshared.tokens += tokens;
  }

  /**
   * Writes a client's own budget into `headers` as `x-ratelimit-*`, over the backend's values
   * (nothing for a client without limits). Written in place: this runs on every call.
   */
  writeHeaders(client: Client, headers: Record<string, string | string[]>, at?: number): void {
    const limits = client.limits;
    if (!limits) return;
    const now = at ?? this.options.clock.now();
    const usage = this.usageOf(client, now);
    const rpm = limits.requestsPerMinute;
    if (rpm !== undefined) {
      headers["x-ratelimit-limit-requests"] = String(rpm);
      headers["x-ratelimit-remaining-requests"] = String(this.remaining(usage, "requests", rpm, now));
    }
    const tpm = limits.tokensPerMinute;
    if (tpm !== undefined) {
      headers["x-ratelimit-limit-tokens"] = String(tpm);
      headers["x-ratelimit-remaining-tokens"] = String(this.remaining(usage, "tokens", tpm, now));
    }
  }

  private remaining(usage: ClientUsage, what: keyof UsageCounts, limit: number, now: number): number {
    return Math.max(
      0,
      Math.floor(this.heldTo(usage, limit) - slidingUsage(this.previousOf(usage, what), this.currentOf(usage, what), now)),
    );
  }

  /** Usage in the current minute per client (all of them, or only `only`), for /status. */
  /**
   * Usage in the sliding minute (what limits are judged on, so it does not drop to zero when a
   * minute turns) per client: all of them, or only `only`, for /status. Built from entries, as
   * client names such as `__proto__` must stay plain properties.
   */
  view(only: Client | undefined, now = this.options.clock.now()): Record<string, ClientUsageView> {
    const shown = only ? [this.usageOf(only, now)] : [...this.usage.values()];
    return Object.fromEntries(
      shown.map((usage) => {
        usage.roll(windowOf(now));
        const previous = this.totals(usage.previous);
        const current = this.totals(usage.current);
        const limits = usage.client.limits;
        const view: ClientUsageView = {
          requests: Math.round(slidingUsage(previous.requests, current.requests, now)),
          tokens: Math.round(slidingUsage(previous.tokens, current.tokens, now)),
          limits: {
            ...(limits?.tokensPerMinute !== undefined ? { tokensPerMinute: limits.tokensPerMinute } : {}),
            ...(limits?.requestsPerMinute !== undefined ? { requestsPerMinute: limits.requestsPerMinute } : {}),
          },
        };
        return [usage.client.name, view];
      }),
    );
  }

  status(): { shared: boolean; instances: number; reads: number; writes: number; failures: number } {
    return { shared: !this.degraded, instances: this.instances, ...this.counts };
  }

  /** One round of sharing (StateSync runs it on each refresh): for each client with limits and recent traffic, add what is unshared or read the total. */
  async share(): Promise<void> {
    const now = this.options.clock.now();
    const window = windowOf(now);
    let failure: unknown;
    for (const usage of this.usage.values()) {
      if (!usage.client.limits) continue;
      // Quiet for two windows: nothing to share, nothing to admit against.
      const unshared = (s: WindowState) => s.unshared.requests + s.unshared.tokens;
      if (now - usage.lastCallAt > 120_000 && unshared(usage.current) + unshared(usage.previous) === 0) continue;
      usage.roll(window);
      try {
        for (const state of [usage.previous, usage.current]) {
          const pending = state.unshared;
          const isCurrent = state === usage.current;
          if (pending.requests === 0 && pending.tokens === 0 && !isCurrent) continue;
          const signal = AbortSignal.timeout(this.timeoutMs);
          if (pending.requests === 0 && pending.tokens === 0) {
            this.counts.reads++;
            state.shared = await this.store.readUsage(usage.client.name, state.window, signal);
          } else {
            const delta = { requests: pending.requests, tokens: pending.tokens, newWriter: !state.wrote };
            this.counts.writes++;
            const totals = await this.store.addUsage(usage.client.name, state.window, delta, signal);
            // What arrived during the write stays unshared for the next round.
            pending.requests -= delta.requests;
            pending.tokens -= delta.tokens;
            state.wrote = true;
            state.shared = totals;
          }
          if (state.shared.writers > 0 && isCurrent) this.instances = Math.max(1, state.shared.writers);
        }
      } catch (error) {
        failure = error;
        break;
      }
    }
    if (failure !== undefined) {
      this.counts.failures++;
      if (!this.degraded) this.options.log?.degraded(failure, this.instances);
      this.degraded = true;
    } else if (this.degraded) {
      this.degraded = false;
      this.options.log?.restored();
    }
  }

  private usageOf(client: Client, now: number): ClientUsage {
    let usage = this.usage.get(client.name);
    if (!usage) {
      usage = new ClientUsage(client, windowOf(now));
      this.usage.set(client.name, usage);
    }
    usage.roll(windowOf(now));
    return usage;
  }

  /** Every instance's usage of a window: the shared total plus what this instance has not shared yet. */
  private totals(state: WindowState): UsageCounts {
    return { requests: state.shared.requests + state.unshared.requests, tokens: state.shared.tokens + state.unshared.tokens };
  }

  /**
   * `undefined` when one more unit fits, else the seconds to wait. Besides the limit itself, an
   * instance takes at most its share of the room left at the last refresh (the room divided by the
   * instances writing to the record), so instances that admit at the same moment cannot together
   * spend the same room twice; the rest is shared out again at the next refresh.
   */
  private wait(usage: ClientUsage, what: keyof UsageCounts, limit: number, now: number): number | undefined {
    const previous = this.previousOf(usage, what);
    const current = this.currentOf(usage, what);
    const held = this.heldTo(usage, limit);
    if (slidingUsage(previous, current, now) + 1 > held) return secondsUntilRoom(previous, current, held, 1, now);
    const instances = instancesOf(usage);
    if (this.degraded || instances === 1) return undefined;
    const room = limit - slidingUsage(previous, usage.current.shared[what], now);
    return usage.current.unshared[what] + 1 > room / instances ? 1 : undefined;
  }

  // The figures a limit is judged on. Sharing: everyone's usage (shared total plus this instance's
  // unshared part) against the whole limit. Degraded: this instance's own usage against its share.
  // Three functions rather than one tuple: they run on every call, and allocate nothing.
  private previousOf(usage: ClientUsage, what: keyof UsageCounts): number {
    const s = usage.previous;
    return this.degraded ? s.own[what] : s.shared[what] + s.unshared[what];
  }

  private currentOf(usage: ClientUsage, what: keyof UsageCounts): number {
    const s = usage.current;
    return this.degraded ? s.own[what] : s.shared[what] + s.unshared[what];
  }

  private heldTo(usage: ClientUsage, limit: number): number {
    return this.degraded ? limit / instancesOf(usage) : limit;
  }
}
