// The answers one instance keeps: least recently used first out, never more than `maxBytes` of
// them, each until it expires. Expiry is judged on the injected clock when an entry is read, so
// it is exact in tests; the byte bound is lru-cache's.

import { LRUCache } from "lru-cache";
import type { CachedAnswer } from "./cachedAnswer";

/** What an entry costs beyond its body: its key, headers and bookkeeping, roughly. */
const entryOverheadBytes = 256;
/** The largest answer kept: a body above it is simply not cached. */
export const maxEntryBytes = 16 * 1024 * 1024;

export class LocalCache {
  private readonly entries: LRUCache<string, CachedAnswer>;
  private readonly largest: number;

  constructor(maxBytes: number) {
    this.largest = Math.min(maxEntryBytes, maxBytes - entryOverheadBytes);
    this.entries = new LRUCache<string, CachedAnswer>({
      maxSize: maxBytes,
      sizeCalculation: (answer) => answer.body.length + entryOverheadBytes,
    });
  }

  /** Whether an answer of `bytes` may be kept at all. */
  fits(bytes: number): boolean {
    return bytes <= this.largest;
  }

  get(key: string, now: number): CachedAnswer | undefined {
    const answer = this.entries.get(key);
    if (answer === undefined) return undefined;
    if (answer.expiresAt > now) return answer;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, answer: CachedAnswer): void {
    if (this.fits(answer.body.length)) this.entries.set(key, answer);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held, overhead included: never more than `maxBytes`. */
  get bytes(): number {
    return this.entries.calculatedSize;
  }
}
