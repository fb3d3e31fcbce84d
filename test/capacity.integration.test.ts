// Capacity-aware routing over real sockets: a PTU simulated as Azure's bucket overflows to two
// pay-as-you-go regions through two router instances on one Azurite table. Asserted loosely here
// (the capacity grid and the benchmark hold the exact figures): the PTU does most of what it can,
// few calls pay a 429 round trip, none fails, and each instance shows what it learned.

import { describe, expect, it } from "vitest";
import type { CallSummary } from "../src/core/events";
import { chatPath, type Harness, sleep } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("capacity");
// 60,000 tokens a minute: one token a millisecond; half a second of burst.
const ptuRate = 60_000;
const body = JSON.stringify({ messages: [{ role: "user", content: "Say hello." }], max_tokens: 40 });

interface CapacityRow {
  backend: string;
  deployment: string | null;
  tokensPerMinute: number | null;
  utilization: number;
  spillShare: number;
  sent: number;
  skipped: number;
  refused: number;
}

async function capacityOf(h: Harness): Promise<CapacityRow[]> {
  return ((await await h.status()) as unknown as { capacity: CapacityRow[] }).capacity;
}

describe("capacity-aware routing (two instances on Azurite, the simulator's PTU)", () => {
  it("spends the PTU and sends the overflow straight on: few 429 round trips, no client error", async () => {
    const calls: CallSummary[] = [];
    const routers = await shared.routers(
      [
        { priority: 1, provisioned: { "gpt-4o": { tokensPerMinute: ptuRate, burstSeconds: 0.5 } }, completionTokens: 20 },
        { priority: 2 },
        { priority: 2 },
      ],
      () => ({ onCall: (summary) => calls.push({ ...summary }) }),
    );
    const [a, b] = routers as [Harness, Harness];
    const ptu = shared.regions.sims[0];
    if (!ptu) throw new Error("no PTU");
    // About three times what the PTU admits (its calls cost ~47 tokens in the end), for 4 s.
    const seconds = 4;
    const perSecond = 60;
    const sent: Promise<Response>[] = [];
    for (let i = 0; i < seconds * perSecond; i++) {
      const h = i % 2 === 0 ? a : b;
      sent.push(
        fetch(`${h.url}${chatPath}`, {
          method: "POST",
          headers: { "api-key": "client-key-for-tests", "content-type": "application/json" },
          body,
        }),
      );
      await sleep(1000 / perSecond);
    }
    const answers = await Promise.all(sent);
    for (const answer of answers) await answer.arrayBuffer();
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const work = ptu.capacities.work("gpt-4o");
    // The PTU drained 1 token per ms for ~4 s (plus its half-second burst): most of that was done.
    expect(work).toBeGreaterThan(0.6 * seconds * (ptuRate / 60));
    const refusedByPtu = ptu.requestCount - ptu.servedCount;
    expect(refusedByPtu / answers.length).toBeLessThan(0.15);
    // Each instance learned a pace for the PTU's deployment and passed calls over without a try.
    for (const h of [a, b]) {
      const row = (await capacityOf(h)).find((r) => r.backend === "region-0");
      expect(row?.tokensPerMinute).toBeGreaterThan(0);
      expect(row?.skipped).toBeGreaterThan(0);
      // What it believes the deployment admits, and how much of it is used (the contract's /status row).
      expect(row?.utilization).toBeGreaterThanOrEqual(0);
      expect(row?.spillShare).toBeGreaterThan(0);
    }
    expect(calls.some((c) => (c.capacitySkips ?? 0) > 0 && c.attempts === 1 && c.backend !== "region-0")).toBe(true);
  });
});
