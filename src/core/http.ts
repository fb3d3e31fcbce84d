// The one request/response shape the core speaks; each host adapts its own objects to it.

import type { CallSummary } from "./events";

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
  /** The call's record for the host's per-call log line (absent for /health and /status). */
  summary?: CallSummary;
}

/** First value of a header that may repeat. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
