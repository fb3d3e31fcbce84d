// Reads a `multipart/form-data` body's parts without copying it: the `model` field (v1 audio
// transcriptions and translations carry the deployment there), and any named part for the
// allow-lists (a batch file's `purpose` and its lines). Only part headers are read; file contents
// are jumped over with `indexOf` on the boundary.

import type { ModelField, ModelScan } from "./jsonModel";

/**
 * The boundary named by a `multipart/form-data` content type, `undefined` for another type, or
 * `"ambiguous"` when the type names more than one boundary (the router and a backend could split
 * the body differently).
 */
export function multipartBoundary(contentType: string): string | "ambiguous" | undefined {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const pattern = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/gi;
  const match = pattern.exec(contentType);
  if (match && pattern.exec(contentType) !== null) return "ambiguous";
  return match?.[1] ?? match?.[2];
}

const headerEnd = Buffer.from("\r\n\r\n");

/** One part: its `name` (from Content-Disposition) and where its value's bytes are. */
export interface MultipartPart {
  name: string | undefined;
  start: number;
  end: number;
}

/** The parts of `body`, in order. */
export function* multipartParts(body: Uint8Array, boundary: string): Generator<MultipartPart> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = buf.indexOf(delimiter);
  if (pos === -1) return;
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter closes the body.
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return;
    const headersStart = pos;
    const headersEnd = buf.indexOf(headerEnd, headersStart);
    if (headersEnd === -1) return;
    const valueStart = headersEnd + headerEnd.length;
    const valueEnd = buf.indexOf(next, valueStart);
    if (valueEnd === -1) return;
    yield { name: partName(buf.toString("latin1", headersStart, headersEnd)), start: valueStart, end: valueEnd };
    pos = valueEnd + 2; // at the next delimiter
  }
}

/** The `model` part's value (`start`..`end` covers the value bytes alone). */
export function findMultipartModel(body: Uint8Array, boundary: string): ModelScan {
  let found: ModelField | undefined;
  for (const part of multipartParts(body, boundary)) {
    if (part.name !== "model") continue;
    if (found) return { kind: "duplicate" };
    found = {
      value: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8", part.start, part.end),
      start: part.start,
      end: part.end,
    };
  }
  return found ? { kind: "found", field: found } : { kind: "absent" };
}

function partName(headers: string): string | undefined {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    const match = /;\s*name\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(line.slice(colon + 1));
    return match?.[1] ?? match?.[2];
  }
  return undefined;
}
