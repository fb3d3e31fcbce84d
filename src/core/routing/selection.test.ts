import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../test/helpers/random";
import { type Candidate, groupByPriority, type PriorityGroups, pickBackend } from "./selection";

const all = () => true;

/** Backends as candidates of a call with no deployment (index = position). */
function groups(backends: readonly { priority: number; weight: number }[]): PriorityGroups {
  return groupByPriority(backends.map((b, index) => ({ ...b, index, deployment: undefined })));
}

/** `pickBackend` by backend index, as most of these cases read best. */
function pick(g: PriorityGroups, canTake: (i: number) => boolean, random: () => number): number | undefined {
  return pickBackend(g, (c: Candidate) => canTake(c.index), random)?.index;
}

function shares(backends: { priority: number; weight: number }[], draws: number, canTake: (i: number) => boolean = all) {
  const g = groups(backends);
  const random = seededRandom(42);
  const counts = backends.map(() => 0);
  for (let i = 0; i < draws; i++) {
    const picked = pick(g, canTake, random);
    if (picked !== undefined) counts[picked] = (counts[picked] ?? 0) + 1;
  }
  return counts.map((c) => c / draws);
}

describe("selection", () => {
  it("always picks from the lowest priority group while one of it can take the call", () => {
    const counts = shares(
      [
        { priority: 2, weight: 1 },
        { priority: 1, weight: 1 },
        { priority: 3, weight: 5 },
      ],
      1000,
    );
    expect(counts).toEqual([0, 1, 0]);
  });

  it("moves to the next priority group when the lower group cannot take the call", () => {
    const backends = [
      { priority: 1, weight: 1 },
      { priority: 2, weight: 1 },
      { priority: 3, weight: 1 },
    ];
    expect(shares(backends, 100, (i) => i !== 0)).toEqual([0, 1, 0]);
    expect(shares(backends, 100, (i) => i === 2)).toEqual([0, 0, 1]);
  });

  it("returns undefined when no backend can take the call", () => {
    expect(pickBackend(groups([{ priority: 1, weight: 1 }]), () => false, Math.random)).toBeUndefined();
  });

  it("follows weights within a priority group to within 5% over many seeded draws", () => {
    const counts = shares(
      [
        { priority: 1, weight: 1 },
        { priority: 2, weight: 3 },
        { priority: 2, weight: 1 },
      ],
      100_000,
      (i) => i !== 0,
    );
    expect(counts[1]).toBeGreaterThan(0.75 * 0.95);
    expect(counts[1]).toBeLessThan(0.75 * 1.05);
    expect(counts[2]).toBeGreaterThan(0.25 * 0.95);
    expect(counts[2]).toBeLessThan(0.25 * 1.05);
  });

  it("spreads evenly when priorities and weights are equal", () => {
    const counts = shares(
      [
        { priority: 1, weight: 1 },
        { priority: 1, weight: 1 },
        { priority: 1, weight: 1 },
        { priority: 1, weight: 1 },
      ],
      100_000,
    );
    for (const share of counts) expect(Math.abs(share - 0.25)).toBeLessThan(0.25 * 0.05);
  });

  it("picks the last eligible backend even when random() returns just below 1", () => {
    const g = groups([
      { priority: 1, weight: 1 },
      { priority: 1, weight: 1 },
    ]);
    expect(pick(g, all, () => 0.9999999999999999)).toBe(1);
    expect(pick(g, all, () => 0)).toBe(0);
  });

  it("never picks a backend that cannot take the call, nor one of a higher priority than an eligible one (property)", () => {
    const backend = fc.record({ priority: fc.integer({ min: 0, max: 3 }), weight: fc.integer({ min: 1, max: 10 }) });
    fc.assert(
      fc.property(
        fc.array(backend, { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (backends, eligible, draw) => {
          const canTake = (i: number) => eligible[i] === true;
          const picked = pick(groups(backends), canTake, () => draw);
          const eligiblePriorities = backends.filter((_, i) => canTake(i)).map((b) => b.priority);
          if (eligiblePriorities.length === 0) return picked === undefined;
          return picked !== undefined && canTake(picked) && backends[picked]?.priority === Math.min(...eligiblePriorities);
        },
      ),
    );
  });
});
