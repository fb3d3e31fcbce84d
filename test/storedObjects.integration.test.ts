// Stored objects follow their owner: two real router instances on one Azurite table, three equal
// backends (simulated regions that keep responses, files and batches only where they were made),
// and the official `openai` SDK on both the v1 and the Azure (api-version) paths.

import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { type Harness, until } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("owners");

/** Azure's eventual consistency, on: a response created by a streamed call is not found for this long. */
const consistencyMs = 300;

async function twoInstances(): Promise<[Harness, Harness]> {
  return (await shared.routers([{ consistencyMs }, { consistencyMs }, { consistencyMs }])) as [Harness, Harness];
}

const sims = () => shared.regions.sims.filter((s) => s !== undefined);
const requestsAt = () => sims().map((s) => s.requestCount);
/** Which backend (index) received requests since `before`, and how many in all. */
function delta(before: number[]): { total: number; at: number[] } {
  const now = requestsAt();
  const at = now.map((n, i) => n - (before[i] ?? 0));
  return { total: at.reduce((a, b) => a + b, 0), at };
}
const regionIndex = (backend: string | null): number => Number(backend?.replace("region-", "") ?? "-1");

/** Until A's learned owners are in the table (its writes are batched every 500 ms). */
async function ownersWritten(h: Harness): Promise<void> {
  await until(async () => (await h.status()).sharedState.owners?.pending === 0, 2_500, "owner records written");
}

