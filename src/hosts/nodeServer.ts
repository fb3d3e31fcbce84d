// The plain Node host: node:http in, the core's handler, node:http out. Bodies stream both ways.

import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { CallSummary } from "../core/events";
import type { RouterResponse } from "../core/http";
import type { RequestHandler } from "../core/router";

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

/** Called with each call's summary, for a per-call log line. */
export type CallLogger = (summary: CallSummary) => void;

export function nodeRequestListener(handler: RequestHandler, onCall?: CallLogger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const gone = new CallerGone();
    // 'close' before the response finished means the caller went away: cancel the upstream call.
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
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
      .then((response) => {
        if (onCall && response.summary) onCall(response.summary);
        writeResponse(res, response, method);
      })
      .catch(() => res.destroy());
  };
}

function writeResponse(res: ServerResponse, response: RouterResponse, method: string): void {
  if (res.destroyed) {
    destroyBody(response);
    return;
  }
  res.writeHead(response.status, response.headers);
  const body = response.body;
  if (body === undefined || method === "HEAD") {
    destroyBody(response);
    res.end();
  } else if (body instanceof Uint8Array) {
    res.end(body);
  } else {
    pipeBody(body instanceof Readable ? body : Readable.from(body), res);
  }
}

// Chunk by chunk as the backend sends them, with backpressure. Readable.pipe rather than
// stream.pipeline: pipeline allocates and aborts an AbortController per call, which the
// benchmark showed as ~8% of the router's CPU. An error mid-stream cuts the caller's connection;
// a caller that leaves stops the upstream body.
function pipeBody(body: Readable, res: ServerResponse): void {
  body.once("error", () => res.destroy());
  res.once("close", () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(res);
}

function destroyBody(response: RouterResponse): void {
  const body = response.body as { destroy?: () => void } | undefined;
  body?.destroy?.();
}

export async function startNodeServer(
  handler: RequestHandler,
  options: { host: string; port: number; onCall?: CallLogger },
): Promise<NodeServer> {
  const server = createServer({ keepAliveTimeout: 65_000 }, nodeRequestListener(handler, options.onCall));
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
