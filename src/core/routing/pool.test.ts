import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../test/helpers/random";
import { parseRouterConfig } from "../config/config";
import { Pool } from "./pool";
import { pickBackend } from "./selection";

const url = "https://aoai.example";

describe("Pool", () => {
  const config = parseRouterConfig({
    backends: [
      { name: "eastus-ptu", url, priority: 1, deployments: { "gpt-4o": "gpt-4o-ptu" } },
      { name: "westus", url, priority: 2, deployments: { "gpt-4o": "gpt-4o", embeddings: { name: "te3", priority: 1, weight: 2 } } },
      { name: "sweden", url, priority: 2 },
    ],
  });
  const pool = new Pool(config.backends);

  it("lists, per caller's name, the backends that serve it with their name, priority and weight", () => {
    expect(pool.candidates("gpt-4o")).toEqual([
      [{ index: 0, weight: 1, deployment: "gpt-4o-ptu" }],
      [
        { index: 1, weight: 1, deployment: "gpt-4o" },
        { index: 2, weight: 1, deployment: "gpt-4o" },
      ],
    ]);
    expect(pool.candidates("embeddings")).toEqual([
      [{ index: 1, weight: 2, deployment: "te3" }],
      [{ index: 2, weight: 1, deployment: "embeddings" }],
    ]);
  });

  it("sends names no backend lists to the backends without a list, unchanged", () => {
    expect(pool.candidates("o3")).toEqual([[{ index: 2, weight: 1, deployment: undefined }]]);
    // A name that exists only at a backend is not a caller's name.
    expect(pool.candidates("gpt-4o-ptu")).toEqual([[{ index: 2, weight: 1, deployment: undefined }]]);
  });

  it("has no candidates for a name when every backend has a list without it", () => {
    const closed = new Pool(parseRouterConfig({ backends: [{ name: "a", url, deployments: { "gpt-4o": "x" } }] }).backends);
    expect(closed.candidates("o3")).toBeUndefined();
    expect(closed.candidates("x")).toBeUndefined();
    expect(closed.anyBackend).toEqual([[{ index: 0, weight: 1, deployment: undefined }]]);
  });

  it("never picks, for a deployment, a backend that does not serve it, and always a lowest-priority candidate (property)", () => {
    const names = ["gpt-4o", "embeddings", "o3"];
    const backendArb = fc.record({
      priority: fc.integer({ min: 0, max: 3 }),
      weight: fc.integer({ min: 1, max: 5 }),
      deployments: fc.option(
        fc.dictionary(
          fc.constantFrom(...names),
          fc.record({ priority: fc.integer({ min: 0, max: 3 }), weight: fc.integer({ min: 1, max: 5 }) }),
          {
            minKeys: 1,
          },
        ),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(fc.array(backendArb, { minLength: 1, maxLength: 6 }), fc.constantFrom(...names), fc.integer(), (raw, name, seed) => {
        const config = parseRouterConfig({ backends: raw.map((b, i) => ({ name: `b${i}`, url, ...b })) });
        const candidates = new Pool(config.backends).candidates(name);
        const serves = (i: number) => {
          const d = raw[i]?.deployments;
          return d === undefined || d[name] !== undefined;
        };
        const servers = raw.map((_, i) => i).filter(serves);
        if (servers.length === 0) return candidates === undefined;
        if (!candidates) return false;
        const priorityAt = (i: number) => raw[i]?.deployments?.[name]?.priority ?? raw[i]?.priority ?? 1;
        const lowest = Math.min(...servers.map(priorityAt));
        const random = seededRandom(seed);
        for (let draw = 0; draw < 20; draw++) {
          const picked = pickBackend(candidates, () => true, random);
          if (!picked || !serves(picked.index) || priorityAt(picked.index) !== lowest) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
