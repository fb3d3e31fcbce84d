// Reads the id of an object a call created from the answer as it passes: the `id` of a JSON
// answer, or of the response in a stream's first event (`response.created`). Only the head of the
// body is looked at, chunks go on to the caller untouched and unbuffered, and only calls that
// create a stored object pay for it.

import type { ResponseBody } from "./http";
import { isObjectId } from "./storedObject";

/** Azure puts the id first; the first event of a stream is small. Past this much the id is not looked for. */
const headBytes = 16 * 1024;

/** An `"id": "…"` pair; global, so each search starts it again from `lastIndex = 0`. */
const idPair = /"id"\s*:\s*"([^"\\]{1,200})"/g;

/** The first `"id": "<prefix>…"` in `text`, or `undefined`. */
export function findCreatedId(text: string, prefix: string): string | undefined {
  const key = idPair;
  key.lastIndex = 0;
  for (let match = key.exec(text); match !== null; match = key.exec(text)) {
    const id = match[1] as string;
    if (id.startsWith(prefix) && isObjectId(id)) return id;
  }
  return undefined;
}

/** `body`, passed through; `onId` is told the created object's id once it has gone by. */
export function watchCreatedId(body: ResponseBody, prefix: string, onId: (id: string) => void): ResponseBody {
  if (body === undefined) return body;
  if (body instanceof Uint8Array) {
    const id = findCreatedId(Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, headBytes)).toString("utf8"), prefix);
    if (id !== undefined) onId(id);
    return body;
  }
  return watched(body, prefix, onId);
}

async function* watched(body: AsyncIterable<Uint8Array>, prefix: string, onId: (id: string) => void): AsyncIterable<Uint8Array> {
  let head = "";
  let looking = true;
  for await (const chunk of body) {
    if (looking) {
      head += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
      const id = findCreatedId(head, prefix);
      if (id !== undefined) onId(id);
      if (id !== undefined || head.length >= headBytes) {
        looking = false;
        head = "";
      }
    }
    yield chunk;
  }
}
