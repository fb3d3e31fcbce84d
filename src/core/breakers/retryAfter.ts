// How long a backend asked us to stay away, read the way the Azure SDK reads it:
// `retry-after-ms`, then `x-ms-retry-after-ms` (milliseconds), then `retry-after`
// (delay-seconds or an HTTP date). A header whose value is not usable is skipped, so the next one
// counts: garbage or a negative number never hides a valid `retry-after`, never throws.

import { headerValue, type IncomingHeaders } from "../request/exchange";

const millisecondHeaders = ["retry-after-ms", "x-ms-retry-after-ms"] as const;

/**
 * Milliseconds to wait (0 for "now" or a date already past), or `undefined` when no header
 * gives a usable value. The breaker decides what a 0 means (it still trips briefly).
 */
export function retryAfterMs(headers: IncomingHeaders, now: number): number | undefined {
  return retryAfter(headers, now)?.ms;
}

/**
 * The wait and how it was given: `precise` when a millisecond header said it (the breaker honours
 * those to the millisecond, above a small floor), not when it came in whole seconds or as a date.
 */
export function retryAfter(headers: IncomingHeaders, now: number): { ms: number; precise: boolean } | undefined {
  for (const name of millisecondHeaders) {
    const ms = parseNonNegative(headerValue(headers, name));
    if (ms !== undefined) return { ms, precise: true };
  }
  const value = headerValue(headers, "retry-after")?.trim();
  if (!value) return undefined;
  const seconds = parseNonNegative(value);
  if (seconds !== undefined) return { ms: seconds * 1000, precise: false };
  const at = parseHttpDate(value, now);
  return at === undefined ? undefined : { ms: Math.max(0, at - now), precise: false };
}

function parseNonNegative(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  // Number("") is 0 and Number("0x10") is 16: accept only plain non-negative decimals.
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const day = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const longDay = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const month = `(${months.join("|")})`;
const time = "(\\d{2}):(\\d{2}):(\\d{2})";
// The three forms of RFC 9110 §5.6.7, and nothing else: `Date.parse` would take "foo 2099" as a year.
const imfFixdate = new RegExp(`^${day}, (\\d{2}) ${month} (\\d{4}) ${time} GMT$`);
const rfc850 = new RegExp(`^${longDay}, (\\d{2})-${month}-(\\d{2}) ${time} GMT$`);
const asctime = new RegExp(`^${day} ${month} ([ \\d]\\d) ${time} (\\d{4})$`);

/** Epoch ms of an HTTP date in one of its three forms, or `undefined`; `now` settles two-digit years. */
export function parseHttpDate(text: string, now: number): number | undefined {
  let m = imfFixdate.exec(text);
  if (m) return utc({ year: m[3], mon: m[2], dd: m[1], hh: m[4], mi: m[5], ss: m[6] });
  m = rfc850.exec(text);
  if (m) {
    // Two-digit years: RFC 9110 reads one more than 50 years ahead as the past century.
    const yy = Number(m[3]);
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return utc({ year: String(year), mon: m[2], dd: m[1], hh: m[4], mi: m[5], ss: m[6] });
  }
  m = asctime.exec(text);
  if (m) return utc({ year: m[6], mon: m[1], dd: m[2]?.trim(), hh: m[3], mi: m[4], ss: m[5] });
  return undefined;
}

function utc(parts: { year?: string; mon?: string; dd?: string; hh?: string; mi?: string; ss?: string }): number | undefined {
  const { year, mon, dd, hh, mi, ss } = parts;
  const monthIndex = months.indexOf(mon ?? "");
  const [y, d, h, i, s] = [year, dd, hh, mi, ss].map(Number) as [number, number, number, number, number];
  if (monthIndex < 0 || d < 1 || d > 31 || h > 23 || i > 59 || s > 60) return undefined;
  const at = Date.UTC(y, monthIndex, d, h, i, s);
  // 31 Feb rolls into March in Date.UTC; a real date does not.
  return new Date(at).getUTCDate() === d ? at : undefined;
}
