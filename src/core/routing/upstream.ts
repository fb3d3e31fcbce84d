// The seam to backends: send one attempt, get status, headers and a body stream.
// The undici adapter implements it; the core never opens a socket itself.

import type { CallerSignal, IncomingHeaders, OutgoingHeaders } from "../request/exchange";

/** A request body: one buffer, or pieces sent in order (with a `content-length` header set for them). */
export type RequestBody = Uint8Array | readonly Uint8Array[];

/** Bytes in a request body. */
export function bodyLength(body: RequestBody): number {
  if (body instanceof Uint8Array) return body.byteLength;
  let n = 0;
  for (const piece of body) n += piece.byteLength;
  return n;
}

/** A request body as one buffer (for tests and logs; the hot path never joins pieces). */
export function bodyBytes(body: RequestBody): Buffer {
  return body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.concat(body);
}

export interface UpstreamRequest {
  method: string;
  /** Path and query, base path of the backend already applied. */
  path: string;
  headers: OutgoingHeaders;
  body: RequestBody | undefined;
  /** The caller's signal: aborting it cancels the attempt and its body. */
  signal: CallerSignal | undefined;
  /** Give up on the attempt when response headers take longer than this. */
  headersTimeoutMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHeaders;
  /** The body, streamed as the backend sends it. */
  body: AsyncIterable<Uint8Array>;
  /** Frees the connection when the body will not be read (a failed attempt). */
  discard(): void;
}

export type UpstreamFailureKind = "connectionError" | "timeout" | "aborted";

/** A failed attempt that produced no response. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UpstreamError";
  }
}

export interface Upstream {
  /** Sends one attempt to `origin`. Rejects with `UpstreamError` when no response arrives. */
  send(origin: string, request: UpstreamRequest): Promise<UpstreamResponse>;
  close?(): Promise<void>;
}
