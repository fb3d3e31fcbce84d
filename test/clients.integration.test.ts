// Clients over real sockets with the official SDK: named keys, allowed deployments, limits held
// across two router instances on one Azurite table, budget headers, usage in log lines, /status
// by key, and per-instance shares when storage goes down.

import type { AzureOpenAI } from "openai";
import { describe, expect, it } from "vitest";
import type { CallSummary } from "../src/core/events";
import { chatPath, clientKey, type Harness, sleep, until } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("clients", { outages: true });
const chatKey = "chat-app-key";
const batchKey = "batch-key";
const clients = (limits: Record<string, number>) => [
  { name: "chat-app", keySetting: "CHAT_KEYS", deployments: ["gpt-4o"], limits },
  { name: "nightly-batch", keySetting: "BATCH_KEYS" },
];

async function twoInstances(limits: Record<string, number>, calls?: CallSummary[], latencyMs = 0): Promise<[Harness, Harness]> {
  const routers = await shared.routers([{ latencyMs }, { latencyMs }], () => ({
    config: { clients: clients(limits) },
    env: { ROUTER_STATE_REFRESH: "PT0.5S", CHAT_KEYS: `old-key,${chatKey}`, BATCH_KEYS: batchKey },
    onCall: calls ? (summary) => calls.push({ ...summary }) : undefined,
  }));
  return routers as [Harness, Harness];
}

/**
 * One chat-app call through each instance, then time for both to share it and to read the other's
 * (an instance reads the shared total only while it has traffic): from here the limit holds for both.
 */
async function oneCallEachThenShare(a: Harness, b: Harness): Promise<void> {
  for (const h of [a, b]) expect((await h.post(chatPath, { messages }, { "api-key": chatKey })).status).toBe(200);
  await sleep(2_000);
}

const backendRequests = () => shared.regions.sims.reduce((n, s) => n + (s?.requestCount ?? 0), 0);
const messages = [{ role: "user" as const, content: "hi" }];
const chat = (client: AzureOpenAI) => client.chat.completions.create({ model: "gpt-4o", messages });

