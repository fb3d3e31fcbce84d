// Finds the top-level `"model"` string of a JSON object body without parsing the body: one pass
// over the bytes that jumps over strings with `indexOf` (native memchr) and allocates nothing but
// the value it returns. A 200 KB chat body is mostly message text, which this skips at memory
// speed; JSON.parse would build every string of it (see the README's benchmark).

const quote = 0x22;
const backslash = 0x5c;

/** Where the top-level `model` string is: `start`..`end` covers the JSON string token, quotes included. */
export interface ModelField {
  value: string;
  start: number;
  end: number;
}

/**
 * Top-level string values that name a stored object (see storedObject.ts): the router sends such
 * a call to the object's owner. `conversation` may also be an object with an `id`.
 */
export interface BodyRefs {
  previous_response_id?: string;
  conversation?: string;
  input_file_id?: string;
  /** A batch made from a blob the router never sees (its deployments cannot be checked). */
  input_blob?: string;
}

export type ModelScan =
  | { kind: "found"; field: ModelField; refs?: BodyRefs }
  /** A JSON object without a top-level string `model`, or not a JSON object at all. */
  | { kind: "absent"; refs?: BodyRefs }
  /** Two top-level `model` keys: the router and a backend could read different ones. */
  | { kind: "duplicate" };

class Malformed extends Error {}

const noRefs: BodyRefs = Object.freeze({});
const absent: ModelScan = Object.freeze({ kind: "absent" });
const refKeys = ["previous_response_id", "conversation", "input_file_id", "input_blob"] as const;
const refKeyBytes = refKeys.map((key) => Buffer.from(key));

/** The top-level `model` of a JSON object body. Malformed JSON is `absent`: the backend will refuse it. */
export function findJsonModel(body: Uint8Array): ModelScan {
  // Buffer's indexOf is native memchr; a plain Uint8Array's is not.
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    return scan(buf);
  } catch (error) {
    if (error instanceof Malformed) return absent;
    throw error;
  }
}

function scan(buf: Buffer): ModelScan {
  let pos = skipWhitespace(buf, 0);
  if (buf[pos] !== 0x7b) return absent; // "{"
  pos = skipWhitespace(buf, pos + 1);
  let found: ModelField | undefined;
  let refs = noRefs;
  if (buf[pos] === 0x7d) return end(buf, pos + 1, found, refs);
  for (;;) {
    if (buf[pos] !== quote) throw new Malformed();
    const keyEnd = stringEnd(buf, pos);
    const isModel = isModelKey(buf, pos, keyEnd);
    const ref = isModel ? -1 : refKeyIndex(buf, pos, keyEnd);
    pos = skipWhitespace(buf, keyEnd);
    if (buf[pos] !== 0x3a) throw new Malformed(); // ":"
    pos = skipWhitespace(buf, pos + 1);
    const valueStart = pos;
    pos = skipValue(buf, pos);
    if (isModel) {
      if (found) return { kind: "duplicate" };
      if (buf[valueStart] === quote) found = { value: decodeString(buf, valueStart, pos), start: valueStart, end: pos };
      else found = { value: "", start: -1, end: -1 }; // a non-string model: remembered only to catch a duplicate
    } else if (ref !== -1) {
      const value = refValue(buf, valueStart, pos);
      if (value !== undefined) {
        if (refs === noRefs) refs = {};
        refs[refKeys[ref] as (typeof refKeys)[number]] = value;
      }
    }
    pos = skipWhitespace(buf, pos);
    if (buf[pos] === 0x2c) {
      pos = skipWhitespace(buf, pos + 1);
      continue;
    }
    if (buf[pos] === 0x7d) return end(buf, pos + 1, found, refs);
    throw new Malformed();
  }
}

/** Top-level keys to look for with `findTopLevelNumber`, encoded once (at start-up, not per call). */
export function jsonKeys(...keys: string[]): readonly Buffer[] {
  return keys.map((key) => Buffer.from(JSON.stringify(key)));
}

/**
 * The top-level number of the first of `keys` (in their order) that a JSON object body has
 * (`max_tokens`, …), or `undefined` when it has none as a number, or the body is no JSON object.
 * One pass, jumping over strings.
 */
