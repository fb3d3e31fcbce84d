import { describe, expect, it } from "vitest";
import { fakeClock } from "../../test/helpers/random";
import { MemoryStateStore } from "../adapters/memoryStateStore";
import { BreakerBoard } from "./breakerBoard";
import { parseRouterConfig } from "./config";
import type { SharedTrips, StateStore, TripRecord } from "./stateStore";
import { StateSync } from "./stateSync";

const policy = parseRouterConfig({ backends: [{ name: "a", url: "https://a.example" }] }).circuitBreaker;

function setup(store: StateStore, instance = "me") {
  const clock = fakeClock();
  const log = { lost: 0, restored: 0 };
  let sync: StateSync | undefined;
  const board = new BreakerBoard(["eastus", "westus"], policy, instance, {}, (backend, trip) => sync?.share(backend, trip));
  sync = new StateSync(store, board, {
    clock,
    random: () => 0.5,
    timeoutMs: 50,
    log: { lost: () => void log.lost++, restored: () => void log.restored++ },
  });
  return { clock, board, sync, log };
}

/** A 429 trip written by another instance, lasting `ms` from `now`. */
function tripByOther(now: number, ms: number): TripRecord {
  return { openUntil: now + ms, trippedAt: now, reason: "throttled", lastStatus: 429, instance: "other" };
}

/** A store that can be switched to fail or to hang. */
class FlakyStore implements StateStore {
  readonly description = "flaky";
  mode: "ok" | "fail" | "hang" = "ok";
  readonly inner = new MemoryStateStore();
  async readTrips(): Promise<SharedTrips> {
    await this.gate();
    return this.inner.readTrips();
  }
  async writeTrip(backend: string, trip: TripRecord): Promise<void> {
    await this.gate();
    return this.inner.writeTrip(backend, trip);
  }
  private gate(): Promise<void> {
    if (this.mode === "fail") return Promise.reject(new Error("503 Server Busy"));
    if (this.mode === "hang") return new Promise(() => {});
    return Promise.resolve();
  }
}

describe("StateSync", () => {
  it("adopts a trip another instance stored, marked as shared", async () => {
    const store = new MemoryStateStore();
    const { board, sync, clock } = setup(store);
    await store.writeTrip("eastus", tripByOther(clock.now(), 30_000));
    expect(board.isOpen(0, clock.now())).toBe(false);
    await sync.syncOnce();
    expect(board.isOpen(0, clock.now())).toBe(true);
    expect(board.view(clock.now())[0]).toMatchObject({ state: "open", source: "shared", reason: "throttled", lastStatus: 429 });
    clock.advance(30_000);
    expect(board.isOpen(0, clock.now())).toBe(false);
  });

  it("caps a shared trip at this pool's maxTripDuration", async () => {
    const store = new MemoryStateStore();
    const { board, sync, clock } = setup(store);
    await store.writeTrip("eastus", tripByOther(clock.now(), 86_400_000));
    await sync.syncOnce();
    expect(Date.parse(board.view(clock.now())[0]?.openUntil ?? "")).toBe(clock.now() + policy.maxTripDurationMs);
  });

  it("writes a local trip to the store on the next round, and only trips", async () => {
    const store = new MemoryStateStore();
    const { board, sync, clock } = setup(store);
    board.recordSuccess(1, 200);
    await sync.syncOnce();
    expect(store.counts.writes).toBe(0);
    board.recordFailure(0, { reason: "throttled", status: 429, retryAfterMs: 10_000 }, clock.now());
    await sync.syncOnce();
    expect(store.counts.writes).toBe(1);
    expect((await store.readTrips()).eastus).toMatchObject({ openUntil: clock.now() + 10_000, instance: "me" });
    await sync.syncOnce();
    expect(store.counts.writes).toBe(1);
  });

  it("keeps a trip it could not write and writes it when the store is back", async () => {
    const store = new FlakyStore();
    const { board, sync, clock, log } = setup(store);
    store.mode = "fail";
    board.recordFailure(0, { reason: "serverError", status: 500 }, clock.now());
    await sync.syncOnce();
    await sync.syncOnce();
    expect(log).toEqual({ lost: 1, restored: 0 });
    expect(sync.status().connected).toBe(false);
    store.mode = "ok";
    await sync.syncOnce();
    expect(log).toEqual({ lost: 1, restored: 1 });
    expect((await store.inner.readTrips()).eastus?.reason).toBe("serverError");
  });

  it("gives up on a hanging store after its timeout and says so once", async () => {
    const store = new FlakyStore();
    const { sync, log } = setup(store);
    store.mode = "hang";
    const started = Date.now();
    await sync.syncOnce();
    await sync.syncOnce();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.lost).toBe(1);
  });

  it("does not re-adopt or re-announce its own trip read back from the store", async () => {
    const store = new MemoryStateStore();
    const opened: string[] = [];
    const clock = fakeClock();
    let sync: StateSync | undefined;
    const board = new BreakerBoard(["eastus"], policy, "me", { breakerOpened: (e) => opened.push(e.source) }, (b, t) => sync?.share(b, t));
    sync = new StateSync(store, board, { clock, random: () => 0.5, log: { lost: () => {}, restored: () => {} } });
    board.recordFailure(0, { reason: "throttled", status: 429, retryAfterMs: 5_000 }, clock.now());
    await sync.syncOnce();
    await sync.syncOnce();
    expect(opened).toEqual(["local"]);
  });
});
