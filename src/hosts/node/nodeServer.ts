// The plain Node host: node:http in, the core's handler, node:http out. Bodies stream both ways.

import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { CallSummary } from "../../core/events";
import { discardBody, type HandledCall } from "../../core/request/exchange";
import type { RequestHandler } from "../../core/routing/router";
import { BodyReporter, reportWithoutStream } from "../responseBody";

/** A caller's disconnection as undici understands it (an EventEmitter emitting "abort"), far cheaper than an AbortController. */
class CallerGone extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit("abort");
  }
}

export interface NodeServer {
  server: Server;
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** Called with each call's summary once its body is done, for a per-call log line. */
export type CallLogger = (summary: CallSummary) => void;

/** `tokensLogged`: `onCall` writes each call's tokens (default), so they are read from every answer. */
export function nodeRequestListener(
  handler: RequestHandler,
  onCall?: CallLogger,
  tokensLogged = true,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const gone = new CallerGone();
    let afterClose: (() => void) | undefined;
    // 'close' before the response finished means the caller went away: cancel the upstream call.
    // One listener for the whole call: the body's watch hooks in through `afterClose`.
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
      afterClose?.();
    });
    const method = req.method ?? "GET";
    handler
      .handle({
        method,
        url: req.url ?? "/",
        headers: req.headers,
        body: method === "GET" || method === "HEAD" ? undefined : req,
        signal: gone,
      })
      .then((handled) => {
        afterClose = writeResponse(res, handled, method, { onCall, tokensLogged });
      })
      .catch(() => res.destroy());
  };
}

/** Writes the answer; for a streamed body, returns what to do when the response closes. */
function writeResponse(
  res: ServerResponse,
  handled: HandledCall,
  method: string,
  log: { onCall: CallLogger | undefined; tokensLogged: boolean },
): (() => void) | undefined {
  const { onCall } = log;
  const { response } = handled;
  const body = response.body;
  if (res.destroyed || body === undefined || method === "HEAD" || body instanceof Uint8Array) {
    if (!(body instanceof Uint8Array)) discardBody(body);
    const gone = res.destroyed;
    if (!gone) {
      res.writeHead(response.status, response.headers);
      res.end(method === "HEAD" ? undefined : body);
    }
    reportWithoutStream(handled, gone, onCall);
    return undefined;
  }
  res.writeHead(response.status, response.headers);
  return pipeBody(body instanceof Readable ? body : Readable.from(body), res, handled, log);
}

// Chunk by chunk as the backend sends them, with backpressure. Readable.pipe rather than
// stream.pipeline: pipeline allocates and aborts an AbortController per call, which the
// benchmark showed as ~8% of the router's CPU. A break mid-stream cuts the caller's connection
// (after an SSE error event where the stream is between events); a caller that leaves stops the
// upstream body, and the router books it as the caller's doing (its signal says so).
function pipeBody(
  body: Readable,
  res: ServerResponse,
  handled: HandledCall,
  log: { onCall: CallLogger | undefined; tokensLogged: boolean },
): () => void {
  const reporter = new BodyReporter(handled, log.onCall, log.tokensLogged);
  const cut = () => {
    const event = reporter.breakEvent();
    if (event && !res.destroyed) res.write(event, () => res.destroy());
    else res.destroy();
  };
  body.on("data", (chunk: Uint8Array) => reporter.chunk(chunk));
  body.once("error", (error) => {
    reporter.failed(error);
    cut();
  });
  // A stream that ends before its terminal event is cut, never ended cleanly: a short answer must
  // not pass for a whole one. Every other body ends the response as it ends.
  body.pipe(res, { end: !reporter.sse });
  if (reporter.sse) {
    body.once("end", () => {
      // Reported before the cut: the close that follows must not read as the caller leaving.
      if (reporter.ended()) cut();
      else res.end();
    });
  }
  // The response closed: done, or cut short by the caller (a break was reported above already).
  return () => {
    if (res.writableFinished || body.readableEnded) {
      reporter.ended();
      return;
    }
    if (body.errored) reporter.failed(body.errored);
    else reporter.callerGone();
    body.destroy();
  };
}

export async function startNodeServer(
  handler: RequestHandler,
  options: { host: string; port: number; onCall?: CallLogger; tokensLogged?: boolean },
): Promise<NodeServer> {
  const server = createServer({ keepAliveTimeout: 65_000 }, nodeRequestListener(handler, options.onCall, options.tokensLogged));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Streams in flight get a moment, then go.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
