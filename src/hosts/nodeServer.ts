// The plain Node host: node:http in, the core's handler, node:http out. Bodies stream both ways.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream";
import type { CallSummary } from "../core/events";
import type { RouterResponse } from "../core/http";
import type { RequestHandler } from "../core/router";

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
    const controller = new AbortController();
    // 'close' before the response finished means the caller went away: cancel the upstream call.
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const method = req.method ?? "GET";
    handler
      .handle({
        method,
        url: req.url ?? "/",
        headers: req.headers,
        body: method === "GET" || method === "HEAD" ? undefined : req,
        signal: controller.signal,
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
    // Chunk by chunk as the backend sends them; an error mid-stream cuts the caller's connection.
    pipeline(body, res, (error) => {
      if (error) res.destroy();
    });
  }
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
