// A backend's answer read whole when it is small enough (an error answer, to read its code; a list
// page, to filter it), or — past the limit — passed on as a stream again, or dropped.

/** Error answers are small: a larger body is no "not found" and is passed on as a stream. */
const smallBodyBytes = 64 * 1024;

/** A small answer's whole body (to read its error code), or the body as a stream again when it is larger. */
export async function readSmallBody(body: AsyncIterable<Uint8Array>): Promise<Buffer | AsyncIterable<Uint8Array>> {
  const read = await readUpTo(body, smallBodyBytes);
  return read.whole ?? replay(read.chunks, read.rest);
}

/** A body's bytes when it holds at most `limit`, else `undefined` — and the body is let go. */
export async function readWithin(body: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer | undefined> {
  const read = await readUpTo(body, limit);
  if (read.whole) return read.whole;
  await read.rest.return?.();
  return undefined;
}

async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ whole: Buffer; chunks?: never; rest?: never } | { whole?: undefined; chunks: Uint8Array[]; rest: AsyncIterator<Uint8Array> }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { whole: Buffer.concat(chunks) };
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) return { chunks, rest: iterator };
  }
}

async function* replay(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    yield* chunks;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // A reader that stops early lets the backend's body go too.
    await rest.return?.();
  }
}
