import type { AccessToken, TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { fakeClock } from "../../test/helpers/random";
import { CachedTokenProvider } from "./cachedTokenProvider";

function credential(clock: { now(): number }, lifetimeMs: number) {
  const calls = { count: 0, fail: false };
  const cred: TokenCredential = {
    getToken: async (): Promise<AccessToken> => {
      calls.count++;
      if (calls.fail) throw new Error("endpoint down");
      return { token: `t${calls.count}`, expiresOnTimestamp: clock.now() + lifetimeMs };
    },
  };
  return { cred, calls };
}

describe("CachedTokenProvider", () => {
  it("serves one token to many calls and refreshes 5 minutes before a one-hour token expires", async () => {
    const clock = fakeClock();
    const { cred, calls } = credential(clock, 3_600_000);
    const provider = new CachedTokenProvider(cred, clock);
    for (let i = 0; i < 100; i++) expect(await provider.getToken()).toBe("t1");
    expect(calls.count).toBe(1);
    clock.advance(54 * 60_000);
    expect(await provider.getToken()).toBe("t1");
    expect(calls.count).toBe(1);
    clock.advance(2 * 60_000);
    // Still valid: served at once while the refresh runs behind the caller.
    expect(await provider.getToken()).toBe("t1");
    await Promise.resolve();
    expect(calls.count).toBe(2);
    expect(await provider.getToken()).toBe("t2");
  });

  it("fetches once for concurrent first calls", async () => {
    const clock = fakeClock();
    const { cred, calls } = credential(clock, 3_600_000);
    const provider = new CachedTokenProvider(cred, clock);
    await Promise.all(Array.from({ length: 50 }, () => provider.getToken()));
    expect(calls.count).toBe(1);
  });

  it("after a failure, fails at once for a few seconds instead of calling the endpoint per request", async () => {
    const clock = fakeClock();
    const { cred, calls } = credential(clock, 3_600_000);
    calls.fail = true;
    const provider = new CachedTokenProvider(cred, clock);
    await expect(provider.getToken()).rejects.toThrow(/managed identity token .* failed: endpoint down/);
    for (let i = 0; i < 10; i++) await expect(provider.getToken()).rejects.toThrow(/endpoint down/);
    expect(calls.count).toBe(1);
    clock.advance(5_000);
    calls.fail = false;
    expect(await provider.getToken()).toBe("t2");
  });
});
