import { describe, expect, it } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { MemoryStateStore } from "../../adapters/memoryStateStore";
import { parseRouterConfig } from "../config/config";
import { CapacityBoard } from "./capacityBoard";
import { CapacitySharing } from "./capacitySharing";
import { decodePaces, encodePaces } from "./sharedPaces";

const config = parseRouterConfig({
  backends: [
    { name: "ptu", url: "https://ptu.example", auth: { type: "none" }, deployments: { "gpt-4o": "gpt-4o-ptu" } },
    { name: "paygo", url: "https://paygo.example", auth: { type: "none" } },
  ],
});

function instance(store: MemoryStateStore, name: string, instances = 2) {
  const clock = fakeClock();
  const board = new CapacityBoard({ backends: config.backends, clock, random: () => 0 });
  const sharing = new CapacitySharing(store, board, { clock, random: () => 0.5, instance: name, instances: () => instances });
  return { clock, board, sharing };
}

/** A gate that learned a pace from two refusals 200 ms apart (as the forwarding loop reports them). */
function learn(i: { board: CapacityBoard; clock: { now(): number; advance(ms: number): void } }): void {
  const refusal = { cost: { prompt: 50, maxOutput: 50 }, charged: 100, delayMs: 50 };
  i.board.refused(0, "gpt-4o-ptu", refusal);
  i.clock.advance(100);
  i.board.gate(0, "gpt-4o-ptu")?.send(30_000, i.clock.now());
  i.clock.advance(100);
  i.board.refused(0, "gpt-4o-ptu", refusal);
}

describe("CapacitySharing", () => {
  it("writes one instance's estimate for the whole deployment; another takes its share before any refusal of its own", async () => {
    const store = new MemoryStateStore(fakeClock(), 300_000);
    const a = instance(store, "a");
    const b = instance(store, "b");
    learn(a);
    // Gates made by refusals at fake-clock times: A's pace is what it measured.
    const paceA = a.board.view().find((v) => v.backend === "ptu")?.tokensPerMinute ?? 0;
    expect(paceA).toBeGreaterThan(0);
    await a.sharing.share();
    const shared = await store.readPaces();
    expect(shared).toEqual([
      expect.objectContaining({ backend: "ptu", deployment: "gpt-4o-ptu", tokensPerMinute: paceA * 2, instance: "a" }),
    ]);
    expect(b.board.gate(0, "gpt-4o-ptu")).toBeUndefined();
    await b.sharing.share();
    const seeded = b.board.view().find((v) => v.backend === "ptu");
    expect(seeded).toMatchObject({ deployment: "gpt-4o-ptu", tokensPerMinute: paceA, refused: 0 });
    expect(b.sharing.status()).toMatchObject({ seeded: 1, reads: 1 });
  });

  it("writes rarely: not again while the stored pace is within a quarter, and not before its interval", async () => {
    const store = new MemoryStateStore(fakeClock(), 300_000);
    const a = instance(store, "a");
    learn(a);
    await a.sharing.share();
    for (let i = 0; i < 30; i++) {
      a.clock.advance(10_000);
      await a.sharing.share();
    }
    expect(a.sharing.status().writes).toBe(1);
  });

  it("a gate with a pace of its own keeps it; a store that fails costs only the sharing", async () => {
    const store = new MemoryStateStore(fakeClock(), 300_000);
    const a = instance(store, "a");
    learn(a);
    const own = a.board.view()[0]?.tokensPerMinute;
    await store.writePace({ backend: "ptu", deployment: "gpt-4o-ptu", tokensPerMinute: 1, at: a.clock.now(), instance: "x" });
    await a.sharing.share();
    expect(a.board.view()[0]?.tokensPerMinute).toBe(own);
    const failing = instance(
      { readPaces: async () => Promise.reject(new Error("down")), writePace: async () => {} } as unknown as MemoryStateStore,
      "c",
    );
    await failing.sharing.share();
    expect(failing.sharing.status().failures).toBe(1);
  });
});

describe("shared paces as stored", () => {
  it("round-trip, and garbage entries are dropped, never trusted", () => {
    const paces = [{ backend: "ptu", deployment: "gpt-4o-ptu", tokensPerMinute: 300_000, at: 5, instance: "a" }];
    expect(decodePaces(encodePaces(paces))).toEqual(paces);
    const garbage = JSON.stringify([
      ["ptu", "d", -1, 5, "a"],
      ["../x", "d", 10, 5, "a"],
      ["ptu", "d", 1e12, 5, "a"],
      "x",
      ["ptu", "", 10, 5, "a"],
    ]);
    expect(decodePaces(garbage)).toEqual([{ backend: "ptu", deployment: "", tokensPerMinute: 10, at: 5, instance: "a" }]);
    expect(decodePaces("not json")).toEqual([]);
    expect(decodePaces(42)).toEqual([]);
  });
});
