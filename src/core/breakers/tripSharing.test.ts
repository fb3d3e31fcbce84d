import { describe, expect, it } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { MemoryStateStore } from "../../adapters/memoryStateStore";
import { parseRouterConfig } from "../config/config";
import { SyncLoop } from "../shared/syncLoop";
import { BreakerBoard } from "./breakerBoard";
import { TripSharing, type TripSharingLog } from "./tripSharing";
import { findTrip, type SharedTrips, type StateStore, type TripRecord, wholeBackend } from "./tripStore";

const config = parseRouterConfig({
  backends: [
    { name: "eastus", url: "https://a.example" },
    { name: "westus", url: "https://b.example" },
  ],
});
const policy = config.circuitBreaker;
const quiet = { lost: () => {}, restored: () => {}, badRow: () => {} };

/** The shared-state loop with trips as its one participant, stepped by the test. */
function tripLoop(store: StateStore, board: BreakerBoard, clock: ReturnType<typeof fakeClock>, log: TripSharingLog = quiet) {
  const sync = new SyncLoop({ clock, random: () => 0.5 });
  sync.join(new TripSharing(store, board, { clock, log, refreshMs: sync.refreshMs, timeoutMs: 50, wake: () => sync.wake() }));
  return sync;
}

function setup(store: StateStore, instance = "me", clock = fakeClock()) {
  const log = { lost: 0, restored: 0 };
  const board = new BreakerBoard(config.backends, policy, instance);
  const sync = tripLoop(store, board, clock, { ...quiet, lost: () => void log.lost++, restored: () => void log.restored++ });
  return { clock, board, sync, log };
}

/** A 429 trip of eastus (as a whole) written by another instance, lasting `ms` from `now`. */
function tripByOther(now: number, ms: number, scope = wholeBackend): TripRecord {
  return { backend: "eastus", scope, openUntil: now + ms, trippedAt: now, reason: "throttled", lastStatus: 429, instance: "other" };
}

/** A store that can be switched to fail or to hang. */
class FlakyStore implements StateStore {
  readonly description = "flaky";
  mode: "ok" | "fail" | "hang" = "ok";
  constructor(readonly inner: MemoryStateStore) {}
  async readTrips(): Promise<SharedTrips> {
    await this.gate();
    return this.inner.readTrips();
  }
  async writeTrip(trip: TripRecord): Promise<void> {
    await this.gate();
    return this.inner.writeTrip(trip);
  }
  private gate(): Promise<void> {
    if (this.mode === "fail") return Promise.reject(new Error("503 Server Busy"));
    if (this.mode === "hang") return new Promise(() => {});
    return Promise.resolve();
  }
}

