// The response cache over real sockets with the official SDK: a repeated embeddings call is one
// backend call and a HIT; another client misses; no-cache reaches the backend; an unlisted
// deployment is never cached; an answer cached by one instance is a hit on another through Blob
// Storage (Azurite); a store that is down leaves the cache local; a corrupt shared entry is ignored.

import { BlobServiceClient } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { cacheKey } from "../src/core/cache/cacheKey";
import type { CallSummary } from "../src/core/events";
import { chatPath, clientKey, type Harness, refusedPort, startHarness, until } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("cache", { blob: true });
const appKey = "embedding-app-key";
const otherKey = "other-app-key";
const embeddingsModel = "text-embedding-3-large";
const cache = { deployments: [embeddingsModel], ttl: "PT1H" };
const clients = [
  { name: "rag-ingest", keySetting: "RAG_KEYS" },
  { name: "other-app", keySetting: "OTHER_KEYS" },
];
const clientEnv = { RAG_KEYS: appKey, OTHER_KEYS: otherKey };
const embeddingsPath = `/openai/deployments/${embeddingsModel}/embeddings?api-version=2024-10-21`;

const backendCalls = () => shared.regions.sims.reduce((n, s) => n + (s?.requestCount ?? 0), 0);
const status = async (h: Harness, key = clientKey) =>
  (await (await fetch(`${h.url}/status`, { headers: { "api-key": key } })).json()) as { cache?: Record<string, unknown> };

async function twoInstances(calls?: CallSummary[]): Promise<[Harness, Harness]> {
  const routers = await shared.routers([{}], () => ({
    config: { cache, clients },
    env: clientEnv,
    onCall: calls ? (summary) => calls.push({ ...summary }) : undefined,
  }));
  return routers as [Harness, Harness];
}

