// Stored objects belong to the client that made them: Alice and Bob call two router instances on one
// Azurite table with the official SDK. Every way Bob can reach Alice's response, conversation, file
// or batch is answered as for an object that does not exist, with no backend call; Alice reaches hers
// through either instance at once (no window after creation); lists hold only the caller's own
// objects and page through all of them; a batch's output file is its creator's; the operators reach
// everything.

import OpenAI, { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { clientKey, type Harness } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("creators");
const aliceKey = "alice-key";
const bobKey = "bob-key";

async function twoInstances(): Promise<[Harness, Harness]> {
  return (await shared.routers(
    [
      { priority: 1, backgroundMs: 50 },
      { priority: 1, backgroundMs: 50 },
    ],
    () => ({
      config: {
        clients: [
          { name: "alice", keySetting: "ALICE_KEYS" },
          { name: "bob", keySetting: "BOB_KEYS" },
        ],
      },
      env: { ALICE_KEYS: aliceKey, BOB_KEYS: bobKey },
    }),
  )) as [Harness, Harness];
}

const v1 = (h: Harness, apiKey: string) => new OpenAI({ baseURL: `${h.url}/openai/v1/`, apiKey, maxRetries: 0 });
const backendCalls = () => shared.regions.sims.reduce((n, s) => n + (s?.requestCount ?? 0), 0);

async function expectMissing(call: () => Promise<unknown>, status: number, code: string): Promise<void> {
  const before = backendCalls();
  await expect(call()).rejects.toMatchObject({ status, code });
  expect(backendCalls()).toBe(before);
}

describe("stored objects belong to their client (two instances on Azurite)", () => {
  it("answers every cross-client access as missing with no backend call, while the creator and the operators reach it", async () => {
    const [a, b] = await twoInstances();
    const alice = v1(a, aliceKey);
    const response = await alice.responses.create({ model: "gpt-4o", input: "secret plans" });
    const conversation = await alice.conversations.create({});
    const file = await alice.files.create({ file: await toFile(Buffer.from("alice's notes"), "notes.txt"), purpose: "assistants" });

    // Alice, through the other instance at once: her objects are hers there too, with no wait.
    const aliceAtB = v1(b, aliceKey);
    expect((await aliceAtB.responses.retrieve(response.id)).id).toBe(response.id);
    expect(await (await aliceAtB.files.content(file.id)).text()).toBe("alice's notes");

    for (const h of [a, b]) {
      const bob = v1(h, bobKey);
      await expectMissing(() => bob.files.content(file.id), 404, "not_found");
      await expectMissing(() => bob.files.retrieve(file.id), 404, "not_found");
      await expectMissing(() => bob.responses.retrieve(response.id), 404, "not_found");
      await expectMissing(() => bob.responses.delete(response.id), 404, "not_found");
      await expectMissing(() => bob.responses.inputItems.list(response.id), 404, "not_found");
      await expectMissing(
        () => bob.responses.create({ model: "gpt-4o", input: "and?", previous_response_id: response.id }),
        400,
        "previous_response_not_found",
      );
      await expectMissing(() => bob.conversations.items.list(conversation.id), 404, "not_found");
      await expectMissing(() => bob.responses.create({ model: "gpt-4o", input: "x", conversation: conversation.id }), 404, "not_found");
      // An id that exists nowhere gets the very same answer.
      await expectMissing(() => bob.responses.retrieve("resp_doesnotexist"), 404, "not_found");
    }
    // Bob's delete reached nothing: Alice still has her response; the operators reach all of it.
    expect((await alice.responses.retrieve(response.id)).id).toBe(response.id);
    const operators = v1(b, clientKey);
    expect((await operators.responses.retrieve(response.id)).id).toBe(response.id);
    expect(await (await operators.files.content(file.id)).text()).toBe("alice's notes");
    const follow = await alice.responses.create({ model: "gpt-4o", input: "and then?", previous_response_id: response.id });
    expect(follow.id).toMatch(/^resp_/);
  });

  it("lists only the caller's own files, paging through all of them although the backend's pages are mostly someone else's", async () => {
    const [a, b] = await twoInstances();
    // Only the first region, so every file is in one resource's list.
    shared.regions.sims[1]?.setFault({ kind: "error", status: 500 });
    const alice = v1(a, aliceKey);
    const bob = v1(b, bobKey);
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++)
        await alice.files.create({ file: await toFile(Buffer.from(`a${i}${j}`), "a.txt"), purpose: "assistants" });
      mine.push((await bob.files.create({ file: await toFile(Buffer.from(`b${i}`), "b.txt"), purpose: "assistants" })).id);
    }
    const seen: string[] = [];
    const readsBefore = b.app.owners.status().reads;
    let page = await bob.files.list({ limit: 2 });
    let pages = 1;
    for (const f of page.data) seen.push(f.id);
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      pages++;
      for (const f of page.data) seen.push(f.id);
    }
    expect(seen.sort()).toEqual([...mine].sort());
    // At most one storage read per page (the client's index, read once for a page and its refills).
    expect(b.app.owners.status().reads - readsBefore).toBeLessThanOrEqual(pages);
    const aliceSees: string[] = [];
    for await (const f of v1(b, aliceKey).files.list({ limit: 5 })) aliceSees.push(f.id);
    expect(aliceSees).toHaveLength(12);
    expect(aliceSees.some((id) => mine.includes(id))).toBe(false);
    // The operators' list is the backend's own.
    const all: string[] = [];
    for await (const f of v1(a, clientKey).files.list({ limit: 100 })) all.push(f.id);
    expect(all).toHaveLength(15);
  });

  it("gives a batch's output file to the batch's creator, at either instance, and to nobody else", async () => {
    const [a, b] = await twoInstances();
    const alice = v1(a, aliceKey);
    const input = await alice.files.create({
      file: await toFile(
        Buffer.from(`${JSON.stringify({ custom_id: "1", method: "POST", url: "/chat/completions", body: { model: "gpt-4o" } })}\n`),
        "in.jsonl",
      ),
      purpose: "batch",
    });
    const batch = await alice.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await expectMissing(() => v1(b, bobKey).batches.retrieve(batch.id), 404, "not_found");
    await expectMissing(
      () => v1(b, bobKey).batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" }),
      404,
      "not_found",
    );
    await new Promise((r) => setTimeout(r, 80));
    const done = await v1(b, aliceKey).batches.retrieve(batch.id);
    expect(done.status).toBe("completed");
    const output = done.output_file_id as string;
    expect(await (await v1(a, aliceKey).files.content(output)).text()).toContain("custom_id");
    await expectMissing(() => v1(a, bobKey).files.content(output), 404, "not_found");
    const bobBatches: string[] = [];
    for await (const x of v1(a, bobKey).batches.list()) bobBatches.push(x.id);
    expect(bobBatches).toEqual([]);
  });
});
