// A backend's answer read whole when it is small (an error answer, to read its code), or passed on
// as a stream again when it is not: only a few KB are ever held.

/** Error answers are small: a larger body is no "not found" and is passed on as a stream. */
const smallBodyBytes = 64 * 1024;

/** A small answer's whole body (to read its error code), or the body as a stream again when it is larger. */
export async function readSmallBody(body: AsyncIterable<Uint8Array>): Promise<Buffer | AsyncIterable<Uint8Array>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return Buffer.concat(chunks);
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > smallBodyBytes) return replay(chunks, iterator);
  }
}

async function* replay(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* chunks;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
