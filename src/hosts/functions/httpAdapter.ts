// The Azure Functions host as an adapter: HttpRequest in, the core's handler, HttpResponseInit out.
// No routing logic here; bodies stream both ways (app.setup enables HTTP streams).

import { Readable } from "node:stream";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CallSummary } from "../../core/events";
import { isEventStream } from "../../core/headers";
import type { BodyEnd, HandledCall, IncomingHeaders, RouterRequest } from "../../core/http";
import type { RequestHandler } from "../../core/router";
import { callFields, callLevel, callMessage, type LogSink } from "../eventLog";
import { BodyMeter, brokenStreamEvent, discardBody } from "../responseBody";

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
  const finish = (end: BodyEnd) => {
    const summary = handled.bodyDone?.(end) ?? handled.summary;
    if (summary) done(summary);
  };
  if (method === "HEAD" || body === undefined || body instanceof Uint8Array) {
    if (!(body instanceof Uint8Array)) discardBody(body);
    finish({ bytes: 0, error: undefined, callerGone: false });
    return method === "HEAD" || body === undefined ? { status: response.status, headers } : { status: response.status, headers, body };
  }
  const sse = isEventStream(response.headers);
  async function* watched(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const meter = new BodyMeter(sse);
    let ended = false;
    // An error thrown in at a `yield` comes from the reader's side (the host destroyed the stream
    // because the caller left); one from the loop's `next()` is the backend's body failing.
    let atYield = false;
    try {
      for await (const chunk of source) {
        meter.count(chunk);
        atYield = true;
        yield chunk;
        atYield = false;
      }
      ended = true;
      finish(meter.end(undefined, false));
      // Closed before its terminal event: the caller must see a break, not a clean end.
      if (sse && !meter.terminated) {
        if (meter.atEventBoundary) yield brokenStreamEvent;
        throw new Error("the backend's stream closed before its terminal event");
      }
    } catch (error) {
      if (ended) throw error;
      ended = true;
      if (atYield) {
        finish(meter.end(error, true));
        throw error;
      }
      finish(meter.end(error, false));
      if (sse && meter.atEventBoundary) yield brokenStreamEvent;
      throw error;
    } finally {
      // The host stopped reading before the end: the caller went away.
      if (!ended) finish(meter.end(new Error("the caller went away"), true));
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
