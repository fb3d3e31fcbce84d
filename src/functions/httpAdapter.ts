// The Azure Functions host as an adapter: HttpRequest in, the core's handler, HttpResponseInit out.
// No routing logic here; bodies stream both ways (app.setup enables HTTP streams).

import { Readable } from "node:stream";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { IncomingHeaders, RouterRequest, RouterResponse } from "../core/http";
import type { RequestHandler } from "../core/router";

/** Path and query of an absolute URL, without allocating a URL object. */
export function pathAndQuery(url: string): string {
  const scheme = url.indexOf("//");
  const slash = url.indexOf("/", scheme === -1 ? 0 : scheme + 2);
  return slash === -1 ? "/" : url.slice(slash);
}

export function toRouterRequest(request: HttpRequest): RouterRequest {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const method = request.method.toUpperCase();
  const body = method === "GET" || method === "HEAD" || request.body === null ? undefined : (request.body as AsyncIterable<Uint8Array>);
  return { method, url: pathAndQuery(request.url), headers: headers as IncomingHeaders, body, signal: undefined };
}

export function toHttpResponse(response: RouterResponse, method: string): HttpResponseInit {
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.push([name, v]);
    else headers.push([name, value]);
  }
  const body = response.body;
  if (method === "HEAD" || body === undefined) {
    (body as { destroy?: () => void } | undefined)?.destroy?.();
    return { status: response.status, headers };
  }
  if (body instanceof Uint8Array) return { status: response.status, headers, body };
  // undici's body is already a Readable; anything else iterable is wrapped, never buffered.
  return { status: response.status, headers, body: body instanceof Readable ? body : Readable.from(body) };
}

/** One call through the core, logged as one structured line through the invocation context. */
export async function handleHttp(handler: RequestHandler, request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const routerRequest = toRouterRequest(request);
  const response = await handler.handle(routerRequest);
  const summary = response.summary;
  if (summary) {
    const line = { event: "call", invocationId: context.invocationId, ...summary };
    if (summary.status >= 500) context.warn(JSON.stringify(line));
    else context.info(JSON.stringify(line));
  }
  return toHttpResponse(response, routerRequest.method);
}
