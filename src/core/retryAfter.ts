// How long a backend asked us to stay away, read the way the Azure SDK reads it:
// `retry-after-ms`, then `x-ms-retry-after-ms` (milliseconds), then `retry-after`
// (delay-seconds or an HTTP date). Garbage yields `undefined`, never an exception.

import { headerValue, type IncomingHeaders } from "./http";

const millisecondHeaders = ["retry-after-ms", "x-ms-retry-after-ms"] as const;

/** Milliseconds to wait, clamped at 0, or `undefined` when no header gives a usable value. */
export function retryAfterMs(headers: IncomingHeaders, now: number): number | undefined {
  for (const name of millisecondHeaders) {
    const ms = parseNumber(headerValue(headers, name));
    if (ms !== undefined) return Math.max(0, ms);
  }
  const value = headerValue(headers, "retry-after")?.trim();
  if (!value) return undefined;
  const seconds = parseNumber(value);
  if (seconds !== undefined) return Math.max(0, seconds * 1000);
  // An HTTP date always has letters in it (`Wed, 21 Oct 2015 07:28:00 GMT`); a bare number was handled above.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  // Number("") is 0 and Number("0x10") is 16: accept only plain decimal numbers.
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
