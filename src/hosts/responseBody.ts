// What both hosts do with a backend's streamed body on its way to the caller: count the bytes,
// notice how it ended, and when it breaks after the first byte, make that visible — for server-sent
// events an `error` event in the Azure error shape (where the stream is between events) — and then
// cut the caller's connection, never a clean end that would pass a short answer for a whole one.

import { usageTailBytes } from "../core/clients/tokenUsage";
import type { CallSummary } from "../core/events";
import type { BodyEnd, HandledCall } from "../core/request/exchange";
import { isEventStream } from "../core/request/headers";

/** The SSE event sent before cutting a broken stream; the official SDKs raise it as an API error. */
export const brokenStreamEvent = Buffer.from(
  `event: error\ndata: ${JSON.stringify({
    error: { code: "BackendStreamBroken", message: "The backend's stream broke before its end. Retry the call." },
  })}\n\n`,
);

const eventField = Buffer.from("event:");
const dataError = Buffer.from('data: {"error"');
/** Responses streams end with one of these events; chat and completions streams with `data: [DONE]`. */
const terminalEvents = new Set(["response.completed", "response.failed", "response.incomplete", "done"]);

/**
 * Tracks bytes and whether the bytes so far end between two server-sent events; for server-sent
 * events, whether the stream carried an `error` event and whether it reached its terminal event.
 */
export class BodyMeter {
  bytes = 0;
  /** `data:` lines seen, counted only for server-sent events. */
  private events = 0;
  /** An `error` event (or a `data: {"error": …}` chunk) went by. */
  private sawError = false;
  /** A Responses stream's terminal event went by (`[DONE]` is read from the tail at the end). */
  private sawTerminal = false;
  /** The last four bytes seen, oldest in the high byte; starts as if after a blank line. */
  private tail = 0x0a0a;
  /** The last two chunks, by reference (no copy): the body's tail, where `usage` is. */
  private last: Uint8Array | undefined;
  private beforeLast: Uint8Array | undefined;

  constructor(private readonly sse = false) {}

  count(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    this.bytes += n;
    for (let i = Math.max(0, n - 4); i < n; i++) this.tail = ((this.tail << 8) | (chunk[i] ?? 0)) >>> 0;
    this.beforeLast = this.last;
    this.last = chunk;
    if (this.sse) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = buf.indexOf("data:"); at !== -1; at = buf.indexOf("data:", at + 5)) this.events++;
      // Chat streams have no `event:` lines at all: one native scan per chunk, nothing more.
      for (let at = buf.indexOf(eventField); at !== -1; at = buf.indexOf(eventField, at + 6)) this.readEventName(buf, at + 6);
      if (!this.sawError && buf.indexOf(dataError) !== -1) this.sawError = true;
    }
  }

  private readEventName(buf: Buffer, from: number): void {
    const lineEnd = buf.indexOf(0x0a, from);
    const name = buf.toString("latin1", from, lineEnd === -1 ? Math.min(buf.length, from + 40) : lineEnd).trim();
    if (name === "error") this.sawError = true;
    else if (terminalEvents.has(name)) this.sawTerminal = true;
  }

  /** Whether the stream so far reached its terminal event: `data: [DONE]`, or a Responses stream's last event. */
  get terminated(): boolean {
    if (this.sawTerminal) return true;
    // A Responses stream's last event line may have been cut across chunks: the tail has it whole.
    return /\[DONE\]|event:\s*response\.(?:completed|failed|incomplete)\b/.test(this.tailText());
  }

  /** The body's last bytes as text: only read once, at its end. */
  private tailText(): string {
    const pieces = [this.beforeLast, this.last].filter((p): p is Uint8Array => p !== undefined);
    const joined =
      pieces.length === 1
        ? Buffer.from((pieces[0] as Uint8Array).buffer, (pieces[0] as Uint8Array).byteOffset, (pieces[0] as Uint8Array).byteLength)
        : Buffer.concat(pieces);
    return joined.toString("utf8", Math.max(0, joined.length - usageTailBytes));
  }

  /** An event ends with a blank line: "\n\n", or "\r\n\r\n". */
  get atEventBoundary(): boolean {
    return (this.tail & 0xffff) === 0x0a0a || this.tail === 0x0d0a0d0a;
  }

  /** How the body ended; with its tail only when `withTail` (someone needs the call's tokens). */
  end(error: unknown, callerGone: boolean, withTail: boolean): BodyEnd {
    const end: BodyEnd = { bytes: this.bytes, error, callerGone, tail: withTail ? this.tailText() : undefined, events: this.events };
    if (this.sse) {
      end.sse = true;
      end.streamError = this.sawError;
      end.terminated = this.terminated;
    }
    return end;
  }
}

/**
 * The one end-of-body reporter both hosts use: decides once whether the body is server-sent
 * events, meters every chunk, and reports how the body ended — to the call's `bodyDone` and its
 * log line — exactly once, whatever happens after (a close after a cut, a caller gone after an end).
 */
export class BodyReporter {
  readonly sse: boolean;
  private readonly meter: BodyMeter;
  private reported = false;

  /** `tokensLogged`: the host's call line shows the call's tokens, so they are read even when the core needs none. */
  constructor(
    private readonly handled: HandledCall,
    private readonly onCall: ((summary: CallSummary) => void) | undefined,
    private readonly tokensLogged = true,
  ) {
    this.sse = isEventStream(handled.response.headers);
    this.meter = new BodyMeter(this.sse);
  }

  chunk(chunk: Uint8Array): void {
    this.meter.count(chunk);
  }

  /** The backend's body ended; `true` when the caller must see a break (a stream short of its terminal event). */
  ended(): boolean {
    const cut = this.sse && !this.meter.terminated;
    this.report(undefined, false);
    return cut;
  }

  /** The backend's body failed. */
  failed(error: unknown): void {
    this.report(error, false);
  }

  /** The caller left before the body ended. */
  callerGone(error: unknown = new Error("the caller went away")): void {
    this.report(error, true);
  }

  /** The SSE error event to send before cutting, when the stream is between events; else nothing. */
  breakEvent(): Buffer | undefined {
    return this.sse && this.meter.atEventBoundary ? brokenStreamEvent : undefined;
  }

  private report(error: unknown, callerGone: boolean): void {
    if (this.reported) return;
    this.reported = true;
    const withTail = this.tokensLogged || this.handled.needsUsage === true;
    const final = this.handled.bodyDone?.(this.meter.end(error, callerGone, withTail)) ?? this.handled.summary;
    if (this.onCall && final) this.onCall(final);
  }
}

/** A body with nothing to stream (in memory, none, a HEAD): its end reported at once. */
export function reportWithoutStream(handled: HandledCall, callerGone: boolean, onCall: ((summary: CallSummary) => void) | undefined): void {
  const final = handled.bodyDone?.({ bytes: 0, error: undefined, callerGone }) ?? handled.summary;
  if (onCall && final) onCall(final);
}
