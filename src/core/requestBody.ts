// Reads a request body once, into one buffer, and stops reading past the limit.

/** The body's bytes, or `undefined` when it is longer than `limit`. */
export async function readBodyWithin(
  source: AsyncIterable<Uint8Array> | undefined,
  limit: number,
  declaredLength?: number,
): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && declaredLength > limit) return undefined;
  if (source === undefined) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    // Stop pulling as soon as the limit is passed: a client streaming gigabytes costs us nothing more.
    if (total > limit) return undefined;
    chunks.push(chunk);
  }
  return chunks.length === 1 && Buffer.isBuffer(chunks[0]) ? chunks[0] : Buffer.concat(chunks, total);
}
