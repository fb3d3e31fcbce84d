// Finds the `model` field of a `multipart/form-data` body (v1 audio transcriptions and
// translations carry the deployment there). Only part headers are read; file contents are jumped
// over with `indexOf` on the boundary.

import type { ModelField, ModelScan } from "./jsonModel";

/** The boundary named by a `multipart/form-data` content type, or `undefined`. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

const headerEnd = Buffer.from("\r\n\r\n");

/** The `model` part's value (`start`..`end` covers the value bytes alone). */
export function findMultipartModel(body: Uint8Array, boundary: string): ModelScan {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = buf.indexOf(delimiter);
  if (pos === -1) return { kind: "absent" };
  let found: ModelField | undefined;
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter closes the body.
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break;
    const headersStart = pos;
    const headersEnd = buf.indexOf(headerEnd, headersStart);
    if (headersEnd === -1) break;
    const valueStart = headersEnd + headerEnd.length;
    const valueEnd = buf.indexOf(next, valueStart);
    if (valueEnd === -1) break;
    if (isModelPart(buf.toString("latin1", headersStart, headersEnd))) {
      if (found) return { kind: "duplicate" };
      found = { value: buf.toString("utf8", valueStart, valueEnd), start: valueStart, end: valueEnd };
    }
    pos = valueEnd + 2; // at the next delimiter
  }
  return found ? { kind: "found", field: found } : { kind: "absent" };
}

function isModelPart(headers: string): boolean {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    return /;\s*name\s*=\s*(?:"model"|model(?:\s*;|\s*$))/i.test(line.slice(colon + 1));
  }
  return false;
}
