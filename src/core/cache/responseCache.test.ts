import { describe, expect, it } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import type { CacheConfig } from "../config/configTypes";
import type { RouterResponse } from "../request/exchange";
import type { CallForCache } from "./cacheableCall";
import { encodeCachedAnswer } from "./cachedAnswer";
import { type CacheStore, MemoryCacheStore } from "./cacheStore";
import { ResponseCache } from "./responseCache";

const config: CacheConfig = { deployments: new Set(["emb"]), ttlMs: 60_000, maxBytes: 1 << 20, shareAcrossClients: false };
const embeddings: CallForCache = {
  method: "POST",
  path: "/openai/deployments/emb/embeddings",
  url: "/openai/deployments/emb/embeddings?api-version=2024-10-21",
  deployment: "emb",
  body: Buffer.from('{"input":"a"}'),
  cacheControl: undefined,
};
const answerText = '{"data":[{"embedding":[0.5]}],"usage":{"prompt_tokens":4,"total_tokens":4}}';

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

async function* breaks(): AsyncIterable<Uint8Array> {
  yield Buffer.from('{"data":');
  throw new Error("reset");
}

function response(body: RouterResponse["body"], status = 200, headers: Record<string, string> = {}): RouterResponse {
  return { status, headers: { "content-type": "application/json; charset=utf-8", ...headers }, body };
}

async function drain(body: RouterResponse["body"]): Promise<string> {
  if (body === undefined || body instanceof Uint8Array) return Buffer.from(body ?? []).toString();
  let text = "";
  for await (const chunk of body) text += Buffer.from(chunk).toString();
  return text;
}

const served = { backend: "eastus", deployment: "emb-at-eastus" };

function setup(store: CacheStore | undefined = new MemoryCacheStore(), more: Partial<CacheConfig> = {}) {
  const clock = fakeClock();
  const log: string[] = [];
  const cache = new ResponseCache({
    config: { ...config, ...more },
    clock,
    store,
    lookupTimeoutMs: 50,
    log: { storeLost: () => log.push("lost"), storeRestored: () => log.push("restored") },
  });
  return { cache, clock, log };
}

function ticketOf(cache: ResponseCache, client: string, call: CallForCache) {
  const ticket = cache.ticket(client, call);
  if (!ticket) throw new Error("expected a cacheable call");
  return ticket;
}

