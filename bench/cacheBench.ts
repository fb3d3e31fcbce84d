// The response cache's rows: a hit against the bare proxy (which waits on the backend) under the
// same load, interleaved; then misses one at a time, each with its one bounded lookup in Blob
// Storage (Azurite), beside refreshes that skip the lookup — the lookup's cost is the difference.
// Calls that are not cacheable must not look anything up.

import { request } from "undici";
import { startAzurite } from "../test/helpers/azurite";
import { type Comparison, clientKey, compare, progress, smoke, startRouter, type Target } from "./measure";

const embeddingsPath = "/openai/deployments/text-embedding-3-large/embeddings?api-version=2024-10-21";
const chatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

export interface CacheRows {
  hit: Comparison;
  /** Mean time of a miss (with its shared lookup) and of a refresh (no lookup), ms. */
  missMeanMs: number;
  refreshMeanMs: number;
  /** Shared lookups per miss (at most one), and for calls that are not cacheable (none). */
  lookupsPerMiss: number;
  lookupsForOtherCalls: number;
}

interface CacheStatus {
  sharedLookups: number;
  misses: number;
}

async function cacheStatus(url: string): Promise<CacheStatus> {
  const response = await request(`${url}/status`, { headers: { "api-key": clientKey } });
  return ((await response.body.json()) as { cache: CacheStatus }).cache;
}

/** Mean ms of `count` calls made one after another, each with a new body. */
async function oneByOne(url: string, count: number, call: (i: number) => { path: string; body: string; headers?: Record<string, string> }) {
  let total = 0;
  for (let i = 0; i < count; i++) {
    const { path, body, headers = {} } = call(i);
    const started = performance.now();
    const answer = await request(`${url}${path}`, {
      method: "POST",
      headers: { "api-key": clientKey, "content-type": "application/json", ...headers },
      body,
    });
    await answer.body.dump();
    total += performance.now() - started;
  }
  return total / count;
}

export async function benchCache(backendUrl: string, bare: Target): Promise<CacheRows> {
  const azurite = await startAzurite({ blob: true });
  const router = await startRouter(
    { backends: [{ name: "steady", url: backendUrl, auth: { type: "none" } }], cache: { deployments: ["text-embedding-3-large"] } },
    { ROUTER_STATE: azurite.connectionString, ROUTER_CACHE_CONTAINER: "benchcache" },
  );
  try {
    const hitCall = { path: embeddingsPath, body: JSON.stringify({ input: "The same chunk, embedded again." }) };
    const hit = await compare("cache hit vs bare", router, bare, hitCall);
    const count = smoke ? 20 : 200;
    const before = await cacheStatus(router.url);
    const missMeanMs = await oneByOne(router.url, count, (i) => ({
      path: embeddingsPath,
      body: JSON.stringify({ input: `new chunk ${i}` }),
    }));
    const afterMisses = await cacheStatus(router.url);
    const refreshMeanMs = await oneByOne(router.url, count, (i) => ({
      path: embeddingsPath,
      body: JSON.stringify({ input: `refreshed chunk ${i}` }),
      headers: { "cache-control": "no-cache" },
    }));
    const afterRefreshes = await cacheStatus(router.url);
    await oneByOne(router.url, count, (i) => ({
      path: chatPath,
      body: JSON.stringify({ messages: [{ role: "user", content: `hi ${i}` }] }),
    }));
    const afterOthers = await cacheStatus(router.url);
    const misses = afterMisses.misses - before.misses;
    progress(`cache: miss ${missMeanMs.toFixed(2)} ms (with its lookup), refresh ${refreshMeanMs.toFixed(2)} ms (none)`);
    return {
      hit,
      missMeanMs,
      refreshMeanMs,
      lookupsPerMiss: (afterMisses.sharedLookups - before.sharedLookups) / Math.max(1, misses),
      lookupsForOtherCalls: afterOthers.sharedLookups - afterRefreshes.sharedLookups,
    };
  } finally {
    router.proc.kill("SIGTERM");
    await azurite.stop();
  }
}
