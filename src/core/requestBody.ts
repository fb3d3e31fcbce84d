// Reads a request body once, into one buffer, and stops reading past the limit or when the body
// stalls. With a declared length the buffer is allocated once and filled as chunks arrive, so a
// large upload costs its size in memory, not twice its size.

import type { BodyBudget } from "./bodyBudget";

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

/**
 * The body's bytes, or `undefined` when it is longer than `limit`. Throws `BodyReadError` when no
 * chunk arrives for `idleTimeoutMs`, the source fails, or the budget has no room. Bytes taken from
 * the budget are added to `hold` (the declared length up front, else chunk by chunk).
 */
export async function readBodyWithin(
  source: AsyncIterable<Uint8Array> | undefined,
  limit: number,
  declaredLength: number | undefined,
  idleTimeoutMs: number,
  hold?: BodyHold,
): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && declaredLength > limit) return undefined;
  if (source === undefined) return Buffer.alloc(0);
  const take = (bytes: number) => {
    if (!hold) return;
    if (!hold.budget.tryTake(bytes)) throw new BodyReadError("busy", "request bodies in flight fill this instance's budget");
    hold.bytes += bytes;
  };
  if (declaredLength !== undefined && declaredLength > 0) take(declaredLength);
  const iterator = source[Symbol.asyncIterator]();
  const exact = declaredLength !== undefined && declaredLength > 0 ? Buffer.allocUnsafe(declaredLength) : undefined;
  let filled = 0;
  const rest: Uint8Array[] = [];
  let total = 0;
  let done = false;
  let timedOut: (error: BodyReadError) => void = () => {};
  const stalled = new Promise<never>((_, reject) => {
    timedOut = reject;
  });
  stalled.catch(() => {});
  const timer = setTimeout(() => timedOut(new BodyReadError("timeout", "the request body stalled")), idleTimeoutMs);
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
        break;
      }
      timer.refresh();
      const chunk = step.value;
      // Stop pulling as soon as the limit is passed: a client streaming gigabytes costs us nothing more.
      if (total + chunk.byteLength > limit) return undefined;
      total += chunk.byteLength;
      if (declaredLength === undefined || total > declaredLength) take(chunk.byteLength);
      if (exact && rest.length === 0 && filled + chunk.byteLength <= exact.length) {
        exact.set(chunk, filled);
        filled += chunk.byteLength;
      } else {
        rest.push(chunk);
      }
    }
  } finally {
    clearTimeout(timer);
    if (!done) void iterator.return?.()?.catch(() => {});
  }
  if (exact) {
    if (rest.length === 0) return filled === exact.length ? exact : exact.subarray(0, filled);
    rest.unshift(exact.subarray(0, filled));
  }
  if (rest.length === 1 && Buffer.isBuffer(rest[0])) return rest[0];
  return Buffer.concat(rest, total);
}