/** Lets background writes settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("ResponseCache", () => {
  it("misses, keeps the answer as its body passes, then hits with the same body, content type and origin", async () => {
    const { cache } = setup();
    const ticket = cache.ticket("app", embeddings);
    if (!ticket) throw new Error("embeddings are cacheable");
    expect(await cache.lookup(ticket)).toBeUndefined();
    const fresh = response(chunks(answerText.slice(0, 10), answerText.slice(10)));
    cache.keep(ticket, fresh, served);
    expect(await drain(fresh.body)).toBe(answerText);
    const hit = await cache.lookup(ticket);
    expect(Buffer.from(hit?.body ?? []).toString()).toBe(answerText);
    expect(hit).toMatchObject({
      contentType: "application/json; charset=utf-8",
      servedBy: "eastus",
      servedDeployment: "emb-at-eastus",
      totalTokens: 4,
    });
    expect(cache.status()).toMatchObject({ entries: 1, hits: 1, misses: 1, shared: "up" });
  });

  it("keys per client unless answers are shared across clients", async () => {
    const own = setup();
    own.cache.keep(ticketOf(own.cache, "app", embeddings), response(Buffer.from(answerText)), served);
    expect(await own.cache.lookup(ticketOf(own.cache, "other", embeddings))).toBeUndefined();
    const shared = setup(undefined, { shareAcrossClients: true });
    shared.cache.keep(ticketOf(shared.cache, "app", embeddings), response(Buffer.from(answerText)), served);
    expect(await shared.cache.lookup(ticketOf(shared.cache, "other", embeddings))).toBeDefined();
  });

  it("keeps nothing but a whole 200 JSON answer that is not encoded", async () => {
    const { cache } = setup();
    const ticket = ticketOf(cache, "app", embeddings);
    const notKept: RouterResponse[] = [
      response(Buffer.from(answerText), 400),
      response(Buffer.from(answerText), 200, { "content-type": "text/event-stream" }),
      response(Buffer.from(answerText), 200, { "content-encoding": "gzip" }),
      response(breaks()),
    ];
    for (const r of notKept) {
      cache.keep(ticket, r, served);
      await drain(r.body).catch(() => {});
    }
    expect(await cache.lookup(ticket)).toBeUndefined();
    expect(cache.status().entries).toBe(0);
  });

  it("expires an answer after the ttl", async () => {
    const { cache, clock } = setup();
    const ticket = ticketOf(cache, "app", embeddings);
    cache.keep(ticket, response(Buffer.from(answerText)), served);
    clock.advance(59_999);
    expect(await cache.lookup(ticket)).toBeDefined();
    clock.advance(1);
    expect(await cache.lookup(ticket)).toBeUndefined();
  });

  it("a refresh (no-cache) skips the lookup and replaces the answer", async () => {
    const { cache } = setup();
    const ticket = ticketOf(cache, "app", embeddings);
    cache.keep(ticket, response(Buffer.from(answerText)), served);
    const refresh = ticketOf(cache, "app", { ...embeddings, cacheControl: "no-cache" });
    expect(refresh.key).toBe(ticket.key);
    expect(await cache.lookup(refresh)).toBeUndefined();
    cache.keep(refresh, response(Buffer.from('{"data":[]}')), served);
    expect(Buffer.from((await cache.lookup(ticket))?.body ?? []).toString()).toBe('{"data":[]}');
  });

  it("shares answers through the store: another instance's local miss is a hit from it", async () => {
    const store = new MemoryCacheStore();
    const a = setup(store);
    const b = setup(store);
    a.cache.keep(ticketOf(a.cache, "app", embeddings), response(Buffer.from(answerText)), served);
    await settle();
    expect(store.counts.writes).toBe(1);
    const hit = await b.cache.lookup(ticketOf(b.cache, "app", embeddings));
    expect(Buffer.from(hit?.body ?? []).toString()).toBe(answerText);
    // Kept locally now: the next lookup asks the store nothing.
    await b.cache.lookup(ticketOf(b.cache, "app", embeddings));
    expect(store.counts.reads).toBe(1);
    expect(b.cache.status()).toMatchObject({ sharedLookups: 1, sharedHits: 1, hits: 2 });
  });

  it("ignores a corrupt or foreign shared entry, and the fresh answer replaces it", async () => {
    const store = new MemoryCacheStore();
    const { cache } = setup(store);
    const ticket = ticketOf(cache, "app", embeddings);
    const other = "f".repeat(64);
    store.entries.set(
      ticket.key,
      encodeCachedAnswer(other, {
        body: Buffer.from("{}"),
        contentType: "application/json",
        servedBy: undefined,
        servedDeployment: undefined,
        totalTokens: undefined,
        expiresAt: Number.MAX_SAFE_INTEGER,
      }),
    );
    expect(await cache.lookup(ticket)).toBeUndefined();
    store.entries.set(ticket.key, Buffer.from("garbage\n{}"));
    expect(await cache.lookup(ticket)).toBeUndefined();
    cache.keep(ticket, response(Buffer.from(answerText)), served);
    await settle();
    expect(Buffer.from(store.entries.get(ticket.key) ?? []).toString()).toContain(answerText);
  });

  it("a store that is down leaves the cache local: reported once, not asked again for a while, never an error", async () => {
    const store = new MemoryCacheStore();
    store.down = true;
    const { cache, clock, log } = setup(store);
    const ticket = ticketOf(cache, "app", embeddings);
    expect(await cache.lookup(ticket)).toBeUndefined();
    expect(log).toEqual(["lost"]);
    expect(cache.status().shared).toBe("down");
    cache.keep(ticket, response(Buffer.from(answerText)), served);
    await settle();
    expect(await cache.lookup(ticket)).toBeDefined();
    expect(await cache.lookup(ticketOf(cache, "app", { ...embeddings, body: Buffer.from('{"input":"b"}') }))).toBeUndefined();
    expect(store.counts).toEqual({ reads: 1, writes: 0 });
    store.down = false;
    clock.advance(5_000);
    expect(await cache.lookup(ticketOf(cache, "app", { ...embeddings, body: Buffer.from('{"input":"c"}') }))).toBeUndefined();
    expect(log).toEqual(["lost", "restored"]);
    expect(cache.status().shared).toBe("up");
  });

  it("gives up a shared lookup that takes longer than the lookup timeout", async () => {
    const never: CacheStore = { description: "never", read: () => new Promise(() => {}), write: async () => {} };
    const { cache } = setup(never);
    const started = Date.now();
    expect(await cache.lookup(ticketOf(cache, "app", embeddings))).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cache.status().shared).toBe("down");
  });
});
