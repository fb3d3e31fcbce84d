// The response cache: answers reused per client (or across clients, when configured), kept in
// this instance's memory and shared through the state storage account. A local miss does one
// bounded lookup in the shared store; a fresh answer is kept as its body passes to the caller and
// written to the store after it, off the call's path. A store that fails leaves the cache local
// for a while: a call never waits on it twice, and never gets an error from it.

import { reportedUsage, usageTailBytes } from "../clients/tokenUsage";
import type { Clock } from "../clock";
import type { CacheConfig } from "../config/configTypes";
import type { RouterResponse } from "../request/exchange";
import { withinDeadline } from "../shared/deadline";
import { type CacheableCall, type CallForCache, cacheableCall } from "./cacheableCall";
import { type CachedAnswer, decodeCachedAnswer, encodeCachedAnswer } from "./cachedAnswer";
import { cacheKey } from "./cacheKey";
import type { CacheStore } from "./cacheStore";
import { LocalCache } from "./localCache";

export interface ResponseCacheLog {
  /** The shared store failed: the cache is local only until `restored`. */
  storeLost(error: unknown): void;
  storeRestored(): void;
}

export interface ResponseCacheOptions {
  config: CacheConfig;
  clock: Clock;
  /** `undefined`: answers stay in this instance (no shared store configured). */
  store: CacheStore | undefined;
  /** Longest wait for the shared store on a local miss, then the backend. Default 150 ms. */
  lookupTimeoutMs?: number;
  /** How long the cache stays local after the store failed. Default 5 s. */
  localForMs?: number;
  /** Shared writes in flight at most; more are dropped (the answer stays local). Default 16. */
  maxPendingWrites?: number;
  log?: ResponseCacheLog;
}

/** A call the cache may serve: its key, and whether the caller asked for a fresh answer. */
export interface CacheTicket extends CacheableCall {
  key: string;
}

export interface CacheStatus {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  /** Lookups in the shared store, and those that found the answer there. */
  sharedLookups: number;
  sharedHits: number;
  sharedWrites: number;
  /** `none`: no shared store configured; `down`: it failed lately, the cache is local only. */
  shared: "up" | "down" | "none";
}

export class ResponseCache {
  private readonly local: LocalCache;
  private readonly counts = { hits: 0, misses: 0, sharedLookups: 0, sharedHits: 0, sharedWrites: 0 };
  private pendingWrites = 0;
  /** Until when the shared store is left alone after a failure (0: it is not). */
  private localUntil = 0;
  private storeFailed = false;

  constructor(private readonly options: ResponseCacheOptions) {
    this.local = new LocalCache(options.config.maxBytes);
  }

  /** The call's ticket when its answer may be reused, else `undefined` (and the cache does nothing for it). */
  ticket(client: string, call: CallForCache): CacheTicket | undefined {
    const { config } = this.options;
    const cacheable = cacheableCall(config, call);
    if (!cacheable || call.deployment === undefined || call.body === undefined) return undefined;
    const key = cacheKey({
      client: config.shareAcrossClients ? undefined : client,
      deployment: call.deployment,
      url: call.url,
      body: call.body,
    });
    return { key, refresh: cacheable.refresh };
  }

  /** A reusable answer for `ticket`: from memory, else from the shared store within the lookup timeout. */
  async lookup(ticket: CacheTicket): Promise<CachedAnswer | undefined> {
    const now = this.options.clock.now();
    const answer = ticket.refresh ? undefined : (this.local.get(ticket.key, now) ?? (await this.sharedLookup(ticket.key, now)));
    if (answer) this.counts.hits++;
    else this.counts.misses++;
    return answer;
  }

  /**
   * Keeps `response` for `ticket` when it is a reusable answer (a 200 JSON body, not encoded): its
   * body is passed through as it is and kept once it has ended whole. Answers anything else as is.
   */
  keep(ticket: CacheTicket, response: RouterResponse, served: { backend: string | undefined; deployment: string | undefined }): void {
    const contentType = headerText(response.headers["content-type"]);
    if (response.status !== 200 || !/^application\/json\b/i.test(contentType) || response.headers["content-encoding"] !== undefined) return;
    const body = response.body;
    if (body === undefined) return;
    const store = (bytes: Uint8Array) => this.store(ticket.key, { bytes, contentType, served });
    if (body instanceof Uint8Array) store(body);
    else response.body = kept(body, (bytes) => this.local.fits(bytes), store);
  }

