// Reads a request body once, into one buffer, and stops reading past the limit or when the body
// stalls. With a declared length the buffer is allocated once and filled as chunks arrive, so a
// large upload costs its size in memory, not twice its size.

/** A body that could not be read: it stalled (`timeout`) or the caller's stream failed (`aborted`). */
export class BodyReadError extends Error {
  constructor(
    readonly kind: "timeout" | "aborted",
    message: string,
  ) {
    super(message);
    this.name = "BodyReadError";
  }
}

/**
 * The body's bytes, or `undefined` when it is longer than `limit`. Throws `BodyReadError` when no
 * chunk arrives for `idleTimeoutMs` or the source fails.
 */
export async function readBodyWithin(
  source: AsyncIterable<Uint8Array> | undefined,
  limit: number,
  declaredLength: number | undefined,
  idleTimeoutMs: number,
): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && declaredLength > limit) return undefined;
  if (source === undefined) return Buffer.alloc(0);
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
