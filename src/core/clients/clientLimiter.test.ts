// Limits with a fake clock and an in-memory store: exact counts at bucket boundaries, Retry-After,
// estimates charged at admission and corrected, refunds, any 60-second span, two instances sharing
// (present before their first call), the store down, and a store record that forgets usage.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { MemoryStateStore } from "../../adapters/memoryStateStore";
import type { Client } from "./clientAuth";
import { ClientLimiter } from "./clientLimiter";
import { bucketMs } from "./usageBuckets";
import { UsageSharing, type UsageStore } from "./usageSharing";

const minute = 60_000;
const start = 345_600_000 * bucketMs; // a bucket boundary
const client = (limits: Client["limits"]): Client => ({ name: "app", deployments: undefined, limits, seesAllClients: false });
const rpm = (n: number) => ({ requestsPerMinute: n, tokensPerMinute: undefined });
const tpm = (n: number) => ({ tokensPerMinute: n, requestsPerMinute: undefined });

/** One instance's limiter and its sharing, with `clients` configured (as the composition root does). */
function instance(store: UsageStore, clock: ReturnType<typeof fakeClock>, name: string, clients: Client[] = [client(rpm(10))]) {
  const limiter = new ClientLimiter({ clock, clients });
  const sharing = new UsageSharing(store, limiter, { clock, instance: name, random: () => 0 });
  return { limiter, sharing };
}