export function findTopLevelNumber(body: Uint8Array, keys: readonly Buffer[]): number | undefined {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let best: { rank: number; value: number } | undefined;
  try {
    let pos = skipWhitespace(buf, 0);
    if (buf[pos] !== 0x7b) return undefined;
    pos = skipWhitespace(buf, pos + 1);
    if (buf[pos] === 0x7d) return undefined;
    for (;;) {
      if (buf[pos] !== quote) return best?.value;
      const keyEnd = stringEnd(buf, pos);
      const rank = keys.findIndex((k) => keyEnd - pos === k.length && buf.compare(k, 0, k.length, pos, keyEnd) === 0);
      pos = skipWhitespace(buf, keyEnd);
      if (buf[pos] !== 0x3a) return best?.value;
      pos = skipWhitespace(buf, pos + 1);
      const valueStart = pos;
      pos = skipValue(buf, pos);
      if (rank !== -1 && (best === undefined || rank < best.rank)) {
        const value = Number(buf.toString("latin1", valueStart, pos));
        if (Number.isFinite(value)) best = { rank, value };
      }
      pos = skipWhitespace(buf, pos);
      if (buf[pos] !== 0x2c) return best?.value;
      pos = skipWhitespace(buf, pos + 1);
    }
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
}

function end(buf: Buffer, pos: number, found: ModelField | undefined, refs: BodyRefs): ModelScan {
  if (skipWhitespace(buf, pos) !== buf.length) throw new Malformed();
  if (found && found.start >= 0) return refs === noRefs ? { kind: "found", field: found } : { kind: "found", field: found, refs };
  return refs === noRefs ? absent : { kind: "absent", refs };
}

/** Which of `refKeys` the key token at `start`..`end` is (quotes included), or -1. */
function refKeyIndex(buf: Buffer, start: number, end: number): number {
  const length = end - start - 2;
  for (let k = 0; k < refKeyBytes.length; k++) {
    const key = refKeyBytes[k] as Buffer;
    if (key.length === length && buf.compare(key, 0, length, start + 1, end - 1) === 0) return k;
  }
  return -1;
}

/** A ref's value: a string, or an object's `id` string (`"conversation": {"id": "conv_…"}`). */
function refValue(buf: Buffer, start: number, end: number): string | undefined {
  if (buf[start] === quote) return decodeString(buf, start, end);
  if (buf[start] !== 0x7b || end - start > 4096) return undefined;
  try {
    const id: unknown = JSON.parse(buf.toString("utf8", start, end)).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

function skipWhitespace(buf: Buffer, pos: number): number {
  let i = pos;
  while (i < buf.length) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Index just past the string token that opens at `pos`. */
function stringEnd(buf: Buffer, pos: number): number {
  let from = pos + 1;
  for (;;) {
    const q = buf.indexOf(quote, from);
    if (q === -1) throw new Malformed();
    if (buf[q - 1] !== backslash) return q + 1;
    // Escaped when preceded by an odd number of backslashes. The walk back stops at the previous
    // quote at the latest, so the whole scan stays linear.
    let slashes = 0;
    for (let k = q - 1; k > pos && buf[k] === backslash; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function skipValue(buf: Buffer, pos: number): number {
  const c = buf[pos];
  if (c === quote) return stringEnd(buf, pos);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let i = pos;
    while (i < buf.length) {
      const b = buf[i];
      if (b === quote) {
        i = stringEnd(buf, i);
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new Malformed();
  }
  // A number or a literal: up to the next delimiter.
  let i = pos;
  while (i < buf.length) {
    const b = buf[i];
    if (b === 0x2c || b === 0x7d || b === 0x5d || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) break;
    i++;
  }
  if (i === pos) throw new Malformed();
  return i;
}

const modelBytes = [0x6d, 0x6f, 0x64, 0x65, 0x6c]; // m o d e l

function isModelKey(buf: Buffer, start: number, end: number): boolean {
  if (end - start === 7) {
    for (let i = 0; i < 5; i++) if (buf[start + 1 + i] !== modelBytes[i]) return false;
    return true;
  }
  // An escaped key ("mo\u0064el") is still "model" to every JSON parser.
  return buf.indexOf(backslash, start) < end && decodeString(buf, start, end) === "model";
}

function decodeString(buf: Buffer, start: number, end: number): string {
  const raw = buf.subarray(start, end);
  if (raw.indexOf(backslash) === -1) return raw.toString("utf8", 1, raw.length - 1);
  try {
    const value: unknown = JSON.parse(raw.toString("utf8"));
    if (typeof value === "string") return value;
  } catch {
    // falls through
  }
  throw new Malformed();
}
