// Window accounting with a fake clock and an in-memory store: exact counts at the boundaries,
// Retry-After, tokens counted when the answer is in, two instances sharing, the store down.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../../test/helpers/random";
import { MemoryStateStore } from "../adapters/memoryStateStore";
import type { Client } from "./clientAuth";
import { ClientLimiter, type UsageStore } from "./clientLimiter";

const minute = 60_000;
const start = 28_333_333 * minute; // a window boundary
const client = (limits: Client["limits"]): Client => ({ name: "app", deployments: undefined, limits, seesAllClients: false });
const setup = (limits: Client["limits"], store: UsageStore = new MemoryStateStore(fakeClock(), minute), clock = fakeClock(start)) => ({
  limiter: new ClientLimiter(store, { clock }),
  clock,
  store,
  app: client(limits),
});

describe("ClientLimiter", () => {
  it("admits requestsPerMinute calls, then 429 with the seconds until the window has room", () => {
    const { limiter, clock, app } = setup({ requestsPerMinute: 3, tokensPerMinute: undefined });
    clock.advance(50_000);
    for (let i = 0; i < 3; i++) expect(limiter.admit(app).admitted).toBe(true);
    expect(limiter.admit(app)).toEqual({ admitted: false, limit: "requests", retryAfterSeconds: 30 });
    // Next window: the previous window's 3 still weigh 3 × (1 − 0/60) = 3 at its start …
    clock.advance(10_000);
    expect(limiter.admit(app).admitted).toBe(false);
    // … and 3 × (1 − 20/60) = 2 twenty seconds in: room for one.
    clock.advance(20_000);
    expect(limiter.admit(app).admitted).toBe(true);
    expect(limiter.admit(app).admitted).toBe(false);
  });

  it("admits on tokens while the window has room and counts tokens when the answer is in; one huge call waits out its excess", () => {
    const { limiter, clock, app } = setup({ tokensPerMinute: 1000, requestsPerMinute: undefined });
    expect(limiter.admit(app).admitted).toBe(true);
    expect(limiter.admit(app).admitted).toBe(true);
    limiter.recordTokens(app, 900);
    expect(limiter.admit(app).admitted).toBe(true);
    limiter.recordTokens(app, 2100); // a single call far over the budget: admitted, then counted
    const held = limiter.admit(app);
    expect(held).toMatchObject({ admitted: false, limit: "tokens" });
    // 3000 of 1000: the next window starts in 60 s and the 3000 must fade to under 1000: 40 s more.
    expect(held.admitted === false && held.retryAfterSeconds).toBe(101);
    clock.advance(100_000);
    expect(limiter.admit(app).admitted).toBe(false);
    clock.advance(1_000);
    expect(limiter.admit(app).admitted).toBe(true);
  });

  it("uncounts a call the router answered itself, and gives the client's own budget as headers", () => {
    const { limiter, app } = setup({ requestsPerMinute: 10, tokensPerMinute: 500 });
    limiter.admit(app);
    limiter.admit(app);
    limiter.release(app);
    limiter.recordTokens(app, 120);
    const headers: Record<string, string | string[]> = { "x-ratelimit-remaining-requests": "99" };
    limiter.writeHeaders(app, headers);
    expect(headers).toEqual({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "9",
      "x-ratelimit-limit-tokens": "500",
      "x-ratelimit-remaining-tokens": "380",
    });
    const none: Record<string, string | string[]> = {};
    limiter.writeHeaders(client(undefined), none);
    expect(none).toEqual({});
  });

  it("holds the limit across two instances once both have shared: each admits against the other's usage", async () => {
    const clock = fakeClock(start);
    const store = new MemoryStateStore(clock, minute);
    const a = setup({ requestsPerMinute: 10, tokensPerMinute: undefined }, store, clock);
    const b = setup({ requestsPerMinute: 10, tokensPerMinute: undefined }, store, clock);
    for (let i = 0; i < 6; i++) expect(a.limiter.admit(a.app).admitted).toBe(true);
    // An instance reads the shared total only while it has traffic: B's first call, then both share.
    expect(b.limiter.admit(b.app).admitted).toBe(true);
    await a.limiter.share();
    await b.limiter.share();
    await a.limiter.share(); // both have now seen that two instances write
    // 3 left for 2 instances: B takes its share (1.5 → 1) until the next refresh shares out the rest.
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (b.limiter.admit(b.app).admitted) admitted++;
    expect(admitted).toBe(1);
    let total = 8;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 10; i++) if (b.limiter.admit(b.app).admitted) total++;
      for (let i = 0; i < 10; i++) if (a.limiter.admit(a.app).admitted) total++;
      await a.limiter.share();
      await b.limiter.share();
    }
    expect(total).toBe(10);
    expect(a.limiter.admit(a.app).admitted).toBe(false);
    expect(a.limiter.view(undefined).app).toEqual({ requests: 10, tokens: 0, limits: { requestsPerMinute: 10 } });
    expect(a.limiter.status()).toMatchObject({ shared: true, instances: 2 });
  });

  it("falls back to per-instance shares when the store fails — not unlimited, not everything refused — and back when it answers", async () => {
    const clock = fakeClock(start);
    const memory = new MemoryStateStore(clock, minute);
    let down = false;
    const flaky: UsageStore = {
      addUsage: (name, window, delta) => (down ? Promise.reject(new Error("store down")) : memory.addUsage(name, window, delta)),
      readUsage: (name, window) => (down ? Promise.reject(new Error("store down")) : memory.readUsage(name, window)),
    };
    const logs: string[] = [];
    const make = () =>
      new ClientLimiter(flaky, {
        clock,
        log: { degraded: (_, n) => logs.push(`degraded ${n}`), restored: () => logs.push("restored") },
      });
    const a = make();
    const b = make();
    const app = client({ requestsPerMinute: 10, tokensPerMinute: undefined });
    a.admit(app);
    b.admit(app);
    await a.share();
    await b.share();
    await a.share();
    expect(a.status().instances).toBe(2);
    down = true;
    await a.share();
    await a.share();
    expect(logs).toEqual(["degraded 2"]);
    // Its share is 10 / 2 = 5, of which it used 1: four more, then 429.
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (a.admit(app).admitted) admitted++;
    expect(admitted).toBe(4);
    down = false;
    await a.share();
    expect(logs).toEqual(["degraded 2", "restored"]);
    expect(a.status().shared).toBe(true);
  });

  it("shows usage in the sliding minute (no drop to zero as a minute turns), under any client name", () => {
    const clock = fakeClock(start + 50_000);
    const limiter = new ClientLimiter(new MemoryStateStore(clock, minute), { clock });
    const proto: Client = {
      name: "__proto__",
      deployments: undefined,
      limits: { requestsPerMinute: 100, tokensPerMinute: undefined },
      seesAllClients: false,
    };
    for (let i = 0; i < 6; i++) limiter.admit(proto);
    limiter.recordTokens(proto, 60);
    clock.advance(25_000); // 15 s into the next minute: 3/4 of the previous one still counts
    const view = limiter.view(undefined);
    expect(Object.keys(view)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(view, "__proto__")?.value).toEqual({
      requests: 5,
      tokens: 45,
      limits: { requestsPerMinute: 100 },
    });
  });
});
