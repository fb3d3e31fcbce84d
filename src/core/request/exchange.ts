// The one request/response shape the core speaks; each host adapts its own objects to it.

import type { CallSummary } from "../events";

/** Incoming headers as Node keeps them: lower-case names, repeated headers as arrays. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Outgoing headers: lower-case names. */
export type OutgoingHeaders = Record<string, string | string[]>;

/** A response body: bytes the router made, or a stream passed through untouched. */
export type ResponseBody = Uint8Array | AsyncIterable<Uint8Array> | undefined;

/**
 * Tells that the caller went away. An AbortSignal does; so does any EventEmitter with `aborted`
 * that emits "abort" — what the Node host uses, as an AbortController per call costs more than
 * the rest of the router's own work on a request.
 */
export type CallerSignal = AbortSignal | { readonly aborted: boolean; on(event: "abort", listener: () => void): unknown };

export interface RouterRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path and query exactly as received, e.g. `/openai/deployments/d/chat/completions?api-version=…`. */
  readonly url: string;
  readonly headers: IncomingHeaders;
  /** The body as a byte stream; read at most once. */
  readonly body: AsyncIterable<Uint8Array> | undefined;
  /** Aborted when the caller goes away; cancels the upstream call. */
  readonly signal: CallerSignal | undefined;
}

export interface RouterResponse {
  status: number;
  headers: OutgoingHeaders;
  body: ResponseBody;
}

/** How a streamed body ended, as the host saw it while sending it. */
export interface BodyEnd {
  /** Body bytes written to the caller. */
  bytes: number;
  /** Set when the backend's body failed before its end. */
  error: unknown;
  /** The caller went away first: not the backend's fault. */
  callerGone: boolean;
  /**
   * The last bytes of the body as text (up to `usageTailBytes`), where a backend reports `usage`;
   * absent when nobody needs the call's tokens (no client charge, no capacity gate, no log line with them).
   */
  tail?: string;
  /** Server-sent events seen (`data:` lines), for an estimate when a stream reports no usage. */
  events?: number;
  /** The body was server-sent events (the host decided it once, from the answer's content type). */
  sse?: boolean;
  /** Server-sent events only: the stream carried an `error` event (the backend answered, with an error). */
  streamError?: boolean;
  /** Server-sent events only: the stream reached its terminal event (`[DONE]`, `response.completed`, …). */
  terminated?: boolean;
}

/** A call's answer and, beside it, its record for the host's per-call log line. */
export interface HandledCall {
  response: RouterResponse;
  /** Absent for /health and /status. */
  summary?: CallSummary;
  /**
   * Present when the body is a backend's stream: the host calls it once when the body is done,
   * and logs the summary it returns. A body that broke counts against the backend that sent it.
   */
  bodyDone?(end: BodyEnd): CallSummary;
  /** The core needs the answer's usage: a client's charge settles to it, or a deployment's gate learns from it. */
  needsUsage?: boolean;
}

/** First value of a header that may repeat. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Frees a backend body that will not be sent (HEAD, a caller already gone, an answer replaced). */
export function discardBody(body: unknown): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}
