import { describe, expect, it } from "vitest";
import { attemptPlan, countCandidates } from "./attemptPlan";
import type { PriorityGroups } from "./selection";

const groups: PriorityGroups = [
  [
    { index: 0, weight: 1, deployment: "gpt-4o-ptu" },
    { index: 1, weight: 2, deployment: undefined },
  ],
  [{ index: 2, weight: 1, deployment: undefined }],
];

describe("attemptPlan", () => {
  it("fails over across the candidates, retry.count + 1 attempts, for a call on no stored object", () => {
    expect(attemptPlan(groups, undefined, 2)).toEqual({
      kind: "failover",
      candidates: groups,
      maxAttempts: 3,
      notFoundMovesOn: false,
      thenProbe: false,
    });
  });

  it("tries the owner alone, once, with its own name for the deployment", () => {
    expect(attemptPlan(groups, { index: 0 }, 2)).toEqual({
      kind: "ownerOnly",
      candidates: [[{ index: 0, weight: 1, deployment: "gpt-4o-ptu" }]],
      maxAttempts: 1,
      notFoundMovesOn: false,
      thenProbe: false,
    });
    // A record that may be wrong: the owner first, then (on its "not found") the others.
    expect(attemptPlan(groups, { index: 0, thenProbe: true }, 2)).toMatchObject({ kind: "ownerOnly", maxAttempts: 1, thenProbe: true });
    // An owner that does not serve the call's deployment is still the only one asked.
    expect(attemptPlan(groups, { index: 5 }, 2).candidates).toEqual([[{ index: 5, weight: 1, deployment: undefined }]]);
  });

  it("probes each candidate once, whatever retry.count says, when the owner is unknown", () => {
    expect(attemptPlan(groups, { index: undefined }, 0)).toEqual({
      kind: "probe",
      candidates: groups,
      maxAttempts: 3,
      notFoundMovesOn: true,
      thenProbe: false,
    });
    expect(countCandidates(groups)).toBe(3);
  });
});
