import { describe, expect, it } from "vitest";
import { ProvisionedBucket } from "./provisionedBucket";
import { StandardQuota } from "./standardQuota";

describe("ProvisionedBucket (Azure's provisioned admission)", () => {
  // 60,000 tokens a minute: 1 token per ms; 1 s of burst: the bucket holds 1,000 tokens.
  const bucket = () => new ProvisionedBucket({ tokensPerMinute: 60_000, burstSeconds: 1 });

  it("admits while utilisation is at most 100%, charging the call, then refuses with the ms until it drops below", () => {
    const b = bucket();
    expect(b.admit(800, 0)).toEqual({ admitted: true });
    // 800 of 1,000: still room, even for a call that takes it over.
    expect(b.admit(700, 0)).toEqual({ admitted: true });
    expect(b.utilization(0)).toBe(150);
    // 1,500 in the bucket: 500 above what it holds, drained at 1 token per ms.
    expect(b.admit(100, 0)).toEqual({ admitted: false, retryAfterMs: 500 });
    expect(b.admit(100, 499)).toEqual({ admitted: false, retryAfterMs: 1 });
    expect(b.admit(100, 500)).toEqual({ admitted: true });
  });

  it("drains at its rate and never below empty", () => {
    const b = bucket();
    b.admit(1_000, 0);
    expect(b.utilization(400)).toBe(60);
    expect(b.utilization(5_000)).toBe(0);
    b.admit(500, 5_000);
    expect(b.utilization(5_000)).toBe(50);
  });

  it("corrects a charge to the real completion when the call ends, and counts the work done", () => {
    const b = bucket();
    b.admit(1_200, 0); // prompt 200 + max_tokens 1,000
    expect(b.admit(1, 0).admitted).toBe(false);
    b.correct(-900, 10); // only 100 tokens of completion
    expect(b.utilization(10)).toBe(29);
    expect(b.admit(1, 10).admitted).toBe(true);
    expect(b.work).toBe(301);
  });
});

describe("StandardQuota (a pay-as-you-go deployment's quota)", () => {
  it("charges the estimate against tokens per minute and refuses past it until the minute turns", () => {
    const q = new StandardQuota({ tokensPerMinute: 10_000, requestsPerMinute: 600 });
    expect(q.admit(6_000, 0)).toMatchObject({ admitted: true, remainingTokens: 4_000 });
    expect(q.admit(6_000, 1_000)).toMatchObject({ admitted: false, retryAfterMs: 59_000 });
    expect(q.admit(6_000, 60_000)).toMatchObject({ admitted: true });
  });

  it("holds requests over 10-second windows, a sixth of the per-minute figure each", () => {
    const q = new StandardQuota({ tokensPerMinute: 1_000_000, requestsPerMinute: 12 });
    expect(q.admit(1, 0).admitted).toBe(true);
    expect(q.admit(1, 1).admitted).toBe(true);
    expect(q.admit(1, 2)).toMatchObject({ admitted: false, retryAfterMs: 9_998 });
    expect(q.admit(1, 10_000).admitted).toBe(true);
  });
});
