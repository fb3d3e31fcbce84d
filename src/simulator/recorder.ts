// A recording proxy on loopback: calls sent to it go on to a real Azure OpenAI resource (credentials
// passed through, never written down), and each exchange is kept for a fixture the simulator can
// replay (replay.ts). Streams reach the caller chunk by chunk as they are recorded.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { type RecordedExchange, recordableHeaders, recordablePath } from "./replay";

export interface Recorder {
  url: string;
  readonly exchanges: RecordedExchange[];
  close(): Promise<void>;
}

const hopByHop = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length", "expect", "upgrade"]);

export async function startRecorder(options: { target: string; port?: number; host?: string }): Promise<Recorder> {
  const exchanges: RecordedExchange[] = [];
  const target = new URL(options.target);
  const server: Server = createServer((req, res) => {
    void record(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "RecorderError", message: (error as Error).message } }));
    });
  });

  async function record(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || hopByHop.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const started = performance.now();
    const answer = await request(new URL(req.url ?? "/", target), {
      method: (req.method ?? "GET") as "GET",
      headers,
      body: body.length > 0 ? body : undefined,
    });
    const headersMs = performance.now() - started;
    const kept = recordableHeaders(answer.headers);
    res.writeHead(answer.statusCode, kept);
    const recorded: RecordedExchange["response"]["chunks"] = [];
    for await (const chunk of answer.body) {
      recorded.push({ atMs: Math.round(performance.now() - started), data: Buffer.from(chunk).toString("utf8") });
      res.write(chunk);
    }
    res.end();
    exchanges.push({
      request: {
        method: req.method ?? "GET",
        path: recordablePath(req.url ?? "/"),
        ...(body.length > 0 ? { body: body.toString("utf8") } : {}),
      },
      response: { status: answer.statusCode, headers: kept, headersMs: Math.round(headersMs), chunks: recorded },
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    exchanges,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
