// Capacity admission in the failover loop (core router over a fake upstream, fake clock): a
// deployment not expected to admit a call is passed over without a try, a skip is no attempt, and
// the last candidate and owner-bound calls are always sent.

import { describe, expect, it } from "vitest";
import { answer, coreRouter, fakeUpstream, jsonCall } from "../../../test/helpers/coreRouter";

const chat = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
const body = JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 100 });
const ptu = {
  name: "ptu",
  url: "https://ptu.example",
  priority: 1,
  auth: { type: "none" },
  deployments: { "gpt-4o": { name: "gpt-4o-ptu", capacity: { tokensPerMinute: 60_000 } } },
};
const paygo = { name: "paygo", url: "https://paygo.example", priority: 2, auth: { type: "none" } };

const call = (url = chat, text = body) => jsonCall(url, text);

/** The PTU refuses while `ptuFull`, with a delay to the millisecond; pay-as-you-go takes everything. */
function setup(config: Record<string, unknown>) {
  const state = { ptuFull: true, delayMs: "50", spilled: false };
  const upstream = fakeUpstream((origin) => {
    if (origin.includes("ptu") && state.ptuFull) return answer(429, { "retry-after-ms": state.delayMs });
    // Azure's own spillover: the PTU's resource served the call from its spillover deployment.
    const spill: Record<string, string> = origin.includes("ptu") && state.spilled ? { "x-ms-spillover-from-gpt-4o-ptu": "true" } : {};
    return answer(200, { "content-type": "application/json", ...spill }, "{}");
  });
  return { state, upstream, ...coreRouter(config, upstream) };
}

describe("capacity admission in the failover loop", () => {
  it("passes over a deployment not expected to admit the call: no try, no attempt used", async () => {
    const { upstream, clock, state, router } = setup({ backends: [ptu, paygo], retry: { count: 1 } });
    const first = await router.handle(call());
    expect(first.response.headers["x-served-by"]).toBe("paygo");
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://ptu.example", "https://paygo.example"]);
    // The PTU said 50 ms; its short trip is over at once after, but its mirror is full for the
    // call it then takes (its cost at its pace): the next call goes straight on.
    state.ptuFull = false;
    clock.advance(60);
    const second = await router.handle(call());
    expect(second.response.headers["x-served-by"]).toBe("ptu");
    clock.advance(1);
    const third = await router.handle(call());
    expect(third.response.headers).toMatchObject({ "x-served-by": "paygo", "x-router-attempts": "1" });
    expect(third.summary).toMatchObject({ capacitySkips: 1, attempts: 1 });
    expect(upstream.sent).toHaveLength(4);
  });

  it("a skip does not use up retry.count: with no retries a skipped PTU still leaves the call its one attempt", async () => {
    const { clock, state, router, upstream } = setup({ backends: [ptu, paygo], retry: { count: 0 } });
    await router.handle(call());
    state.ptuFull = false;
    clock.advance(60);
    await router.handle(call());
    clock.advance(1);
    const skipped = await router.handle(call());
    expect(skipped.response.status).toBe(200);
    expect(skipped.response.headers["x-served-by"]).toBe("paygo");
    expect(upstream.sent.at(-1)?.origin).toBe("https://paygo.example");
  });

  it("never skips the last candidate: a deployment alone is sent the call, and its own answer stands", async () => {
    const { clock, state, router, upstream } = setup({ backends: [ptu] });
    await router.handle(call());
    state.ptuFull = false;
    clock.advance(60);
    await router.handle(call());
    clock.advance(1);
    const alone = await router.handle(call());
    expect(alone.response.headers["x-served-by"]).toBe("ptu");
    expect(alone.summary?.capacitySkips).toBeUndefined();
    expect(upstream.sent).toHaveLength(3);
  });

  it("never skips an owner-bound call: a follow-up on the PTU's stored response goes to the PTU", async () => {
    const { clock, state, router, upstream, owners } = setup({ backends: [ptu, paygo] });
    await router.handle(call());
    state.ptuFull = false;
    clock.advance(60);
    await router.handle(call());
    clock.advance(1);
    const id = "resp_68a1b2c3d4e5f60718293a4b5c6d7e8f";
    owners.learn(id, "ptu", "default");
    const followUp = await router.handle(
      call("/openai/v1/responses", JSON.stringify({ model: "gpt-4o", input: "and?", previous_response_id: id })),
    );
    expect(followUp.response.headers["x-served-by"]).toBe("ptu");
    expect(upstream.sent.at(-1)?.origin).toBe("https://ptu.example");
  });

  it("with waitUpTo, waits for the PTU's room rather than sending the call on", async () => {
    const waiting = { ...ptu, deployments: { "gpt-4o": { name: "gpt-4o-ptu", capacity: { tokensPerMinute: 60_000, waitUpTo: "PT1S" } } } };
    const { clock, state, router, upstream } = setup({ backends: [waiting, paygo] });
    await router.handle(call());
    state.ptuFull = false;
    clock.advance(60);
    await router.handle(call());
    const before = clock.now();
    const waited = await router.handle(call());
    expect(waited.response.headers["x-served-by"]).toBe("ptu");
    expect(clock.now()).toBeGreaterThan(before);
    expect(upstream.sent.filter((s) => s.origin.includes("paygo"))).toHaveLength(1);
  });

  it("an answer Azure's own spillover served is not the PTU's work: its charge comes back, the next call may go to the PTU", async () => {
    const { clock, state, router, upstream } = setup({ backends: [ptu, paygo] });
    await router.handle(call());
    state.ptuFull = false;
    state.spilled = true;
    clock.advance(60);
    const spilled = await router.handle(call());
    expect(spilled.summary).toMatchObject({ backend: "ptu", spilledFrom: "gpt-4o-ptu" });
    clock.advance(1);
    // Without the charge taken back, the mirror would still be full for this call's cost.
    const next = await router.handle(call());
    expect(next.response.headers["x-served-by"]).toBe("ptu");
    expect(upstream.sent.at(-1)?.origin).toBe("https://ptu.example");
  });

  it("grows no more than 64 gates per backend from names callers send (a backend that serves every name)", async () => {
    const open = { name: "any", url: "https://any.example", auth: { type: "none" }, capacity: { tokensPerMinute: 60_000 } };
    const { router, capacity } = setup({ backends: [open] });
    for (let i = 0; i < 200; i++) {
      await router.handle(call(`/openai/deployments/name-${i}/chat/completions?api-version=2024-10-21`));
    }
    expect(capacity.view().length).toBe(64);
  });
});
