// Reads a request body once, into one buffer, and stops reading past the limit, when the body
// stalls, or when the instance's budget for bodies is spent. With a declared length the buffer is
// allocated once and filled as chunks arrive, so a large upload costs its size in memory, not
// twice its size. A Node stream (the Node host's IncomingMessage) is read through its events:
// cheaper per call than an async iterator and a race per chunk.

import type { BodyBudget } from "./bodyBudget";
import type { StallWatch } from "./stallWatch";

/**
 * A body that could not be read: it stalled (`timeout`), the caller's stream failed (`aborted`), or
 * it does not fit in what this instance may hold of request bodies now (`busy`).
 */
export class BodyReadError extends Error {
  constructor(
    readonly kind: "timeout" | "aborted" | "busy",
    message: string,
  ) {
    super(message);
    this.name = "BodyReadError";
  }
}

/** What the caller holds of the budget while its body lives; given back when the call is done. */
export interface BodyHold {
  budget: BodyBudget;
  bytes: number;
}

/** A source read through events, as Node streams are. */
interface EventSource {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  once(event: "end" | "close", listener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  readonly readableEnded?: boolean;
}

export interface BodyLimits {
  limit: number;
  declaredLength: number | undefined;
  watch: StallWatch;
  hold?: BodyHold;
}

/**
 * The body's bytes, or `undefined` when it is longer than `limit`. Throws `BodyReadError` when no
 * chunk arrives for the watch's stall time, the source fails, or the budget has no room. Bytes
 * taken from the budget are added to `hold` (the declared length up front, else chunk by chunk).
 */
export function readBodyWithin(source: AsyncIterable<Uint8Array> | undefined, limits: BodyLimits): Promise<Buffer | undefined> {
  const { limit, declaredLength } = limits;
  if (declaredLength !== undefined && declaredLength > limit) return Promise.resolve(undefined);
  if (source === undefined) return Promise.resolve(Buffer.alloc(0));
  let body: Accumulator;
  try {
    body = new Accumulator(limits);
  } catch (error) {
    return Promise.reject(error);
  }
  return isEventSource(source) ? readEvents(source, body, limits.watch) : readIterable(source, body, limits.watch);
}

function isEventSource(source: unknown): source is EventSource {
  const s = source as Partial<EventSource>;
  return typeof s.on === "function" && typeof s.once === "function" && typeof s.removeListener === "function";
}

function readEvents(source: EventSource, body: Accumulator, watch: StallWatch): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const finish = (error: BodyReadError | undefined, value?: Buffer) => {
      watched.done();
      source.removeListener("data", onData);
      source.removeListener("end", onEnd);
      source.removeListener("error", onError);
      source.removeListener("close", onClose);
      if (error) reject(error);
      else resolve(value);
    };
    const watched = watch.watch(() => finish(new BodyReadError("timeout", "the request body stalled or arrived too slowly")));
    const onData = (chunk: Uint8Array) => {
      watched.touch(chunk.byteLength);
      try {
        // Past the limit: stop listening at once; a client streaming gigabytes costs nothing more.
        if (!body.add(chunk)) finish(undefined, undefined);
      } catch (error) {
        finish(error as BodyReadError);
      }
    };
    const onEnd = () => finish(undefined, body.result());
    const onError = (error: Error) => finish(new BodyReadError("aborted", error.message));
    // Closed before its end: the caller went away mid-upload.
    const onClose = () => {
      if (!source.readableEnded) finish(new BodyReadError("aborted", "the caller closed the connection during the upload"));
    };
    source.on("data", onData);
    source.once("end", onEnd);
    source.once("error", onError);
    source.once("close", onClose);
  });
}

async function readIterable(source: AsyncIterable<Uint8Array>, body: Accumulator, watch: StallWatch): Promise<Buffer | undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let stall: (error: BodyReadError) => void = () => {};
  const stalled = new Promise<never>((_, reject) => {
    stall = reject;
  });
  stalled.catch(() => {});
  const watched = watch.watch(() => stall(new BodyReadError("timeout", "the request body stalled or arrived too slowly")));
  let done = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await Promise.race([iterator.next(), stalled]);
      } catch (error) {
        if (error instanceof BodyReadError) throw error;
        throw new BodyReadError("aborted", error instanceof Error ? error.message : String(error));
      }
      if (step.done) {
        done = true;
        return body.result();
      }
      watched.touch(step.value.byteLength);
      if (!body.add(step.value)) return undefined;
    }
  } finally {
    watched.done();
    if (!done) void iterator.return?.()?.catch(() => {});
  }
}

/** The bytes so far, within the limit and the budget. */
class Accumulator {
  private readonly exact: Buffer | undefined;
  private filled = 0;
  private readonly rest: Uint8Array[] = [];
  private total = 0;

  constructor(private readonly limits: BodyLimits) {
    const declared = limits.declaredLength;
    if (declared !== undefined && declared > 0) {
      this.take(declared);
      this.exact = Buffer.allocUnsafe(declared);
    }
  }

  /** Adds a chunk; false when the body is now longer than the limit. */
  add(chunk: Uint8Array): boolean {
    const n = chunk.byteLength;
    if (this.total + n > this.limits.limit) return false;
    const declared = this.limits.declaredLength;
    this.total += n;
    if (declared === undefined || this.total > declared) this.take(n);
    const exact = this.exact;
    if (exact && this.rest.length === 0 && this.filled + n <= exact.length) {
      exact.set(chunk, this.filled);
      this.filled += n;
    } else {
      this.rest.push(chunk);
    }
    return true;
  }

  result(): Buffer {
    const exact = this.exact;
    if (exact) {
      if (this.rest.length === 0) return this.filled === exact.length ? exact : exact.subarray(0, this.filled);
      this.rest.unshift(exact.subarray(0, this.filled));
    }
    const first = this.rest[0];
    if (this.rest.length === 1 && Buffer.isBuffer(first)) return first;
    return Buffer.concat(this.rest, this.total);
  }

  private take(bytes: number): void {
    const hold = this.limits.hold;
    if (!hold) return;
    if (!hold.budget.tryTake(bytes)) throw new BodyReadError("busy", "request bodies in flight fill this instance's budget");
    hold.bytes += bytes;
  }
}
