// What both hosts do with a backend's streamed body on its way to the caller: count the bytes,
// notice how it ended, and when it breaks after the first byte, make that visible — for server-sent
// events an `error` event in the Azure error shape (where the stream is between events) — and then
// cut the caller's connection, never a clean end that would pass a short answer for a whole one.

import type { BodyEnd } from "../core/http";
import { usageTailBytes } from "../core/tokenUsage";

/** The SSE event sent before cutting a broken stream; the official SDKs raise it as an API error. */
export const brokenStreamEvent = Buffer.from(
  `event: error\ndata: ${JSON.stringify({
    error: { code: "BackendStreamBroken", message: "The backend's stream broke before its end. Retry the call." },
  })}\n\n`,
);

/** Frees a backend body that will not be sent (HEAD, or a caller already gone). */
export function discardBody(body: unknown): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}

/** Tracks bytes and whether the bytes so far end between two server-sent events. */
export class BodyMeter {
  bytes = 0;
  /** `data:` lines seen, counted only for server-sent events. */
  private events = 0;
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
    }
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

  end(error: unknown, callerGone: boolean): BodyEnd {
    return { bytes: this.bytes, error, callerGone, tail: this.tailText(), events: this.events };
  }
}
