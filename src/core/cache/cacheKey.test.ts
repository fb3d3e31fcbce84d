import { describe, expect, it } from "vitest";
import { cacheKey } from "./cacheKey";

const base = {
  client: "app",
  deployment: "emb",
  url: "/openai/deployments/emb/embeddings?api-version=2024-10-21",
  body: Buffer.from('{"input":"a"}'),
};

describe("cacheKey", () => {
  it("is the same for the same call, and a 64-digit hex digest", () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, body: Buffer.from('{"input":"a"}') }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs in every part: client, deployment, path and query, body bytes", () => {
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, client: "other" }),
      cacheKey({ ...base, client: undefined }),
      cacheKey({ ...base, deployment: "emb2" }),
      cacheKey({ ...base, url: "/openai/deployments/emb/embeddings?api-version=2025-01-01" }),
      cacheKey({ ...base, body: Buffer.from('{"input":"a" }') }),
    ]);
    expect(keys.size).toBe(6);
  });

  it("keeps parts apart: text moved from one part to the next is another key", () => {
    expect(cacheKey({ ...base, client: "ab", deployment: "c" })).not.toBe(cacheKey({ ...base, client: "a", deployment: "bc" }));
    // A client literally named "*" is not the shared key.
    expect(cacheKey({ ...base, client: "*" })).not.toBe(cacheKey({ ...base, client: undefined }));
  });
});
