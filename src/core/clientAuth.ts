// Who may call the router: `api-key: <key>` or `Authorization: Bearer <key>`, checked against
// ROUTER_CLIENT_KEYS in constant time (digests of equal length, every key compared).

import { createHash, hash, timingSafeEqual } from "node:crypto";
import { headerValue, type IncomingHeaders } from "./http";

export type ClientAuthenticator = (headers: IncomingHeaders) => boolean;

// One-shot crypto.hash (Node >= 20.12) is cheaper than a Hash object per call.
const digest: (text: string) => Buffer =
  typeof hash === "function" ? (text) => hash("sha256", text, "buffer") : (text) => createHash("sha256").update(text).digest();

export function createClientAuthenticator(keys: readonly string[], allowAnonymous: boolean): ClientAuthenticator {
  if (allowAnonymous && keys.length === 0) return () => true;
  const digests = keys.map(digest);
  return (headers) => {
    const presented = presentedKey(headers);
    if (presented === undefined) return false;
    const candidate = digest(presented);
    let match = false;
    for (const d of digests) match = timingSafeEqual(d, candidate) || match;
    return match;
  };
}

function presentedKey(headers: IncomingHeaders): string | undefined {
  const apiKey = headerValue(headers, "api-key");
  if (apiKey) return apiKey;
  const authorization = headerValue(headers, "authorization");
  if (authorization && /^bearer\s+/i.test(authorization)) return authorization.replace(/^bearer\s+/i, "");
  return undefined;
}
