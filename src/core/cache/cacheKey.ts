// The key of a cacheable call: who asked (unless answers are shared across clients), the caller's
// deployment, the path and query, and the exact request body bytes. A digest, so the key is a
// fixed-size name in memory and in the shared store; each part is length-prefixed so no two
// different calls can run together into the same text.

import { createHash } from "node:crypto";

export interface CacheKeyParts {
  /** The calling client's name; `undefined` when answers are shared across clients. */
  client: string | undefined;
  /** The caller's deployment name. */
  deployment: string;
  /** Path and query exactly as the caller sent them. */
  url: string;
  body: Uint8Array;
}

/** 64 hex digits (SHA-256). */
export function cacheKey(parts: CacheKeyParts): string {
  const hash = createHash("sha256");
  const client = parts.client === undefined ? "*" : `=${parts.client}`;
  for (const text of [client, parts.deployment, parts.url]) hash.update(`${text.length}:${text}\n`);
  hash.update(`${parts.body.length}:`);
  hash.update(parts.body);
  return hash.digest("hex");
}
