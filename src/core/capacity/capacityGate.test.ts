import { describe, expect, it } from "vitest";
import { ProvisionedBucket } from "../../simulator/capacity/provisionedBucket";
import { CapacityGate } from "./capacityGate";

const noJitter = () => 0;

/** A call sent and refused, as the forwarding loop reports it. */
function refuse(gate: CapacityGate, tokens: number, delayMs: number, at: number): void {
  gate.send(tokens, at);
  gate.refused(tokens, delayMs, at);
}

function bootstrapped(gate: CapacityGate): void {
  // Two refusals 200 ms apart, 400 tokens sent and kept between them, 50 ms and 250 ms still to drain:
  // it drained 400 + 50 − 250 = 200 tokens in 200 ms.
  refuse(gate, 100, 50, 1_000);
  gate.send(400, 1_100);
  refuse(gate, 100, 250, 1_200);
}

describe("CapacityGate", () => {
  it("starts a configured rate as this instance's share of the deployment's, until a refusal teaches its own", () => {
    let present = 3;
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, instances: () => present });
    gate.take(1, 0);
    expect(gate.view(0).tokensPerMinute).toBe(20_000);
    present = 2;
    gate.take(1, 1);
    expect(gate.view(1).tokensPerMinute).toBe(30_000);
    gate.refused(1, 5, 2);
    present = 4;
    gate.take(1, 3);
    // From the first refusal on, the pace is the gate's own (cut once for the congestion), not the share.
    expect(gate.view(3).tokensPerMinute).toBeLessThan(30_000);
    expect(gate.view(3).tokensPerMinute).toBeGreaterThan(15_000);
  });

  it("with a configured rate holds nothing back until the deployment first refuses, which measures what its bucket holds", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000 }); // 1 token a ms
    // Five calls at once: the rate says how fast the bucket drains, not how much it holds.
    for (let i = 0; i < 5; i++) expect(gate.take(1_000, 0)).toBe(true);
    // Refused a second later, 100 ms over: the mirror, there from the first call, held 4,000 then.
    refuse(gate, 1_000, 100, 1_000);
    expect(gate.view(1_000).burstTokens).toBe(3_900);
    expect(gate.take(1_000, 1_000)).toBe(false);
    // Over by 100 ms of draining (at the pace cut once for the congestion), then room again.
    expect(gate.take(1_000, 1_099)).toBe(false);
    expect(gate.take(1_000, 1_101)).toBe(true);
  });

  it("with a configured rate, a pace cut below this instance's share returns to it once no refusal came for half a second", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 120_000, instances: () => 2 }); // a share of 1 token a ms
    gate.take(1_000, 0);
    refuse(gate, 1_000, 100, 0); // cut once, by 2% for each of the two instances
    const cut = gate.view(0).tokensPerMinute ?? 0;
    expect(cut).toBeLessThan(60_000);
    // Calls wait on it (each is passed over), at first at the slow growth, then at 2% a second.
    gate.take(1_000, 400);
    expect(gate.view(400).tokensPerMinute).toBeLessThan(cut * 1.001);
    for (let at = 500; at <= 1_500; at += 100) gate.take(1_000_000, at);
    const back = gate.view(1_500).tokensPerMinute ?? 0;
    expect(back).toBeGreaterThan(cut * 1.015);
    // ...up to the share and not past it at that speed: above it the pace grows as any does (slowly).
    for (let at = 1_600; at <= 4_000; at += 100) gate.take(1_000_000, at);
    expect(gate.view(4_000).tokensPerMinute).toBeGreaterThanOrEqual(60_000);
    expect(gate.view(4_000).tokensPerMinute).toBeLessThan(60_000 * 1.01);
  });

  it("a pace from other instances holds at least half a call, as a learned one does", () => {
    const gate = new CapacityGate({ random: noJitter });
    refuse(gate, 1_000, 30, 0); // made at its first refusal, no pace of its own yet
    expect(gate.seed(60_000)).toBe(true);
    expect(gate.take(1_000, 100)).toBe(true);
    // 400 tokens still to drain: less than half a call, so the next is sent; then the mirror is over.
    expect(gate.take(1_000, 700)).toBe(true);
    expect(gate.take(1_000, 700)).toBe(false);
    // A call that may wait waits for that much room too, not for an empty mirror.
    const waiting = new CapacityGate({ random: noJitter, waitUpToMs: 1_000 });
    refuse(waiting, 1_000, 30, 0);
    waiting.seed(60_000);
    waiting.take(1_000, 100);
    expect(waiting.waitMs(1_000, 100)).toBe(500);
  });

  it("holds nothing back until it has learned (or been given) a pace", () => {
    const gate = new CapacityGate({ random: noJitter });
    for (let at = 0; at < 100; at++) expect(gate.take(1_000, at)).toBe(true);
    expect(gate.view(100).tokensPerMinute).toBeNull();
    refuse(gate, 1_000, 30, 100);
    // One refusal says when, not how fast: still nothing held back (the breaker's short trip holds it).
    expect(gate.take(1_000, 101)).toBe(true);
  });

  it("before it has a pace, backs off refusals in a row, doubling up to a second, until a call is kept", () => {
    const gate = new CapacityGate({ random: noJitter });
    // Others keep the deployment full: every call this instance sends is refused, 5 ms to wait each time.
    const heldFor = (at: number) => {
      let until = at;
      while (!gate.take(100, until)) until++;
      gate.refused(100, 5, until);
      return until;
    };
    let at = heldFor(0);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = heldFor(at);
      waits.push(next - at);
      at = next;
    }
    // The first and second refusals hold nothing back (the breaker holds for the delay); then 25, 50, … ms.
    expect(waits).toEqual([0, 25, 50, 100, 200, 400, 800, 1_000]);
    expect(gate.view(at).tokensPerMinute).toBeNull();
    // A call kept (sent, not refused) ends the row: the next refusal holds nothing back again.
    gate.send(100, at + 10);
    refuse(gate, 100, 5, at + 20);
    expect(gate.view(at + 20).tokensPerMinute).toBeNull();
    expect(gate.take(100, at + 21)).toBe(true);
  });

  it("learns the pace from two refusals: the tokens sent between them over the time it took to drain them", () => {
    const gate = new CapacityGate({ random: noJitter });
    bootstrapped(gate);
    expect(gate.view(1_200).tokensPerMinute).toBe(60_000); // 1 token per ms
  });

  it("takes the bucket to hold at least half a call from the start, so it need not run dry before each call", () => {
    // Nothing this instance sent before its first refusal was kept (others filled the bucket): the
    // measurement says it holds nothing, and a gate holding nothing would wait for an empty mirror.
    const gate = new CapacityGate({ random: noJitter });
    bootstrapped(gate);
    expect(gate.view(1_200).burstTokens).toBe(50);
    // Over by 250 ms of draining at 1 token per ms; once 200 of them have drained, a call goes.
    expect(gate.take(100, 1_440)).toBe(false);
    expect(gate.take(100, 1_450)).toBe(true);
  });

  it("then sends what the deployment is expected to admit: at once when told, at the pace after", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, cut: 0 });
    // Told it is over by 100 ms of draining: nothing before, one call at that moment.
    refuse(gate, 200, 100, 0);
    expect(gate.take(200, 99)).toBe(false);
    expect(gate.take(200, 100)).toBe(true);
    // That call fills it again for its cost at the pace: 200 tokens at 1 per ms.
    expect(gate.take(200, 250)).toBe(false);
    expect(gate.take(200, 300)).toBe(true);
    expect(gate.view(300)).toMatchObject({ sent: 3, skipped: 2, refused: 1 });
  });

  it("lets a call that wrote less than it reserved bring the next one forward", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, cut: 0 });
    refuse(gate, 200, 100, 0);
    gate.take(500, 100);
    expect(gate.take(200, 400)).toBe(false);
    // It reserved 500 and wrote 300 less: the deployment got those back when it ended.
    gate.settled(-300, 150);
    expect(gate.take(200, 400)).toBe(true);
  });

  it("a call the deployment did not take for another reason gives its charge back", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, cut: 0 });
    refuse(gate, 200, 10, 0);
    gate.take(500, 10);
    gate.release(500);
    expect(gate.take(200, 11)).toBe(true);
  });

  it("cuts the pace once per congestion, and grows it while calls wait on it", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, cut: 0.1, growthPerSecond: 0.01 });
    refuse(gate, 100, 10, 0);
    expect(gate.view(0).tokensPerMinute).toBe(54_000);
    gate.send(100, 500); // kept: the next refusal is not one in a row
    refuse(gate, 100, 10, 1_000);
    expect(gate.view(1_000).tokensPerMinute).toBe(48_600);
    // A second refusal from the same moment is the same congestion: no second cut.
    refuse(gate, 100, 10, 1_005);
    expect(gate.view(1_005).tokensPerMinute).toBe(48_600);
    // Held back for a second: a little faster.
    for (let at = 1_006; at <= 1_010; at++) gate.take(100_000, at);
    for (let at = 2_000; at <= 2_010; at += 5) gate.take(100_000, at);
    expect(gate.view(2_010).tokensPerMinute ?? 0).toBeGreaterThan(48_600);
  });

  it("cuts twice as hard for refusals in a row: nothing it sent was kept between them", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, cut: 0.1 });
    refuse(gate, 100, 10, 0);
    expect(gate.view(0).tokensPerMinute).toBe(54_000);
    refuse(gate, 100, 10, 1_000);
    expect(gate.view(1_000).tokensPerMinute).toBe(43_200);
    // Still once per congestion: the same moment's second refusal cuts nothing more.
    refuse(gate, 100, 10, 1_005);
    expect(gate.view(1_005).tokensPerMinute).toBe(43_200);
  });

  it("spreads instances told the same moment (jitter within 10 ms), never before the moment", () => {
    const comeBack = (random: () => number) => {
      const gate = new CapacityGate({ random, tokensPerMinute: 60_000 });
      refuse(gate, 100, 50, 0);
      for (let at = 0; at < 100; at++) if (gate.take(1, at)) return at;
      return -1;
    };
    const times = [0, 0.3, 0.6, 0.99].map((r) => comeBack(() => r));
    expect(new Set(times).size).toBeGreaterThan(2);
    for (const t of times) expect(t >= 50 && t <= 60).toBe(true);
  });

  it("waits for room within waitUpTo, and not for longer", () => {
    const gate = new CapacityGate({ random: noJitter, tokensPerMinute: 60_000, waitUpToMs: 50 });
    refuse(gate, 100, 30, 0);
    expect(gate.waitMs(100, 0)).toBe(30);
    refuse(gate, 100, 80, 100);
    expect(gate.waitMs(100, 100)).toBeUndefined();
    expect(new CapacityGate({ random: noJitter, tokensPerMinute: 60_000 }).waitMs(100, 0)).toBeUndefined();
  });

  it("follows a deployment that comes back larger or smaller", () => {
    // One sender at twice the deployment's rate for 60 s, then the deployment changes size.
    const run = (before: number, after: number) => {
      const gate = new CapacityGate({ random: noJitter });
      let bucket = new ProvisionedBucket({ tokensPerMinute: before, burstSeconds: 1 });
      let refusedUntil = 0;
      for (let at = 0; at < 240_000; at += 10) {
        if (at === 120_000) bucket = new ProvisionedBucket({ tokensPerMinute: after, burstSeconds: 1 });
        const rate = (at < 120_000 ? before : after) / 60_000;
        // Calls of 100 tokens at twice the rate.
        if ((at / 10) % Math.max(1, Math.round(100 / (2 * rate * 10))) !== 0) continue;
        if (at < refusedUntil || !gate.take(100, at)) continue;
        const answer = bucket.admit(100, at);
        if (!answer.admitted) {
          gate.refused(100, answer.retryAfterMs, at);
          // (take() charged it; refused() takes the charge back)
          refusedUntil = at + answer.retryAfterMs;
        }
      }
      return gate.view(240_000).tokensPerMinute ?? 0;
    };
    expect(run(60_000, 120_000)).toBeGreaterThan(100_000);
    expect(run(120_000, 60_000)).toBeLessThan(66_000);
  });
});

describe("CapacityGate's charge", () => {
  it("is the call's prompt scaled to the deployment's own count, plus its maximum output", () => {
    const gate = new CapacityGate({ random: noJitter });
    expect(gate.tokensFor({ prompt: 400, maxOutput: 100 })).toBe(500);
    // The deployment counts 300 where the router estimated 400 (bytes / 4): later charges follow.
    for (let i = 0; i < 30; i++) gate.learnPrompt(400, 300);
    expect(gate.tokensFor({ prompt: 400, maxOutput: 100 })).toBeCloseTo(400, 0);
    // Garbage counts are bounded: a scale never beyond 4× either way.
    for (let i = 0; i < 60; i++) gate.learnPrompt(1, 1_000_000);
    expect(gate.tokensFor({ prompt: 100, maxOutput: 0 })).toBeLessThanOrEqual(400);
  });
});