describe("stored objects follow their owner (two instances on Azurite, three equal backends)", () => {
  it("20 responses made through A are continued, retrieved and deleted through B, each at its owner only", async () => {
    const [a, b] = await twoInstances();
    const made: { id: string; owner: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const { data, response } = await a
        .v1()
        .responses.create({ model: "gpt-4o", input: `turn one of ${i}` })
        .withResponse();
      expect(data.id).toMatch(/^resp_[A-Za-z0-9_-]+$/);
      made.push({ id: data.id, owner: regionIndex(response.headers.get("x-served-by")) });
    }
    // The equal pool spread them: a router that ignored owners would miss about two thirds of follow-ups.
    expect(new Set(made.map((m) => m.owner)).size).toBeGreaterThan(1);
    await ownersWritten(a);

    for (const { id, owner } of made) {
      let before = requestsAt();
      const { data: next, response } = await b
        .v1()
        .responses.create({ model: "gpt-4o", input: "turn two", previous_response_id: id })
        .withResponse();
      expect(regionIndex(response.headers.get("x-served-by"))).toBe(owner);
      expect(next.output_text).toContain("turn 2");
      expect(delta(before)).toEqual({ total: 1, at: [0, 1, 2].map((i) => (i === owner ? 1 : 0)) });

      before = requestsAt();
      const retrieved = await b.v1().responses.retrieve(id);
      expect(retrieved.id).toBe(id);
      const items = await b.v1().responses.inputItems.list(id);
      expect(items.data.length).toBeGreaterThan(0);
      await b.v1().responses.delete(id);
      expect(delta(before)).toEqual({ total: 3, at: [0, 1, 2].map((i) => (i === owner ? 3 : 0)) });
    }
    // Deleted: B still knows the former owner, which answers its own 404 in one attempt.
    let before = requestsAt();
    await expect(b.v1().responses.retrieve(made[0]?.id ?? "")).rejects.toMatchObject({ status: 404 });
    expect(delta(before).total).toBe(1);
    // The shared records are gone: an instance that knows nothing locally asks each backend once.
    await ownersWritten(b);
    const c = await shared.another("instance-c");
    before = requestsAt();
    await expect(c.v1().responses.retrieve(made[1]?.id ?? "")).rejects.toMatchObject({ status: 404 });
    expect(delta(before).total).toBe(3);
  });

  it("a streamed create's id (from response.created) continues through the other instance, on the Azure path too", async () => {
    const [a, b] = await twoInstances();
    const stream = await a.v1().responses.create({ model: "gpt-4o", input: "stream it", stream: true });
    let id: string | undefined;
    let text = "";
    for await (const event of stream) {
      if (event.type === "response.created") id = event.response.id;
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(text).toContain("turn 1");
    if (!id) throw new Error("no response.created event");
    await ownersWritten(a);
    // A streamed create becomes visible at Azure a moment later.
    await new Promise((resolve) => setTimeout(resolve, consistencyMs));
    const before = requestsAt();
    // The Azure path of the Responses API needs 2025-03-01-preview or later, as Azure's does.
    const next = await b
      .client({ apiVersion: "2025-03-01-preview" })
      .responses.create({ model: "gpt-4o", input: "and then?", previous_response_id: id });
    expect(next.output_text).toContain("turn 2");
    expect(delta(before).total).toBe(1);
  });

  it("a background response is polled and resumed with starting_after through the other instance", async () => {
    const [a, b] = await twoInstances();
    const queued = await a.v1().responses.create({ model: "gpt-4o", input: "later", background: true });
    expect(queued.status).toBe("queued");
    await ownersWritten(a);
    const before = requestsAt();
    await until(async () => (await b.v1().responses.retrieve(queued.id)).status === "completed", 5_000, "background response done");
    const resumed = await b.v1().responses.retrieve(queued.id, { stream: true, starting_after: 2 });
    const seen: number[] = [];
    for await (const event of resumed) seen.push(event.sequence_number);
    expect(seen[0]).toBe(3);
    expect(delta(before).at.filter((n) => n > 0)).toHaveLength(1);
  });

  it("a follow-up at once through the other instance, before the owner is shared, still reaches the owner", async () => {
    const [a, b] = await twoInstances();
    const first = await a.v1().responses.create({ model: "gpt-4o", input: "quick" });
    const next = await b.v1().responses.create({ model: "gpt-4o", input: "quicker", previous_response_id: first.id });
    expect(next.output_text).toContain("turn 2");
  });

  it("owner throttled: 429 with the owner's Retry-After, and no other backend is called", async () => {
    const [a, b] = await twoInstances();
    const { data, response } = await a.v1().responses.create({ model: "gpt-4o", input: "hello" }).withResponse();
    const owner = regionIndex(response.headers.get("x-served-by"));
    await ownersWritten(a);
    shared.regions.sims[owner]?.setFault({ kind: "throttle", retryAfterSeconds: 42 });
    const before = requestsAt();
    const follow = await b.post("/openai/v1/responses", { model: "gpt-4o", input: "more", previous_response_id: data.id });
    expect(follow.status).toBe(429);
    expect(Number(follow.headers.get("retry-after"))).toBeGreaterThanOrEqual(41);
    expect(delta(before)).toEqual({ total: 1, at: [0, 1, 2].map((i) => (i === owner ? 1 : 0)) });
    // Tripped now: the next follow-up is answered at once, still without another backend.
    const again = await b.post("/openai/v1/responses", { model: "gpt-4o", input: "more", previous_response_id: data.id });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThanOrEqual(40);
    expect(delta(before).total).toBe(1);
    // Calls that refer to nothing stored still go elsewhere.
    const fresh = await b.v1().responses.create({ model: "gpt-4o", input: "new" }).withResponse();
    expect(regionIndex(fresh.response.headers.get("x-served-by"))).not.toBe(owner);
  });

  it("an id made directly at a backend (owner unknown) is found by asking each candidate once, then remembered", async () => {
    const [, b] = await twoInstances();
    const direct = shared.regions.sims[2];
    if (!direct) throw new Error("no simulator");
    const made = await fetch(`${direct.url}/openai/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "api-key": shared.regions.backendKeys[2] ?? "" },
      body: JSON.stringify({ model: "gpt-4o", input: "made outside the router" }),
    });
    const { id } = (await made.json()) as { id: string };
    let before = requestsAt();
    const next = await b.v1().responses.create({ model: "gpt-4o", input: "found?", previous_response_id: id });
    expect(next.output_text).toContain("turn 2");
    expect(delta(before).at[2]).toBe(1);
    expect(delta(before).total).toBeLessThanOrEqual(3);
    // Not-found answers on the way were no breaker failures.
    expect((await b.status()).backends.every((s) => s.state === "closed")).toBe(true);
    before = requestsAt();
    await b.v1().responses.retrieve(id);
    expect(delta(before)).toEqual({ total: 1, at: [0, 0, 1] });
  });

  it("files uploaded through A are retrieved, read and deleted through B; a batch on that file is made at its owner", async () => {
    const [a, b] = await twoInstances();
    const file = await a.client().files.create({ file: await toFile(Buffer.from('{"custom_id":"1"}\n'), "input.jsonl"), purpose: "batch" });
    expect(file.id).toMatch(/^file-[A-Za-z0-9_-]+$/);
    await ownersWritten(a);
    const before = requestsAt();
    expect((await b.client().files.retrieve(file.id)).filename).toBe("input.jsonl");
    expect(await (await b.v1().files.content(file.id)).text()).toBe('{"custom_id":"1"}\n');
    const batch = await b.client().batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(batch.id).toMatch(/^batch_/);
    await ownersWritten(b);
    expect((await a.client().batches.retrieve(batch.id)).input_file_id).toBe(file.id);
    expect((await b.v1().files.delete(file.id)).deleted).toBe(true);
    expect(delta(before).at.filter((n) => n > 0)).toHaveLength(1);
    expect(delta(before).total).toBe(5);
  });
});

describe("owner routing while Azure is still making a streamed response visible (eventual consistency)", () => {
  const lagging = useSharedTable("lagging");

  it("a follow-up too soon gets Azure's own answer (not found), and once visible goes to the owner alone", async () => {
    const [a, b] = (await lagging.routers([{ consistencyMs }, { consistencyMs }, { consistencyMs }])) as [Harness, Harness];
    const stream = await a.v1().responses.create({ model: "gpt-4o", input: "stream it", stream: true });
    let id: string | undefined;
    for await (const event of stream) if (event.type === "response.created") id = event.response.id;
    if (!id) throw new Error("no response.created event");
    await until(async () => (await a.status()).sharedState.owners?.pending === 0, 2_500, "owner records written");
    const follow = () => b.v1().responses.create({ model: "gpt-4o", input: "and then?", previous_response_id: id }).withResponse();
    // Too soon: Azure itself does not find it yet, and the router says what Azure says.
    await expect(follow()).rejects.toMatchObject({ status: 400, error: { code: "previous_response_not_found" } });
    await new Promise((resolve) => setTimeout(resolve, consistencyMs + 50));
    const lag = lagging.regions.sims.map((s) => s?.requestCount ?? 0);
    const { data, response } = await follow();
    expect(data.output_text).toContain("turn 2");
    const owner = Number(response.headers.get("x-served-by")?.replace("region-", ""));
    const calls = lagging.regions.sims.map((s, i) => (s?.requestCount ?? 0) - (lag[i] ?? 0));
    // Once visible: one call, at the owner — the early "not found" did not lose the owner.
    expect(calls).toEqual([0, 1, 2].map((i) => (i === owner ? 1 : 0)));
  });
});
