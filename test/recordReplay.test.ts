// Record and replay: the recording proxy in front of a resource (here the simulator, as no Azure
// account is at hand) keeps what it answered without secrets; a simulator replays a fixture with its
// statuses, headers, bodies and stream chunks; and the router in front of replayed Azure answers
// behaves as it must (a PTU's 429 with retry-after-ms fails over; a stream in Azure's framing passes
// through and ends clean; usage is read from a recorded answer; a 429 with no delay header benches
// for tripDuration; a Responses follow-up during Azure's consistency delay gets Azure's answer).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CallSummary } from "../src/core/events";
import { startRecorder } from "../src/simulator/recorder";
import { type RecordedExchange, readFixture } from "../src/simulator/replay";
import { AzureOpenAISimulator } from "../src/simulator/simulator";
import { chatPath, type Harness, startHarness, until } from "./helpers/harness";

const fixture = (name: string) => readFixture(readFileSync(join(__dirname, "fixtures", "recorded", `${name}.json`), "utf8")).exchanges;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("record and replay", () => {
  it("records exchanges through the proxy without secrets, and a simulator replays them as they were", async () => {
    const resource = await AzureOpenAISimulator.start({ region: "recorded", apiKey: "the-resource-key" });
    closers.push(() => resource.close());
    const recorder = await startRecorder({ target: resource.url });
    closers.push(() => recorder.close());
    const key = { "api-key": "the-resource-key", "content-type": "application/json" };
    const calls = [
      { path: `${chatPath}&api-key=leaked`, body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }) },
      { path: chatPath, body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }) },
      { path: "/openai/deployments/text-embedding-3-large/embeddings?api-version=2024-10-21", body: JSON.stringify({ input: "a" }) },
    ];
    const originals: string[] = [];
    for (const c of calls)
      originals.push(await (await fetch(`${recorder.url}${c.path}`, { method: "POST", headers: key, body: c.body })).text());
    const written = JSON.stringify({ recordedFrom: "127.0.0.1", recordedAt: new Date().toISOString(), exchanges: recorder.exchanges });
    expect(written).not.toContain("the-resource-key");
    expect(written).not.toContain("leaked");
    const exchanges = readFixture(written).exchanges;
    expect(exchanges.map((e) => e.response.status)).toEqual([200, 200, 200]);
    expect(exchanges[1]?.response.chunks.length).toBeGreaterThan(3);

    const replaying = await AzureOpenAISimulator.start({ region: "replay", replay: exchanges, replaySpeed: 0 });
    closers.push(() => replaying.close());
    for (const [i, c] of calls.entries()) {
      const again = await fetch(`${replaying.url}${c.path.replace("&api-key=leaked", "")}`, { method: "POST", headers: key, body: c.body });
      expect(again.headers.get("x-ms-region")).toBe("recorded");
      expect(await again.text()).toBe(originals[i]);
    }
  });

  it("refuses a file that is not a fixture", () => {
    expect(() => readFixture(JSON.stringify({ exchanges: [{ request: {} }] }))).toThrow(/not a recorded fixture/);
  });

  describe("the router in front of replayed Azure answers", () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    const ptuThenPaygo = async (ptu: readonly RecordedExchange[], paygo: readonly RecordedExchange[], calls: CallSummary[]) =>
      startHarness({
        regions: [
          { priority: 1, replay: ptu, replaySpeed: 0, routerDeployments: { "gpt-4o": "gpt-4o-ptu" } },
          { priority: 2, replay: paygo, replaySpeed: 0 },
        ],
        onCall: (s) => calls.push(s),
      });

    it("a PTU's recorded 429 (retry-after-ms 40, utilisation 104%) fails over at once and trips the PTU for 40 ms", async () => {
      const calls: CallSummary[] = [];
      h = await ptuThenPaygo(fixture("ptu-throttled"), fixture("chat-completion"), calls);
      const answer = await h.post(chatPath, { messages: [{ role: "user", content: "Hi" }] });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-served-by")).toBe("region-1");
      expect(answer.headers.get("x-router-attempts")).toBe("2");
      expect(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(
        "Hello! How can I help you today?",
      );
      const ptu = (await h.status()).backends[0];
      expect(ptu?.reason).toBe("throttled");
      await until(() => calls.length > 0, 2_000);
      // Usage read from the recorded answer.
      expect(calls[0]).toMatchObject({ totalTokens: 20, backend: "region-1" });
    });

    it("a recorded 429 with no delay header fails over and benches the deployment for tripDuration (no delay to honour)", async () => {
      h = await startHarness({
        regions: [
          { priority: 1, replay: fixture("chat-throttled-no-delay"), replaySpeed: 0 },
          { priority: 2, replay: fixture("chat-completion"), replaySpeed: 0 },
        ],
      });
      const started = Date.now();
      const answer = await h.post(chatPath, { messages: [{ role: "user", content: "Hi" }] });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-served-by")).toBe("region-1");
      const ptu = (await h.status()).backends[0];
      expect(ptu?.state).toBe("open");
      const benchedMs = Date.parse(ptu?.openUntil ?? "") - started;
      // The configured tripDuration (default PT1M): there is no delay to honour.
      expect(benchedMs).toBeGreaterThanOrEqual(59_000);
      expect(benchedMs).toBeLessThan(61_000);
    });

    it("a Responses follow-up during Azure's consistency delay gets Azure's answer, then the owner's once visible", async () => {
      const harness = await startHarness({
        regions: [{ replay: fixture("responses-follow-up-during-consistency-delay"), replaySpeed: 0 }],
      });
      h = harness;
      const previous = "resp_68a1b2c3d4e5f60718293a4b5c6d7e8f";
      harness.app.owners.learn(previous, "region-0", "default");
      const follow = () => harness.post("/openai/v1/responses", { model: "gpt-4o", input: "And then?", previous_response_id: previous });
      const early = await follow();
      expect(early.status).toBe(400);
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe("previous_response_not_found");
      const later = await follow();
      expect(later.status).toBe(200);
      expect(((await later.json()) as { previous_response_id: string }).previous_response_id).toBe(previous);
      // Each follow-up was one call at the owner: the early "not found" did not send the router probing elsewhere.
      expect(harness.sims[0]?.requestCount).toBe(2);
    });

    it("a stream in Azure's recorded framing passes through whole and ends clean", async () => {
      const calls: CallSummary[] = [];
      h = await startHarness({ regions: [{ replay: fixture("chat-stream"), replaySpeed: 0 }], onCall: (s) => calls.push(s) });
      const answer = await h.post(chatPath, { messages: [{ role: "user", content: "Hi" }], stream: true });
      const text = await answer.text();
      expect(text).toContain('"content":" there"');
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
      await until(() => calls.length > 0, 2_000);
      expect(calls[0]?.outcome).toBe("served");
    });
  });
});