describe("response cache (official SDK, two instances on Azurite tables and blobs)", () => {
  it("answers a repeated embeddings call from the cache: one backend call, x-cache HIT, tokens logged as saved", async () => {
    const calls: CallSummary[] = [];
    const [a] = await twoInstances(calls);
    const sdk = a.client({ apiKey: appKey });
    const first = await sdk.embeddings.create({ model: embeddingsModel, input: ["chunk one", "chunk two"] }).withResponse();
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    const second = await sdk.embeddings.create({ model: embeddingsModel, input: ["chunk one", "chunk two"] }).withResponse();
    expect(second.response.headers.get("x-cache")).toBe("HIT");
    expect(second.data).toEqual(first.data);
    expect(second.response.headers.get("x-served-by")).toBe(first.response.headers.get("x-served-by"));
    expect(backendCalls()).toBe(1);
    await until(() => calls.length >= 2, 2_000, "both calls logged");
    const hit = calls.find((c) => c.cache === "hit");
    expect(hit).toMatchObject({ outcome: "served", status: 200, client: "rag-ingest", attempts: 0, backend: undefined });
    expect(hit?.savedTokens).toBe(first.data.usage.total_tokens);
    expect(calls.find((c) => c.cache === "miss")?.backend).toBeDefined();
    expect((await status(a)).cache).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it("keeps clients apart: another client's identical call misses and reaches the backend", async () => {
    const [a] = await twoInstances();
    await a.client({ apiKey: appKey }).embeddings.create({ model: embeddingsModel, input: "same text" });
    const other = await a.client({ apiKey: otherKey }).embeddings.create({ model: embeddingsModel, input: "same text" }).withResponse();
    expect(other.response.headers.get("x-cache")).toBe("MISS");
    expect(backendCalls()).toBe(2);
  });

  it("cache-control: no-cache reaches the backend and refreshes the entry", async () => {
    const [a] = await twoInstances();
    const sdk = a.client({ apiKey: appKey });
    await sdk.embeddings.create({ model: embeddingsModel, input: "fresh" });
    const refreshed = await sdk.embeddings
      .create({ model: embeddingsModel, input: "fresh" }, { headers: { "cache-control": "no-cache" } })
      .withResponse();
    expect(refreshed.response.headers.get("x-cache")).toBe("MISS");
    expect(backendCalls()).toBe(2);
    const again = await sdk.embeddings.create({ model: embeddingsModel, input: "fresh" }).withResponse();
    expect(again.response.headers.get("x-cache")).toBe("HIT");
    expect(backendCalls()).toBe(2);
  });

  it("never caches an unlisted deployment, a stream, or a chat completion that stores", async () => {
    const [a] = await twoInstances();
    const sdk = a.client({ apiKey: appKey });
    const messages = [{ role: "user" as const, content: "hi" }];
    for (let i = 0; i < 2; i++) {
      const chat = await sdk.chat.completions.create({ model: "gpt-4o", messages }).withResponse();
      expect(chat.response.headers.get("x-cache")).toBeNull();
    }
    expect(backendCalls()).toBe(2);
    // Listed, yet never cached: a stream, or a call that stores.
    const listed = await startHarness({ pool: shared.regions, config: { cache: { deployments: ["gpt-4o"] } }, env: shared.env() });
    try {
      const before = backendCalls();
      for (let i = 0; i < 2; i++) {
        const stream = await listed.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
        for await (const _ of stream) {
          // drained
        }
        const stored = await listed.post(chatPath, { messages, store: true });
        expect(stored.headers.get("x-cache")).toBeNull();
        await stored.arrayBuffer();
      }
      expect(backendCalls() - before).toBe(4);
      const plain = [await listed.post(chatPath, { messages }), await listed.post(chatPath, { messages })];
      expect(plain.map((r) => r.headers.get("x-cache"))).toEqual(["MISS", "HIT"]);
      expect(backendCalls() - before).toBe(5);
    } finally {
      await listed.close();
    }
  });

  it("an answer cached by one instance is a hit on the other within 2.5 s, through Blob Storage", async () => {
    const [a, b] = await twoInstances();
    const answeredAt = Date.now();
    await a.client({ apiKey: appKey }).embeddings.create({ model: embeddingsModel, input: "shared across instances" });
    const waited = await until(async () => (await status(a)).cache?.sharedWrites === 1, 2_500, "the answer written to the shared store");
    expect(waited).toBeLessThan(2_500);
    const fromB = await b
      .client({ apiKey: appKey })
      .embeddings.create({ model: embeddingsModel, input: "shared across instances" })
      .withResponse();
    expect(fromB.response.headers.get("x-cache")).toBe("HIT");
    expect(Date.now() - answeredAt).toBeLessThan(5_000);
    expect(backendCalls()).toBe(1);
    expect((await status(b)).cache).toMatchObject({ sharedLookups: 1, sharedHits: 1, shared: "up" });
  });

  it("ignores a corrupt shared entry (served by the backend, then replaced), never serving it", async () => {
    const [a] = await twoInstances();
    const body = JSON.stringify({ input: "corrupt me" });
    const key = cacheKey({ client: "rag-ingest", deployment: embeddingsModel, url: embeddingsPath, body: Buffer.from(body) });
    const container = BlobServiceClient.fromConnectionString(shared.azurite.connectionString).getContainerClient(
      shared.env().ROUTER_CACHE_CONTAINER ?? "",
    );
    await container.createIfNotExists();
    await container.getBlockBlobClient(key).uploadData(Buffer.from('{"v":1,"key":"not this one"}\n{"data":"poisoned"}'));
    const answer = await a.post(embeddingsPath, body, { "api-key": appKey });
    expect(answer.headers.get("x-cache")).toBe("MISS");
    expect(await answer.text()).not.toContain("poisoned");
    expect(backendCalls()).toBe(1);
    await until(async () => (await status(a)).cache?.sharedWrites === 1, 2_500, "the fresh answer written over the corrupt one");
    expect((await container.getBlockBlobClient(key).downloadToBuffer()).toString()).toContain('"object":"list"');
  });

  it("with the shared store down, the cache is local only and never an error", async () => {
    const refused = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${"a".repeat(88)};BlobEndpoint=http://127.0.0.1:${await refusedPort()}/devstoreaccount1;`;
    const env = { ...clientEnv, ROUTER_CACHE_STORE: refused };
    const [a] = (await shared.routers([{}], () => ({ config: { cache, clients }, env }), ["alone"])) as [Harness];
    const sdk = a.client({ apiKey: appKey });
    const first = await sdk.embeddings.create({ model: embeddingsModel, input: "no store" }).withResponse();
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    const second = await sdk.embeddings.create({ model: embeddingsModel, input: "no store" }).withResponse();
    expect(second.response.headers.get("x-cache")).toBe("HIT");
    expect(backendCalls()).toBe(1);
    expect((await status(a)).cache).toMatchObject({ shared: "down", hits: 1 });
  });
});
