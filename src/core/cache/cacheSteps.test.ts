// The cache's place in a call (core router over a fake upstream): a hit reaches no backend, counts
// as a request for the client's limits and charges no tokens; a miss is marked and kept.

import { describe, expect, it } from "vitest";
import { answer, coreRouter, fakeUpstream, testClientKey } from "../../../test/helpers/coreRouter";
import type { Client } from "../clients/clientAuth";
import type { RouterRequest } from "../request/exchange";

const embeddingsAnswer = '{"object":"list","data":[{"embedding":[0.5]}],"usage":{"prompt_tokens":7,"total_tokens":7}}';
const limited: Client = {
  name: "app",
  deployments: undefined,
  limits: { requestsPerMinute: 3, tokensPerMinute: 100_000 },
  seesAllClients: false,
};
const config = { backends: [{ name: "a", url: "https://a.example", auth: { type: "none" } }], cache: { deployments: ["emb"] } };

function embeddings(key: string, input = "x"): RouterRequest {
  return {
    method: "POST",
    url: "/openai/deployments/emb/embeddings?api-version=2024-10-21",
    headers: { "api-key": key, "content-type": "application/json", "accept-encoding": "gzip" },
    body: (async function* () {
      yield Buffer.from(JSON.stringify({ input }));
    })(),
    signal: undefined,
  };
}

async function text(body: unknown): Promise<string> {
  if (body instanceof Uint8Array) return Buffer.from(body).toString();
  let out = "";
  for await (const chunk of body as AsyncIterable<Uint8Array>) out += Buffer.from(chunk).toString();
  return out;
}

describe("the response cache in a call", () => {
  it("answers a repeated call without the backend: x-cache HIT, saved tokens in the summary, no tokens charged", async () => {
    const upstream = fakeUpstream(() => answer(200, { "content-type": "application/json" }, embeddingsAnswer));
    const { router, limiter } = coreRouter(config, upstream, { clients: [{ client: limited, keys: ["app-key"] }] });
    const miss = await router.handle(embeddings("app-key"));
    expect(miss.response.headers["x-cache"]).toBe("MISS");
    // Cacheable answers are asked for uncompressed: they are kept as the caller gets them.
    expect(upstream.sent[0]?.request.headers["accept-encoding"]).toBeUndefined();
    expect(await text(miss.response.body)).toBe(embeddingsAnswer);
    const done = miss.bodyDone?.({ bytes: embeddingsAnswer.length, error: undefined, callerGone: false, tail: embeddingsAnswer });
    expect(done?.cache).toBe("miss");
    const hit = await router.handle(embeddings("app-key"));
    expect(hit.response.headers).toMatchObject({ "x-cache": "HIT", "x-served-by": "a", "content-type": "application/json" });
    expect(await text(hit.response.body)).toBe(embeddingsAnswer);
    expect(hit.summary).toMatchObject({ outcome: "served", cache: "hit", savedTokens: 7, attempts: 0, client: "app" });
    expect(upstream.sent).toHaveLength(1);
    // Two requests counted; tokens only for the call a backend served.
    expect(limiter.view(limited).app).toMatchObject({ requests: 2, tokens: 7 });
    expect(hit.response.headers["x-ratelimit-remaining-requests"]).toBe("1");
  });

  it("a hit still counts against the request limit: past it the client is refused before the cache", async () => {
    const upstream = fakeUpstream(() => answer(200, { "content-type": "application/json" }, embeddingsAnswer));
    const { router } = coreRouter(config, upstream, { clients: [{ client: limited, keys: ["app-key"] }] });
    const first = await router.handle(embeddings("app-key"));
    await text(first.response.body);
    for (let i = 0; i < 2; i++) expect((await router.handle(embeddings("app-key"))).response.headers["x-cache"]).toBe("HIT");
    expect((await router.handle(embeddings("app-key"))).response.status).toBe(429);
  });

  it("keeps a failed answer out of the cache, and leaves calls it may not answer untouched", async () => {
    let status = 400;
    const upstream = fakeUpstream(() => answer(status, { "content-type": "application/json" }, status === 200 ? embeddingsAnswer : "{}"));
    const { router } = coreRouter({ ...config, retry: { count: 0 } }, upstream);
    const failed = await router.handle(embeddings(testClientKey));
    expect(failed.response.status).toBe(400);
    await text(failed.response.body);
    status = 200;
    const after = await router.handle(embeddings(testClientKey));
    expect(after.response.headers["x-cache"]).toBe("MISS");
    expect(upstream.sent).toHaveLength(2);
    const chat: RouterRequest = { ...embeddings(testClientKey), url: "/openai/deployments/emb/chat/completions?api-version=2024-10-21" };
    const notCacheable = await router.handle({
      ...chat,
      body: (async function* () {
        yield Buffer.from('{"messages":[],"stream":true}');
      })(),
    });
    expect(notCacheable.response.headers["x-cache"]).toBeUndefined();
    expect(upstream.sent.at(-1)?.request.headers["accept-encoding"]).toBe("gzip");
  });
});
