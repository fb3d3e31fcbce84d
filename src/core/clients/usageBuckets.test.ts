import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BucketRing, bucketMs, bucketOf, type UsageDimension, windowBuckets } from "./usageBuckets";

/** The window's usage summed bucket by bucket, as the ring's kept totals must always equal. */
function summed(ring: BucketRing, what: UsageDimension, now: number): number {
  const current = bucketOf(now);
  let sum = 0;
  for (let b = current - windowBuckets + 1; b <= current; b++) sum += ring.at(b, what);
  return sum;
}

const op = fc.oneof(
  // Usage (or a correction, negative) in a bucket near the current one, some out of the window.
  fc.record({
    kind: fc.constant("add" as const),
    back: fc.integer({ min: -1, max: 15 }),
    requests: fc.integer({ min: -3, max: 5 }),
    tokens: fc.integer({ min: -500, max: 900 }),
  }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3 * bucketMs }) }),
  fc.record({ kind: fc.constant("replace" as const), back: fc.integer({ min: 0, max: 14 }), tokens: fc.integer({ min: 0, max: 900 }) }),
  fc.record({ kind: fc.constant("read" as const) }),
);

describe("BucketRing", () => {
  it("keeps the window's totals equal to its buckets summed, whatever is added, corrected, replaced or aged out", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const ring = new BucketRing();
        let now = 1_000_000 * bucketMs;
        for (const o of ops) {
          if (o.kind === "wait") now += o.ms;
          else if (o.kind === "add") ring.add(bucketOf(now) - o.back, o.requests, o.tokens, now);
          else if (o.kind === "replace") ring.replace([{ bucket: bucketOf(now) - o.back, requests: 1, tokens: o.tokens }], now);
          for (const what of ["requests", "tokens"] as const) expect(ring.total(what, now)).toBe(summed(ring, what, now));
        }
      }),
    );
  });

  it("counts a bucket at least 0: a correction larger than its estimate takes nothing from the others", () => {
    const ring = new BucketRing();
    const now = 1_000_000 * bucketMs;
    ring.add(bucketOf(now) - 1, 1, 300, now);
    expect(ring.total("tokens", now)).toBe(300);
    ring.add(bucketOf(now), 1, 100, now);
    ring.add(bucketOf(now), 0, -250, now);
    expect(ring.total("tokens", now)).toBe(300);
    // The window moves on: the older bucket drops out.
    expect(ring.total("tokens", now + (windowBuckets - 1) * bucketMs)).toBe(0);
  });
});
