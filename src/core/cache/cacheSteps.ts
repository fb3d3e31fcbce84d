// The response cache's two places in a call: before the failover loop (a ticket, a lookup, a hit
// answered as the backend once answered it) and after it (a miss marked, a reusable answer kept).

import { headerValue, type RouterRequest, type RouterResponse } from "../request/exchange";
import type { ForwardResult } from "../routing/forwardCall";
import type { CachedAnswer } from "./cachedAnswer";
import type { CacheTicket, ResponseCache } from "./responseCache";

/** The ticket of a call whose answer may be reused, or `undefined`. */
export function cacheTicketFor(
  cache: ResponseCache,
  request: RouterRequest,
  call: { path: string; client: string; deployment: string; body: Uint8Array | undefined },
): CacheTicket | undefined {
  const cacheControl = headerValue(request.headers, "cache-control");
  const { path, deployment, body } = call;
  return cache.ticket(call.client, { method: request.method, url: request.url, path, deployment, body, cacheControl });
}

/** A hit, as the caller gets it: the original body and content type, and where it came from. */
export function cachedResponse(answer: CachedAnswer): RouterResponse {
  const headers: Record<string, string> = {
    "content-type": answer.contentType,
    "content-length": String(answer.body.length),
    "x-cache": "HIT",
    "x-router-attempts": "0",
  };
  if (answer.servedBy !== undefined) headers["x-served-by"] = answer.servedBy;
  if (answer.servedDeployment !== undefined) headers["x-served-deployment"] = answer.servedDeployment;
  return { status: 200, headers, body: answer.body };
}

/** A cacheable call's answer from a backend: marked a miss, and kept when it is a reusable answer. */
export function keepForCache(cache: ResponseCache, ticket: CacheTicket, result: ForwardResult): void {
  result.response.headers["x-cache"] = "MISS";
  result.summary.cache = "miss";
  if (result.served) cache.keep(ticket, result.response, { backend: result.summary.backend, deployment: result.summary.servedDeployment });
}
