import { describe, expect, it } from "vitest";
import type { CacheConfig } from "../config/configTypes";
import { type CallForCache, cacheableCall } from "./cacheableCall";

const config: CacheConfig = { deployments: new Set(["emb", "chat"]), ttlMs: 60_000, maxBytes: 1 << 20, shareAcrossClients: false };

function call(path: string, body: unknown, more: Partial<CallForCache> = {}): CallForCache {
  const deployment = path.startsWith("/openai/deployments/") ? path.split("/")[3] : (body as { model?: string }).model;
  return {
    method: "POST",
    path,
    url: `${path}?api-version=2024-10-21`,
    deployment,
    body: Buffer.from(JSON.stringify(body)),
    cacheControl: undefined,
    ...more,
  };
}

describe("cacheableCall", () => {
  it("takes embeddings, chat completions that store nothing, and Responses calls with store false", () => {
    expect(cacheableCall(config, call("/openai/deployments/emb/embeddings", { input: "a" }))).toEqual({ refresh: false });
    expect(cacheableCall(config, call("/openai/deployments/chat/chat/completions", { messages: [] }))).toBeDefined();
    expect(cacheableCall(config, call("/openai/deployments/chat/chat/completions", { messages: [], store: false }))).toBeDefined();
    expect(cacheableCall(config, call("/openai/v1/embeddings", { model: "emb", input: "a" }))).toBeDefined();
    expect(cacheableCall(config, call("/openai/v1/chat/completions", { model: "chat", messages: [] }))).toBeDefined();
    expect(cacheableCall(config, call("/openai/v1/responses", { model: "chat", input: "hi", store: false }))).toBeDefined();
  });

  it("never takes streams, calls that store or create objects, other operations or methods", () => {
    const never: CallForCache[] = [
      call("/openai/deployments/chat/chat/completions", { messages: [], stream: true }),
      call("/openai/deployments/chat/chat/completions", { messages: [], store: true }),
      // Responses store by default.
      call("/openai/v1/responses", { model: "chat", input: "hi" }),
      call("/openai/v1/responses", { model: "chat", input: "hi", store: false, stream: true }),
      call("/openai/v1/responses", { model: "chat", input: "hi", store: false, background: true }),
      call("/openai/deployments/chat/completions", { prompt: "x" }),
      call("/openai/deployments/chat/images/generations", { prompt: "x" }),
      call("/openai/deployments/emb/embeddings", { input: "a" }, { method: "GET" }),
      call("/openai/v1/files", { model: "emb" }),
    ];
    for (const c of never)
      expect(cacheableCall(config, c), `${c.method} ${c.path} ${Buffer.from(c.body ?? []).toString()}`).toBeUndefined();
  });

  it("never takes an unlisted deployment, a call without one, or a body that is not a JSON object", () => {
    expect(cacheableCall(config, call("/openai/deployments/other/embeddings", { input: "a" }))).toBeUndefined();
    expect(cacheableCall(config, call("/openai/v1/embeddings", { input: "a" }))).toBeUndefined();
    const text = call("/openai/deployments/emb/embeddings", {});
    expect(cacheableCall(config, { ...text, body: Buffer.from("input=a") })).toBeUndefined();
    expect(cacheableCall(config, { ...text, body: Buffer.from('["a"]') })).toBeUndefined();
    expect(cacheableCall(config, { ...text, body: undefined })).toBeUndefined();
  });

  it("is a refresh when the caller sends cache-control: no-cache", () => {
    const c = call("/openai/deployments/emb/embeddings", { input: "a" });
    expect(cacheableCall(config, { ...c, cacheControl: "no-cache" })).toEqual({ refresh: true });
    expect(cacheableCall(config, { ...c, cacheControl: "max-age=0, No-Cache" })).toEqual({ refresh: true });
    expect(cacheableCall(config, { ...c, cacheControl: "no-cache-please" })).toEqual({ refresh: false });
  });
});
