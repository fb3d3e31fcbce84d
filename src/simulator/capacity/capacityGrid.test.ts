// The capacity grid (discrete-event, fake clock): the router's gate against Azure's provisioned
// bucket, beside a greedy sender on the same traffic. The figures are asserted cell by cell.

import { describe, expect, it } from "vitest";
import { gridCells, isKnownGap, runGridCell, standardCells } from "./capacityGrid";

describe("capacity grid: the PTU's work beside a greedy sender's, and the calls that pay a 429", () => {
  const outcomes = gridCells().map(runGridCell);

  it.each(outcomes.map((o) => [`${o.cell.demand}× demand, ${o.cell.burstSeconds} s burst, ${o.cell.instances} instance(s)`, o] as const))(
    "%s",
    (_, outcome) => {
      const { cell, workShare, router, greedy } = outcome;
      // At most 1% of calls pay a 429 round trip; greedy pays one for every spilled call.
      expect(router.refusedShare).toBeLessThanOrEqual(0.01);
      expect(greedy.refusedShare).toBeGreaterThan(0.09);
      expect(workShare).toBeGreaterThanOrEqual(isKnownGap(cell) ? 0.85 : 0.98);
    },
  );

  it("holds on other traffic too (seeds 1 to 4): at most 1% of calls pay a 429, the work as with seed 7", () => {
    for (const seed of [1, 2, 3, 4]) {
      for (const cell of gridCells()) {
        const { router, workShare } = runGridCell({ ...cell, seed });
        const key = `${cell.demand}/${cell.burstSeconds}/${cell.instances}`;
        // Instances that share a PTU each see only their own calls (docs/capacity.md, "Where it falls
        // short"): in those cells a seed may reach a hair over 1% (1.003% on seed 4).
        expect(router.refusedShare, `${key} seed ${seed}`).toBeLessThanOrEqual(isKnownGap(cell) ? 0.0105 : 0.01);
        expect(workShare, `${key} seed ${seed}`).toBeGreaterThanOrEqual(isKnownGap(cell) ? 0.83 : 0.98);
      }
    }
  });

  it("holds for small calls answered at once, as the bench sends over sockets, once the gates have learned", () => {
    // 7 prompt tokens (18 by the router's estimate), max_tokens 40, writing 20, a PTU at 1 token/ms.
    const shape = {
      tokensPerMinute: 60_000,
      promptTokens: 7,
      promptEstimate: 18,
      maxTokens: 40,
      completion: [20, 20] as const,
      latencyMs: 1,
      msPerToken: 0,
    };
    for (const demand of [1.2, 1.6, 3]) {
      const learned = runGridCell({ demand, burstSeconds: 0.5, instances: 2, seconds: 30, shape, measureFromSeconds: 4 });
      expect(learned.workShare, `${demand}×`).toBeGreaterThanOrEqual(0.98);
      expect(learned.router.refusedShare, `${demand}×`).toBeLessThanOrEqual(0.01);
      expect(learned.greedy.refusedShare, `${demand}×`).toBeGreaterThan(0.1);
      // Counted from 4 s on: fewer calls than the whole run's.
      const whole = runGridCell({ demand, burstSeconds: 0.5, instances: 2, seconds: 30, shape });
      expect(learned.router.calls).toBeLessThan(whole.router.calls);
    }
  });

  it("below capacity (0.8×) every call is on the PTU and none pays a 429", () => {
    for (const instances of [1, 2, 4]) {
      for (const burstSeconds of [0.1, 1]) {
        const { router, workShare } = runGridCell({ demand: 0.8, burstSeconds, instances });
        expect(router.refusedCalls).toBe(0);
        expect(workShare).toBeGreaterThanOrEqual(0.999);
      }
    }
  });

  it("with calls arriving at random: a standard quota and a PTU's burst of a second or more at 2× or above hold; the rest is a known gap, held to its floor", () => {
    // docs/capacity.md, "Calls arriving at random": a gate made at a deployment's first refusal learns
    // what its bucket holds from refusals alone, and under bursty traffic it stays near its floor.
    for (const cell of standardCells()) {
      const { router, workShare } = runGridCell({ ...cell, arrivals: "random" });
      expect(workShare, `standard ${cell.demand}/${cell.instances}`).toBeGreaterThanOrEqual(0.98);
      expect(router.refusedShare, `standard ${cell.demand}/${cell.instances}`).toBeLessThanOrEqual(0.01);
    }
    for (const cell of gridCells()) {
      const { router, greedy, workShare } = runGridCell({ ...cell, arrivals: "random" });
      const key = `${cell.demand}/${cell.burstSeconds}/${cell.instances}`;
      expect(greedy.refusedShare, key).toBeGreaterThan(0.09);
      expect(router.refusedShare, key).toBeLessThanOrEqual(isKnownGap(cell) ? 0.015 : 0.01);
      expect(workShare, key).toBeGreaterThanOrEqual(cell.burstSeconds >= 1 && cell.demand >= 2 ? 0.96 : 0.7);
    }
    // With the PTU's rate configured the gate is there from the start and measures the burst: a
    // single instance holds the targets with a burst of a second or more, and nearly with 0.1 s.
    for (const cell of gridCells().filter((c) => c.instances === 1)) {
      const { router, workShare } = runGridCell({ ...cell, arrivals: "random", configuredRate: 1 });
      const key = `configured ${cell.demand}/${cell.burstSeconds}/1`;
      expect(router.refusedShare, key).toBeLessThanOrEqual(0.01);
      expect(workShare, key).toBeGreaterThanOrEqual(cell.burstSeconds >= 1 ? 0.99 : 0.93);
    }
  });

  it("with the PTU's rate configured (capacity.tokensPerMinute), each instance's gate there from the start: its burst measured, its pace back at its share", () => {
    // A configured gate used to hold back every call its mirror was not empty for, and learned
    // nothing, since the PTU it under-filled never refused: 57% of greedy's work in the worst cell.
    for (const seed of [1, 2, 7]) {
      for (const cell of gridCells()) {
        const { router, workShare } = runGridCell({ ...cell, seed, configuredRate: 1 });
        const key = `${cell.demand}/${cell.burstSeconds}/${cell.instances} seed ${seed}`;
        const gap = isKnownGap(cell);
        // Four instances on a 0.1 s burst: 95–97% of greedy's work, at most 1.33% of calls paying a 429.
        expect(router.refusedShare, key).toBeLessThanOrEqual(gap ? 0.015 : 0.01);
        expect(workShare, key).toBeGreaterThanOrEqual(gap ? 0.95 : 0.98);
      }
    }
  });

  it("holds for a standard deployment with a tokens-per-minute quota as priority 1, across the grid's demands and instances", () => {
    for (const cell of standardCells()) {
      const { router, greedy, workShare } = runGridCell(cell);
      const key = `standard ${cell.demand}/${cell.instances}`;
      expect(workShare, key).toBeGreaterThanOrEqual(0.98);
      expect(router.refusedShare, key).toBeLessThanOrEqual(0.01);
      expect(greedy.refusedShare, key).toBeGreaterThan(0.2);
    }
  });
});
