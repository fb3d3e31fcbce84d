import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { type RoundOutcome, SyncLoop, type SyncParticipant } from "./syncLoop";

/** A participant whose rounds answer as told, counted. */
function participant(outcomes: RoundOutcome[] = ["ok"], section?: string): SyncParticipant & { rounds: number; stopped: number } {
  return {
    section,
    rounds: 0,
    stopped: 0,
    async round() {
      return outcomes[Math.min(this.rounds++, outcomes.length - 1)] ?? "ok";
    },
    status: () => ({ mine: true }),
    async stop() {
      this.stopped++;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SyncLoop", () => {
  it("backs off while a round fails, doubling up to the cap, and is back to the interval after an answer", async () => {
    const sync = new SyncLoop({ clock: fakeClock(), random: () => 0.5, refreshMs: 1_000, maxBackoffMs: 4_000 });
    sync.join(participant(["failed", "failed", "failed", "failed", "ok"]));
    const delays: number[] = [sync.nextDelayMs()];
    for (let i = 0; i < 5; i++) {
      await sync.runRound();
      delays.push(sync.nextDelayMs());
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 4_000, 4_000, 1_000]);
  });

  it("spreads each interval by the jitter, either way", () => {
    const at = (random: number) => new SyncLoop({ clock: fakeClock(), random: () => random, refreshMs: 1_000, jitter: 0.2 }).nextDelayMs();
    expect(at(0)).toBe(800);
    expect(at(0.5)).toBe(1_000);
    expect(at(0.999_999)).toBeCloseTo(1_200, 0);
  });

  it("is connected after a round the store answered, not after one that failed, and idle rounds change nothing", async () => {
    const clock = fakeClock();
    const sync = new SyncLoop({ clock, random: () => 0.5 });
    const outcomes: RoundOutcome[] = ["idle", "ok", "idle", "failed"];
    sync.join(participant(outcomes));
    sync.join(participant(["idle"]));
    await sync.runRound();
    expect(sync.status()).toEqual({ connected: false, lastRefreshAt: null });
    await sync.runRound();
    expect(sync.status()).toEqual({ connected: true, lastRefreshAt: new Date(clock.now()).toISOString() });
    clock.advance(1_000);
    await sync.runRound();
    expect(sync.status().lastRefreshAt).toBe(new Date(clock.now() - 1_000).toISOString());
    await sync.runRound();
    expect(sync.status().connected).toBe(false);
  });

  it("runs every participant each round, in the order they joined, and gathers their status sections", async () => {
    const sync = new SyncLoop({ clock: fakeClock(), random: () => 0.5 });
    const order: string[] = [];
    for (const name of ["trips", "owners", "usage"]) {
      sync.join({
        section: name === "owners" ? "owners" : undefined,
        round: async (): Promise<RoundOutcome> => {
          order.push(name);
          return "ok";
        },
        status: () => ({ name }),
      });
    }
    await sync.runRound();
    expect(order).toEqual(["trips", "owners", "usage"]);
    expect([...sync.sections()]).toEqual([["owners", { name: "owners" }]]);
  });

  it("runs the first round at once, then on the interval; a wake brings the next round forward", async () => {
    vi.useFakeTimers();
    const clock = { now: () => Date.now() };
    const sync = new SyncLoop({ clock, random: () => 0.5, refreshMs: 1_000 });
    const p = sync.join(participant());
    sync.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(p.rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.rounds).toBe(2);
    sync.wake(100);
    await vi.advanceTimersByTimeAsync(100);
    expect(p.rounds).toBe(3);
    // A wake later than the round already due changes nothing.
    sync.wake(5_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.rounds).toBe(4);
    await sync.stop();
    expect(p.stopped).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(p.rounds).toBe(4);
  });

  it("ignores a wake while the store fails: the backed-off round writes", async () => {
    vi.useFakeTimers();
    const clock = { now: () => Date.now() };
    const sync = new SyncLoop({ clock, random: () => 0.5, refreshMs: 1_000 });
    const p = sync.join(participant(["failed"]));
    sync.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.rounds).toBe(1);
    sync.wake();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(p.rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.rounds).toBe(2);
    await sync.stop();
  });
});
