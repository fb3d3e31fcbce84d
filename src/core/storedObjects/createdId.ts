// Reads the ids of stored objects from an answer as it passes: the `id` of an object a call created
// (a JSON answer's, or the response's in a stream's first event), and the files a batch made
// (`output_file_id`, `error_file_id`). Only the head of the body is looked at; the chunk that shows
// an id is held until its owner record is written (`onIds` settles), so the caller can never name
// an id before every instance can find whose it is. Other chunks go on untouched and unbuffered,
// and only calls on stored objects pay for any of it.

import type { ResponseBody } from "../request/exchange";
import { isObjectId } from "./storedObject";

/** Azure puts the id first; the first event of a stream is small. Past this much no id is looked for. */
const headBytes = 16 * 1024;

/** An `"id": "…"` pair; global, so each search starts it again from `lastIndex = 0`. */
const idPair = /"id"\s*:\s*"([^"\\]{1,200})"/g;
/** The files a batch made. */
const batchFilePair = /"(?:output_file_id|error_file_id)"\s*:\s*"([^"\\]{1,200})"/g;

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

/** The files a batch object names (`output_file_id`, `error_file_id`). */
export function findBatchFiles(text: string): string[] {
  const ids: string[] = [];
  const key = batchFilePair;
  key.lastIndex = 0;
  for (let match = key.exec(text); match !== null; match = key.exec(text)) {
    const id = match[1] as string;
    if (id.startsWith("file-") && isObjectId(id)) ids.push(id);
  }
  return ids;
}

/** What to look for in a head: the ids seen so far, and whether more may follow. */
export type IdScan = (head: string) => { ids: readonly string[]; done: boolean };

export const createdIdScan =
  (prefix: string): IdScan =>
  (head) => {
    const id = findCreatedId(head, prefix);
    return id === undefined ? { ids: [], done: false } : { ids: [id], done: true };
  };

export const batchFilesScan: IdScan = (head) => ({ ids: findBatchFiles(head), done: false });

/**
 * `body`, passed through; `onIds` gets each id once, and the chunk that shows it waits for `onIds`
 * to settle. A body already in memory is scanned whole (the caller of this waits for `onIds`).
 */
export function watchIds(
  body: ResponseBody,
  scan: IdScan,
  onIds: (ids: readonly string[]) => Promise<void>,
): { body: ResponseBody; settled: Promise<void> } {
  if (body === undefined) return { body, settled: Promise.resolve() };
  if (body instanceof Uint8Array) {
    const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, headBytes)).toString("utf8");
    const { ids } = scan(head);
    return { body, settled: ids.length > 0 ? onIds(ids) : Promise.resolve() };
  }
  return { body: watched(body, scan, onIds), settled: Promise.resolve() };
}

async function* watched(
  body: AsyncIterable<Uint8Array>,
  scan: IdScan,
  onIds: (ids: readonly string[]) => Promise<void>,
): AsyncIterable<Uint8Array> {
  let head = "";
  let looking = true;
  const told = new Set<string>();
  for await (const chunk of body) {
    if (looking) {
      head += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
      const { ids, done } = scan(head);
      const fresh = ids.filter((id) => !told.has(id));
      for (const id of fresh) told.add(id);
      if (fresh.length > 0) await onIds(fresh);
      if (done || head.length >= headBytes) {
        looking = false;
        head = "";
      }
    }
    yield chunk;
  }
}