describe("clients (two instances on Azurite)", () => {
  it("lets a client call its deployments and answers 403 DeploymentNotAllowed for others, before any backend call", async () => {
    const [a] = await twoInstances({});
    const app = a.client({ apiKey: chatKey });
    expect((await chat(app)).choices[0]?.message.content).toContain("Hello");
    const before = backendRequests();
    await expect(app.embeddings.create({ model: "text-embedding-3-large", input: "x" })).rejects.toMatchObject({
      status: 403,
      error: { code: "DeploymentNotAllowed" },
    });
    expect(backendRequests()).toBe(before);
    // A call the router answered 403 does not count against the client.
    expect((await a.status()).clients?.["chat-app"]?.requests).toBe(1);
    // The other client has no deployment list; the old key of a rotation still works.
    expect((await a.client({ apiKey: batchKey }).embeddings.create({ model: "text-embedding-3-large", input: "x" })).data).toHaveLength(1);
    expect((await chat(a.client({ apiKey: "old-key" }))).choices).toHaveLength(1);
    await expect(chat(a.client({ apiKey: "not-a-key" }))).rejects.toMatchObject({ status: 401 });
  });

  it("holds requestsPerMinute across both instances (≤ 1.25× once both have refreshed), 429s reaching no backend, with the budget in headers", async () => {
    const limit = 20;
    const [a, b] = await twoInstances({ requestsPerMinute: limit });
    // One call each, then a refresh on both: each now admits against the shared total.
    await oneCallEachThenShare(a, b);
    const before = backendRequests();
    let served = 2;
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      // Calls that state their maximum output, so what admission charges is close to what they use.
      const response = await (i % 2 === 0 ? a : b).post(chatPath, { messages, max_tokens: 4 }, { "api-key": chatKey });
      if (response.status === 200) {
        served++;
        // The client's own budget, not the backend's (the simulator says 99).
        expect(response.headers.get("x-ratelimit-limit-requests")).toBe(String(limit));
        expect(Number(response.headers.get("x-ratelimit-remaining-requests"))).toBeLessThan(limit);
      } else {
        expect(response.status).toBe(429);
        expect((await response.json()) as unknown).toMatchObject({ error: { code: "TooManyRequests" } });
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(Number(response.headers.get("x-ratelimit-remaining-requests"))).toBeLessThan(limit);
        refused++;
      }
      if (i % 10 === 9) await sleep(300);
    }
    // Held (≤ 1.25×), and not starved either: shares of the room add up to about the limit.
    expect(served).toBeGreaterThanOrEqual(limit * 0.75);
    expect(served).toBeLessThanOrEqual(limit * 1.25);
    expect(refused).toBe(62 - served);
    expect(backendRequests() - before).toBe(served - 2);
    // Another client is not held by chat-app's budget.
    expect((await a.post(chatPath, { messages }, { "api-key": batchKey })).status).toBe(200);
  });

  it("holds tokensPerMinute across both instances, counting what the backend reported", async () => {
    const limit = 130; // the simulator reports 13 tokens per chat answer: about 10 calls
    const [a, b] = await twoInstances({ tokensPerMinute: limit });
    await oneCallEachThenShare(a, b);
    let tokens = 26;
    for (let i = 0; i < 40; i++) {
      // Calls that state their maximum output, so what admission charges is close to what they use.
      const response = await (i % 2 === 0 ? a : b).post(chatPath, { messages, max_tokens: 4 }, { "api-key": chatKey });
      if (response.status === 200) {
        tokens += ((await response.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
        expect(response.headers.get("x-ratelimit-limit-tokens")).toBe(String(limit));
      } else expect(response.status).toBe(429);
      if (i % 4 === 3) await sleep(300);
    }
    expect(tokens).toBeGreaterThanOrEqual(limit * 0.75);
    expect(tokens).toBeLessThanOrEqual(limit * 1.25 + 13);
    const usage = (await a.status()).clients?.["chat-app"];
    expect(usage?.tokens).toBeGreaterThanOrEqual(limit * 0.75);
    expect(usage?.limits).toEqual({ tokensPerMinute: limit });
  });

  it("logs client, deployment, backend and tokens per call: reported for JSON and for a stream's usage chunk, estimated without one", async () => {
    const calls: CallSummary[] = [];
    const [a] = await twoInstances({}, calls);
    await chat(a.client({ apiKey: chatKey }));
    const stream = await a
      .client({ apiKey: chatKey })
      .chat.completions.create({ model: "gpt-4o", messages, stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream);
    const bare = await a.client({ apiKey: batchKey }).chat.completions.create({ model: "gpt-4o", messages, stream: true });
    for await (const _ of bare);
    await until(async () => calls.length >= 3, 2_000);
    expect(calls[0]).toMatchObject({ client: "chat-app", deployment: "gpt-4o", promptTokens: 9, completionTokens: 4, totalTokens: 13 });
    expect(calls[0]?.backend).toMatch(/^region-/);
    expect(calls[0]?.tokensEstimated).toBeUndefined();
    expect(calls[1]).toMatchObject({ client: "chat-app", promptTokens: 9, completionTokens: 5, totalTokens: 14 });
    expect(calls[1]?.tokensEstimated).toBeUndefined();
    expect(calls[2]).toMatchObject({ client: "nightly-batch", tokensEstimated: true });
    expect(calls[2]?.completionTokens).toBeGreaterThan(0);
  });

  it("shows every client's usage to the default client's keys, and only its own to any other client", async () => {
    const [a] = await twoInstances({ requestsPerMinute: 100 });
    await a.post(chatPath, { messages }, { "api-key": chatKey });
    const ops = (await a.status()).clients ?? {};
    expect(Object.keys(ops).sort()).toEqual(["chat-app", "default", "nightly-batch"]);
    expect(ops["chat-app"]).toMatchObject({ requests: 1, limits: { requestsPerMinute: 100 } });
    const own = (await (await fetch(`${a.url}/status`, { headers: { "api-key": chatKey } })).json()) as { clients: object };
    expect(Object.keys(own.clients)).toEqual(["chat-app"]);
    const batch = (await (await fetch(`${a.url}/status`, { headers: { "api-key": batchKey } })).json()) as { clients: object };
    expect(Object.keys(batch.clients)).toEqual(["nightly-batch"]);
    // No key ever appears: neither a client's nor the operators'.
    expect(JSON.stringify(ops)).not.toContain(chatKey);
    expect(JSON.stringify(ops)).not.toContain(clientKey);
  });

  it("storage down: each instance holds itself to its share of the limit, neither unlimited nor refusing everything", async () => {
    const limit = 20;
    const [a, b] = await twoInstances({ requestsPerMinute: limit });
    await oneCallEachThenShare(a, b);
    await shared.outage();
    await until(async () => (await a.status()).clientLimits?.shared === false, 5_000, "A notices the store is down");
    let served = 0;
    for (let i = 0; i < 30; i++) if ((await a.post(chatPath, { messages }, { "api-key": chatKey })).status === 200) served++;
    // A's share: 20 / 2 instances = 10, of which it used 1.
    expect(served).toBe(9);
  });

  it("holds tokensPerMinute under 100 concurrent calls, JSON and streamed: calls in flight are charged their estimate", async () => {
    const limit = 130; // 13 tokens per JSON answer, 14 per stream with its usage chunk: about 10 calls
    const [a, b] = await twoInstances({ tokensPerMinute: limit }, undefined, 400);
    await until(async () => (await a.status()).clientLimits?.instances === 2 && (await b.status()).clientLimits?.instances === 2, 5_000);
    const body = (stream: boolean) => ({
      messages,
      max_tokens: 4,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const response = await (i % 2 === 0 ? a : b).post(chatPath, body(i % 4 >= 2), { "api-key": chatKey });
        const text = await response.text();
        if (response.status !== 200) return 0;
        return i % 4 >= 2 ? 14 : (JSON.parse(text) as { usage: { total_tokens: number } }).usage.total_tokens;
      }),
    );
    const tokens = results.reduce((n, t) => n + t, 0);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(limit * 1.25);
  });

  it("holds requestsPerMinute for a first burst over two instances that have refreshed but seen no call", async () => {
    const [a, b] = await twoInstances({ requestsPerMinute: 10 });
    // Present: each knows the other shares the limit before either has a call.
    await until(async () => (await a.status()).clientLimits?.instances === 2 && (await b.status()).clientLimits?.instances === 2, 5_000);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).post(chatPath, { messages }, { "api-key": chatKey }).then((r) => r.status),
      ),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThanOrEqual(12);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
  });
});