describe("ClientLimiter", () => {
  it("admits requestsPerMinute calls, then 429 until the bucket they are in leaves the window", () => {
    const clock = fakeClock(start + 2_000);
    const limiter = new ClientLimiter({ clock });
    const app = client(rpm(3));
    for (let i = 0; i < 3; i++) expect(limiter.admit(app, 0).admitted).toBe(true);
    // Their bucket (start..start+5 s) is counted until start + 65 s: 63 s from now.
    expect(limiter.admit(app, 0)).toEqual({ admitted: false, limit: "requests", retryAfterSeconds: 63 });
    clock.advance(62_000);
    expect(limiter.admit(app, 0).admitted).toBe(false);
    clock.advance(1_000);
    expect(limiter.admit(app, 0).admitted).toBe(true);
  });

  it("holds every 60-second span: a burst late in one minute and another early in the next are not both let through", () => {
    const clock = fakeClock(start + 55_000);
    const limiter = new ClientLimiter({ clock });
    const app = client(rpm(10));
    for (let i = 0; i < 10; i++) limiter.admit(app, 0);
    // Ten seconds later is a new minute; a weighted previous minute would have room for eight more here.
    clock.advance(10_000);
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (limiter.admit(app, 0).admitted) admitted++;
    expect(admitted).toBe(0);
    clock.advance(50_000); // 60 s after the first burst: still inside the counted window
    expect(limiter.admit(app, 0).admitted).toBe(false);
    clock.advance(5_000);
    expect(limiter.admit(app, 0).admitted).toBe(true);
  });

  it("charges a call's estimate when admitted, so calls in flight count, and corrects it to the reported tokens", () => {
    const clock = fakeClock(start);
    const limiter = new ClientLimiter({ clock });
    const app = client(tpm(1000));
    const first = limiter.admit(app, 400);
    const second = limiter.admit(app, 400);
    expect(first.admitted && second.admitted).toBe(true);
    // Two in flight hold 800: a third estimated at 400 waits, though no answer has ended yet.
    expect(limiter.admit(app, 400)).toMatchObject({ admitted: false, limit: "tokens" });
    limiter.settle(first.admitted ? first.charge : undefined, 100);
    expect(limiter.admit(app, 400).admitted).toBe(true);
    expect(limiter.view(undefined).app?.tokens).toBe(900);
  });

  it("lets a call larger than the whole limit through when nothing else is counted, then waits out the window", () => {
    const clock = fakeClock(start);
    const limiter = new ClientLimiter({ clock });
    const app = client(tpm(1000));
    expect(limiter.admit(app, 5000).admitted).toBe(true);
    expect(limiter.admit(app, 10)).toMatchObject({ admitted: false, retryAfterSeconds: 65 });
  });

  it("refunds a call the router answered itself, and gives the client's own budget as headers", () => {
    const clock = fakeClock(start);
    const limiter = new ClientLimiter({ clock });
    const app = client({ requestsPerMinute: 10, tokensPerMinute: 500 });
    const kept = limiter.admit(app, 100);
    const refunded = limiter.admit(app, 100);
    limiter.refund(refunded.admitted ? refunded.charge : undefined);
    limiter.settle(kept.admitted ? kept.charge : undefined, 120);
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
    // A client without limits is not counted at all.
    expect(limiter.admit(client(undefined), 10)).toEqual({ admitted: true, charge: undefined });
  });

  it("knows two instances share the limit before either has a call: a first burst over both stays within it", async () => {
    const clock = fakeClock(start);
    const store = new MemoryStateStore(clock, minute);
    const a = instance(store, clock, "a");
    const b = instance(store, clock, "b");
    await a.sharing.share();
    await b.sharing.share();
    await a.sharing.share();
    expect(a.sharing.status().instances).toBe(2);
    const app = client(rpm(10));
    let served = 0;
    for (let i = 0; i < 20; i++) if (a.limiter.admit(app, 0).admitted) served++;
    for (let i = 0; i < 20; i++) if (b.limiter.admit(app, 0).admitted) served++;
    expect(served).toBe(10);
    // After sharing, each knows the other's usage: nothing more fits until the window moves.
    await a.sharing.share();
    await b.sharing.share();
    await a.sharing.share();
    expect(a.limiter.admit(app, 0).admitted).toBe(false);
    expect(a.limiter.view(undefined).app).toEqual({ requests: 10, tokens: 0, limits: { requestsPerMinute: 10 } });
  });

  it("falls back to per-instance shares when the store fails — not unlimited, not everything refused — and back when it answers", async () => {
    const clock = fakeClock(start);
    const memory = new MemoryStateStore(clock, minute);
    let down = false;
    const fail = () => Promise.reject(new Error("store down"));
    const flaky: UsageStore = {
      addUsage: (name, delta, _s) => (down ? fail() : memory.addUsage(name, delta)),
      readUsage: (name) => (down ? fail() : memory.readUsage(name)),
      checkIn: (i, slot) => (down ? fail() : memory.checkIn(i, slot)),
      readPresence: (slot) => (down ? fail() : memory.readPresence(slot)),
    };
    const logs: string[] = [];
    const make = (name: string) => {
      const limiter = new ClientLimiter({ clock, clients: [client(rpm(10))] });
      const log = { degraded: (_: unknown, n: number) => logs.push(`degraded ${n}`), restored: () => logs.push("restored") };
      return { limiter, sharing: new UsageSharing(flaky, limiter, { clock, instance: name, log }) };
    };
    const a = make("a");
    const b = make("b");
    const app = client(rpm(10));
    await a.sharing.share();
    await b.sharing.share();
    await a.sharing.share();
    a.limiter.admit(app, 0);
    down = true;
    await a.sharing.share();
    await a.sharing.share();
    expect(logs).toEqual(["degraded 2"]);
    // Its share is 10 / 2 = 5, of which it used 1: four more, then 429.
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (a.limiter.admit(app, 0).admitted) admitted++;
    expect(admitted).toBe(4);
    down = false;
    await a.sharing.share();
    expect(logs).toEqual(["degraded 2", "restored"]);
    expect(a.sharing.status().shared).toBe(true);
  });

  it("never counts less than its own usage when the store's record lost it (reset, or garbage dropped)", async () => {
    const clock = fakeClock(start);
    const forgetful: UsageStore = {
      addUsage: async () => [],
      readUsage: async () => [],
      checkIn: async () => {},
      readPresence: async () => ({ current: 1, previous: 0 }),
    };
    const app = client(rpm(5));
    const { limiter, sharing } = instance(forgetful, clock, "a", [app]);
    for (let i = 0; i < 5; i++) limiter.admit(app, 0);
    await sharing.share();
    await sharing.share();
    expect(limiter.admit(app, 0).admitted).toBe(false);
    expect(limiter.view(undefined).app?.requests).toBe(5);
  });

  it("shows usage in the counted window under any client name", () => {
    const clock = fakeClock(start + 50_000);
    const limiter = new ClientLimiter({ clock });
    const proto: Client = {
      name: "__proto__",
      deployments: undefined,
      limits: { requestsPerMinute: 100, tokensPerMinute: 1000 },
      seesAllClients: false,
    };
    for (let i = 0; i < 6; i++) {
      const a = limiter.admit(proto, 20);
      limiter.settle(a.admitted ? a.charge : undefined, 10);
    }
    clock.advance(15_000);
    const view = limiter.view(undefined);
    expect(Object.keys(view)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(view, "__proto__")?.value).toEqual({
      requests: 6,
      tokens: 60,
      limits: { requestsPerMinute: 100, tokensPerMinute: 1000 },
    });
  });

  it("costs nothing in storage for a router whose clients have no limits: no usage, no presence", async () => {
    const clock = fakeClock(start);
    const store = new MemoryStateStore(clock, minute);
    const { limiter, sharing } = instance(store, clock, "a", [client(undefined)]);
    limiter.admit(client(undefined), 0);
    await sharing.share();
    expect(store.counts).toEqual({ reads: 0, writes: 0 });
  });
});