describe("TripSharing on the shared-state loop", () => {
  it("adopts a trip another instance stored, marked as shared", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, policy.maxTripDurationMs);
    const { board, sync } = setup(store, "me", clock);
    await store.writeTrip(tripByOther(clock.now(), 30_000));
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(false);
    await sync.runRound();
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(true);
    expect(board.view(clock.now())[0]?.backendWide).toMatchObject({
      state: "open",
      source: "shared",
      reason: "throttled",
      lastStatus: 429,
    });
    clock.advance(30_000);
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(false);
  });

  it("caps a shared trip at this pool's maxTripDuration", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, 86_400_000);
    const { board, sync } = setup(store, "me", clock);
    await store.writeTrip(tripByOther(clock.now(), 86_400_000));
    await sync.runRound();
    expect(Date.parse(board.view(clock.now())[0]?.openUntil ?? "")).toBe(clock.now() + policy.maxTripDurationMs);
  });

  it("never lets re-reading a long shared trip push its end past maxTripDuration from its start", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, 86_400_000);
    const opened: number[] = [];
    const { board, sync } = setup(store, "me", clock);
    board.onTrip((e) => opened.push(e.openUntil));
    const start = clock.now();
    await store.writeTrip(tripByOther(start, 40_000));
    const capped = parseRouterConfig({ ...rawConfig(), circuitBreaker: { maxTripDuration: "PT5S" } }).circuitBreaker;
    const short = new BreakerBoard(config.backends, capped, "me");
    const shortSync = tripLoop(store, short, clock);
    const ends: number[] = [];
    for (let i = 0; i < 10; i++) {
      await shortSync.runRound();
      await sync.runRound();
      ends.push(short.openUntil(0, undefined, clock.now()));
      clock.advance(1_000);
    }
    // The 5 s cap counts from the trip's own start: out until start + 5 s, then back, for good.
    expect(ends).toEqual([5, 5, 5, 5, 5, 5, 6, 7, 8, 9].map((s) => start + s * 1_000));
    expect(short.isOpen(0, undefined, clock.now())).toBe(false);
    // The board with the longer cap announced the trip once, not on every refresh.
    expect(opened).toEqual([start + 40_000]);
  });

  it("keeps a trip shorter than the refresh local: a PTU's few-millisecond retry-after-ms is never written", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, policy.maxTripDurationMs);
    const { board, sync } = setup(store, "me", clock);
    board.recordFailure(0, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 40, retryAfterPrecise: true }, clock.now());
    expect(board.isOpen(0, "gpt-4o", clock.now())).toBe(true);
    await sync.runRound();
    expect(store.counts.writes).toBe(0);
    // Exactly one refresh long is long enough to be worth sharing.
    board.recordFailure(1, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 1_000, retryAfterPrecise: true }, clock.now());
    await sync.runRound();
    expect(store.counts.writes).toBe(1);
  });

  it("writes a local trip to the store on the next round, and only trips", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, policy.maxTripDurationMs);
    const { board, sync } = setup(store, "me", clock);
    board.recordSuccess(1, "gpt-4o", 200);
    await sync.runRound();
    expect(store.counts.writes).toBe(0);
    board.recordFailure(0, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 10_000 }, clock.now());
    await sync.runRound();
    expect(store.counts.writes).toBe(1);
    expect(findTrip(await store.readTrips(), "eastus", "gpt-4o")).toMatchObject({ openUntil: clock.now() + 10_000, instance: "me" });
    await sync.runRound();
    expect(store.counts.writes).toBe(1);
  });

  it("keeps a trip it could not write and writes it when the store is back", async () => {
    const clock = fakeClock();
    const store = new FlakyStore(new MemoryStateStore(clock, policy.maxTripDurationMs));
    const { board, sync, log } = setup(store, "me", clock);
    store.mode = "fail";
    board.recordFailure(0, "gpt-4o", { reason: "serverError", status: 500 }, clock.now());
    await sync.runRound();
    await sync.runRound();
    expect(log).toEqual({ lost: 1, restored: 0 });
    expect(sync.status().connected).toBe(false);
    store.mode = "ok";
    await sync.runRound();
    expect(log).toEqual({ lost: 1, restored: 1 });
    expect(findTrip(await store.inner.readTrips(), "eastus", "gpt-4o")?.reason).toBe("serverError");
  });

  it("gives up on a hanging store after its timeout and says so once", async () => {
    const store = new FlakyStore(new MemoryStateStore(fakeClock(), policy.maxTripDurationMs));
    const { sync, log } = setup(store);
    store.mode = "hang";
    const started = Date.now();
    await sync.runRound();
    await sync.runRound();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.lost).toBe(1);
  });

  it("does not re-adopt or re-announce its own trip read back from the store", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, policy.maxTripDurationMs);
    const opened: string[] = [];
    const { board, sync } = setup(store, "me", clock);
    board.onTrip((e) => opened.push(e.source));
    board.recordFailure(0, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 5_000 }, clock.now());
    await sync.runRound();
    await sync.runRound();
    expect(opened).toEqual(["local"]);
  });

  it("reports a breaker closed once its trip is over, on the refresh tick", async () => {
    const clock = fakeClock();
    const store = new MemoryStateStore(clock, policy.maxTripDurationMs);
    const closed: string[] = [];
    const { board, sync } = setup(store, "me", clock);
    board.onClose((e) => closed.push(`${e.backend}/${e.scope}@${e.at}`));
    const at = clock.now() + 5_000;
    board.recordFailure(0, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 5_000 }, clock.now());
    await sync.runRound();
    expect(closed).toEqual([]);
    clock.advance(5_000);
    await sync.runRound();
    await sync.runRound();
    expect(closed).toEqual([`eastus/gpt-4o@${at}`]);
  });

  it("runs every participant's round, also while the store fails the trips'", async () => {
    const clock = fakeClock();
    const store = new FlakyStore(new MemoryStateStore(clock, policy.maxTripDurationMs));
    const sync = tripLoop(store, new BreakerBoard(config.backends, policy, "me"), clock);
    let rounds = 0;
    sync.join({
      round: async () => {
        rounds++;
        return "idle";
      },
    });
    await sync.runRound();
    store.mode = "fail";
    await sync.runRound();
    expect(rounds).toBe(2);
    expect(sync.status().connected).toBe(false);
  });
});

function rawConfig() {
  return {
    backends: [
      { name: "eastus", url: "https://a.example" },
      { name: "westus", url: "https://b.example" },
    ],
  };
}
