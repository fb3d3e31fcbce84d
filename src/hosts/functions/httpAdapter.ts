// The Azure Functions host as an adapter: HttpRequest in, the core's handler, HttpResponseInit out.
// No routing logic here; bodies stream both ways (app.setup enables HTTP streams).

import { Readable } from "node:stream";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CallSummary } from "../../core/events";
import { discardBody, type HandledCall, type IncomingHeaders, type RouterRequest } from "../../core/request/exchange";
import type { RequestHandler } from "../../core/routing/router";
import { callFields, callLevel, callMessage, type LogSink } from "../eventLog";
import { BodyReporter, reportWithoutStream } from "../responseBody";

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

/**
 * The response for the Functions host. A backend's stream passes through a generator that counts
 * it and, when it breaks, ends it with an SSE error event (between events) and an error, which
 * makes the host cut the caller's connection. `done` gets the call's final summary.
 */
export function toHttpResponse(handled: HandledCall, method: string, done: (summary: CallSummary) => void): HttpResponseInit {
  const { response } = handled;
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.push([name, v]);
    else headers.push([name, value]);
  }
  const body = response.body;
  if (method === "HEAD" || body === undefined || body instanceof Uint8Array) {
    if (!(body instanceof Uint8Array)) discardBody(body);
    reportWithoutStream(handled, false, done);
    return method === "HEAD" || body === undefined ? { status: response.status, headers } : { status: response.status, headers, body };
  }
  const reporter = new BodyReporter(handled, done);
  async function* watched(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    // An error thrown in at a `yield` comes from the reader's side (the host destroyed the stream
    // because the caller left); one from the loop's `next()` is the backend's body failing.
    let atYield = false;
    try {
      for await (const chunk of source) {
        reporter.chunk(chunk);
        atYield = true;
        yield chunk;
        atYield = false;
      }
    } catch (error) {
      if (atYield) {
        reporter.callerGone(error);
        throw error;
      }
      reporter.failed(error);
      const event = reporter.breakEvent();
      if (event) yield event;
      throw error;
    } finally {
      // The host stopped reading before the end (a return at a `yield`): the caller went away.
      if (atYield) reporter.callerGone();
    }
    // Closed before its terminal event: the caller must see a break, not a clean end.
    if (reporter.ended()) {
      const event = reporter.breakEvent();
      if (event) yield event;
      throw new Error("the backend's stream closed before its terminal event");
    }
  }
  return { status: response.status, headers, body: Readable.from(watched(body)) };
}

/** One call through the core, logged as one structured line when its body is done. */
export async function handleHttp(
  handler: RequestHandler,
  request: HttpRequest,
  context: InvocationContext,
  workerLog: LogSink,
): Promise<HttpResponseInit> {
  const routerRequest = toRouterRequest(request);
  const handled = await handler.handle(routerRequest);
  let returned = false;
  const response = toHttpResponse(handled, routerRequest.method, (summary) => {
    const line = JSON.stringify(callFields(summary, { invocationId: context.invocationId }));
    const level = callLevel(summary);
    // Once the function has returned, the invocation's logger is closed: a streamed call's line goes
    // to the worker's log instead, still carrying its invocation id.
    if (returned) workerLog[level](callFields(summary, { invocationId: context.invocationId }), callMessage(summary));
    else if (level === "warn") context.warn(line);
    else context.info(line);
  });
  returned = true;
  return response;
}
