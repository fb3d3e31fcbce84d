// Recorded exchanges with a real Azure OpenAI resource, and their replay by the simulator: a user
// with an Azure account records what their resource answers (scripts/recordAzure.ts, docs/
// operations.md) and turns it into a test fixture. A fixture holds, per exchange, the request
// (method, path and query without secrets, the body) and the answer (status, headers without
// secrets, the body — as chunks with their times for a stream). Fixture files are input like any
// other: decoded with a schema, never trusted.

import type { ServerResponse } from "node:http";
import { z } from "zod";

const chunk = z.object({ atMs: z.number().nonnegative(), data: z.string() });

export const recordedExchange = z.object({
  request: z.object({ method: z.string(), path: z.string(), body: z.string().optional() }),
  response: z.object({
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()),
    /** Time to the answer's headers. */
    headersMs: z.number().nonnegative(),
    /** The body as it arrived: one chunk for a JSON answer, each event's chunk for a stream. */
    chunks: z.array(chunk),
  }),
});

export type RecordedExchange = z.infer<typeof recordedExchange>;

export const fixtureFile = z.object({
  /** Where it was recorded (a resource's host name, never a key) and when. */
  recordedFrom: z.string(),
  recordedAt: z.string(),
  exchanges: z.array(recordedExchange),
});

export type Fixture = z.infer<typeof fixtureFile>;

/** Request headers never recorded: credentials, and what only one connection means. */
const secretRequestHeaders = new Set(["api-key", "authorization", "cookie", "ocp-apim-subscription-key"]);
/** Answer headers never recorded or replayed: hop-by-hop ones, and anything that identifies the caller. */
const droppedResponseHeaders = new Set(["set-cookie", "connection", "keep-alive", "transfer-encoding", "content-length", "date"]);

/** Query parameters that carry secrets in some clients: removed from recorded paths. */
const secretQuery = /^(api-key|sig|code|key|subscription-key)$/i;

/** The path and query of `url` without secret parameters, in a stable order. */
export function recordablePath(url: string): string {
  const [path, query = ""] = url.split("?");
  const params = new URLSearchParams(query);
  for (const name of [...params.keys()]) if (secretQuery.test(name)) params.delete(name);
  params.sort();
  const rest = params.toString();
  return rest ? `${path}?${rest}` : (path ?? "/");
}

/** An answer's headers as recorded: no secrets, nothing hop-by-hop, repeated values joined. */
export function recordableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || droppedResponseHeaders.has(lower) || secretRequestHeaders.has(lower)) continue;
    out[lower] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Answers recorded exchanges in the order they match: same method, path and query (secrets aside) and, when recorded, the same body. */
export class ReplayBook {
  private readonly used = new Set<RecordedExchange>();

  constructor(private readonly exchanges: readonly RecordedExchange[]) {}

  /** The first exchange not yet replayed that matches, else the last one that matches (a fixture can be replayed again). */
  match(method: string, url: string, body: string): RecordedExchange | undefined {
    const path = recordablePath(url);
    const matching = this.exchanges.filter(
      (e) =>
        e.request.method === method && recordablePath(e.request.path) === path && (e.request.body === undefined || e.request.body === body),
    );
    const fresh = matching.find((e) => !this.used.has(e));
    const found = fresh ?? matching.at(-1);
    if (found) this.used.add(found);
    return found;
  }
}

/** A fixture file's exchanges, or the reason the file is not one. */
export function readFixture(text: string): Fixture {
  const parsed = fixtureFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`not a recorded fixture: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

/** Writes a recorded answer at its recorded timing, scaled by `speed` (0: at once). */
export function writeRecorded(res: ServerResponse, exchange: RecordedExchange, speed: number): void {
  const { status, headers, headersMs, chunks } = exchange.response;
  setTimeout(() => {
    if (res.destroyed) return;
    res.writeHead(status, headers);
    let sent = 0;
    const next = (): void => {
      const chunk = chunks[sent++];
      if (!chunk || res.destroyed) {
        res.end();
        return;
      }
      res.write(chunk.data);
      const following = chunks[sent];
      setTimeout(next, following ? Math.max(0, (following.atMs - chunk.atMs) * speed) : 0);
    };
    next();
  }, headersMs * speed);
}