  status(): CacheStatus {
    const shared = this.options.store === undefined ? "none" : this.isLocalOnly(this.options.clock.now()) ? "down" : "up";
    return { entries: this.local.size, bytes: this.local.bytes, maxBytes: this.options.config.maxBytes, ...this.counts, shared };
  }

  private store(key: string, fresh: { bytes: Uint8Array; contentType: string; served: { backend?: string; deployment?: string } }): void {
    const { clock, config } = this.options;
    // `usage` is at the end of an answer: its tail is read, not the whole body.
    const tail = fresh.bytes.subarray(Math.max(0, fresh.bytes.byteLength - usageTailBytes));
    const text = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).toString("utf8");
    const answer: CachedAnswer = {
      body: fresh.bytes,
      contentType: fresh.contentType,
      servedBy: fresh.served.backend,
      servedDeployment: fresh.served.deployment,
      totalTokens: reportedUsage(text)?.totalTokens,
      expiresAt: clock.now() + config.ttlMs,
    };
    this.local.set(key, answer);
    this.share(key, answer);
  }

  /** Writes the answer to the shared store in the background; never awaited by a call. */
  private share(key: string, answer: CachedAnswer): void {
    const { store, maxPendingWrites = 16 } = this.options;
    if (!store || this.isLocalOnly(this.options.clock.now()) || this.pendingWrites >= maxPendingWrites) return;
    this.pendingWrites++;
    withinDeadline((signal) => store.write(key, encodeCachedAnswer(key, answer), signal), 5_000, "the cache store")
      .then(
        () => {
          this.counts.sharedWrites++;
          this.succeeded();
        },
        (error: unknown) => this.failed(error),
      )
      .finally(() => this.pendingWrites--);
  }

  private async sharedLookup(key: string, now: number): Promise<CachedAnswer | undefined> {
    const { store, lookupTimeoutMs = 150 } = this.options;
    if (!store || this.isLocalOnly(now)) return undefined;
    this.counts.sharedLookups++;
    let stored: Uint8Array | undefined;
    try {
      stored = await withinDeadline((signal) => store.read(key, signal), lookupTimeoutMs, "the cache store");
      this.succeeded();
    } catch (error) {
      this.failed(error);
      return undefined;
    }
    // A foreign, corrupt or expired entry is no answer: the backend is asked, and its answer replaces it.
    const answer = stored === undefined ? undefined : decodeCachedAnswer(key, stored, this.options.clock.now());
    if (!answer) return undefined;
    this.counts.sharedHits++;
    this.local.set(key, answer);
    return answer;
  }

  private isLocalOnly(now: number): boolean {
    return now < this.localUntil;
  }

  private failed(error: unknown): void {
    this.localUntil = this.options.clock.now() + (this.options.localForMs ?? 5_000);
    if (this.storeFailed) return;
    this.storeFailed = true;
    this.options.log?.storeLost(error);
  }

  private succeeded(): void {
    if (!this.storeFailed) return;
    this.storeFailed = false;
    this.options.log?.storeRestored();
  }
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/** `body` passed through chunk by chunk; once it has ended whole, and if it `fits`, its bytes go to `done`. */
async function* kept(
  body: AsyncIterable<Uint8Array>,
  fits: (bytes: number) => boolean,
  done: (bytes: Uint8Array) => void,
): AsyncIterable<Uint8Array> {
  let chunks: Uint8Array[] | undefined = [];
  let bytes = 0;
  for await (const chunk of body) {
    if (chunks) {
      bytes += chunk.length;
      if (fits(bytes)) chunks.push(chunk);
      else chunks = undefined;
    }
    yield chunk;
  }
  // Reached only when the body ended: a caller that left or a body that broke keeps nothing.
  if (chunks) done(Buffer.concat(chunks, bytes));
}
