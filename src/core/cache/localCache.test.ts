import { describe, expect, it } from "vitest";
import type { CachedAnswer } from "./cachedAnswer";
import { LocalCache } from "./localCache";

function answer(bytes: number, expiresAt = 10_000): CachedAnswer {
  return { body: new Uint8Array(bytes), contentType: "application/json", servedBy: "a", servedDeployment: "d", totalTokens: 1, expiresAt };
}

describe("LocalCache", () => {
  it("never holds more than maxBytes: the least recently used answer goes first", () => {
    // Three answers of 1,000 bytes (and their overhead) fit in 4,000 bytes; a fourth does not.
    const cache = new LocalCache(4_000);
    for (const key of ["k0", "k1", "k2"]) cache.set(key, answer(1_000));
    expect(cache.size).toBe(3);
    expect(cache.get("k0", 0)).toBeDefined();
    cache.set("k3", answer(1_000));
    expect(cache.get("k1", 0)).toBeUndefined();
    for (const key of ["k0", "k2", "k3"]) expect(cache.get(key, 0), key).toBeDefined();
    for (let i = 4; i < 40; i++) {
      cache.set(`k${i}`, answer(500 + i * 10));
      expect(cache.bytes).toBeLessThanOrEqual(4_000);
    }
  });

  it("forgets an answer once it expires (judged on the given clock)", () => {
    const cache = new LocalCache(1 << 20);
    cache.set("k", answer(10, 5_000));
    expect(cache.get("k", 4_999)).toBeDefined();
    expect(cache.get("k", 5_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not keep an answer too large for it", () => {
    const cache = new LocalCache(2_000);
    expect(cache.fits(1_500)).toBe(true);
    expect(cache.fits(1_900)).toBe(false);
    cache.set("big", answer(1_900));
    expect(cache.get("big", 0)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});
