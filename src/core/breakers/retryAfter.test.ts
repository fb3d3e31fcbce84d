import { describe, expect, it } from "vitest";
import { parseHttpDate, retryAfter, retryAfterMs } from "./retryAfter";

const now = 1_700_000_000_000;

describe("retryAfterMs", () => {
  it("reads retry-after-ms first, then x-ms-retry-after-ms, then retry-after", () => {
    expect(retryAfterMs({ "retry-after-ms": "1500", "x-ms-retry-after-ms": "2500", "retry-after": "9" }, now)).toBe(1500);
    expect(retryAfterMs({ "x-ms-retry-after-ms": "2500", "retry-after": "9" }, now)).toBe(2500);
    expect(retryAfterMs({ "retry-after": "9" }, now)).toBe(9000);
  });

  it("reads retry-after in seconds, fractional seconds included", () => {
    expect(retryAfterMs({ "retry-after": "1" }, now)).toBe(1000);
    expect(retryAfterMs({ "retry-after": "0.5" }, now)).toBe(500);
  });

  it("reads retry-after as an HTTP date relative to now", () => {
    const at = new Date(now + 42_000).toUTCString();
    expect(retryAfterMs({ "retry-after": at }, now)).toBe(42_000);
  });

  it("reads a date in the past and a zero as 0, and ignores negative numbers", () => {
    expect(retryAfterMs({ "retry-after": new Date(now - 60_000).toUTCString() }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "-5" }, now)).toBeUndefined();
  });

  it("skips an invalid or negative millisecond header, so a valid retry-after still counts", () => {
    expect(retryAfterMs({ "retry-after-ms": "-100", "retry-after": "30" }, now)).toBe(30_000);
    expect(retryAfterMs({ "retry-after-ms": "-100", "x-ms-retry-after-ms": "250" }, now)).toBe(250);
    expect(retryAfterMs({ "x-ms-retry-after-ms": "NaN", "retry-after": "2" }, now)).toBe(2_000);
  });

  it("parses dates strictly: IMF-fixdate, RFC 850 and asctime, nothing else", () => {
    const at = Date.UTC(2026, 10, 23, 10, 0, 30);
    const t = at - 30_000;
    expect(retryAfterMs({ "retry-after": "Mon, 23 Nov 2026 10:00:30 GMT" }, t)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Monday, 23-Nov-26 10:00:30 GMT" }, t)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Mon Nov 23 10:00:30 2026" }, t)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Mon Nov  2 10:00:30 2026" }, Date.UTC(2026, 10, 2, 10, 0, 0))).toBe(30_000);
    for (const garbage of ["foo 2099", "Mon, 23 Nov 2026", "Mon, 31 Feb 2026 10:00:00 GMT", "23 Nov 2026 10:00:30 GMT", "tomorrow"]) {
      expect(retryAfterMs({ "retry-after": garbage }, t), garbage).toBeUndefined();
    }
  });

  it("returns undefined for garbage and falls through a garbage millisecond header", () => {
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "0x10" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "1e3" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after-ms": "abc", "retry-after": "3" }, now)).toBe(3000);
    expect(retryAfterMs({}, now)).toBeUndefined();
  });

  it("keeps a huge value as given (the breaker caps it, not the parser)", () => {
    expect(retryAfterMs({ "retry-after": "86400" }, now)).toBe(86_400_000);
  });

  it("uses the first value of a repeated header", () => {
    expect(retryAfterMs({ "retry-after": ["2", "7"] }, now)).toBe(2000);
  });
});

describe("retryAfter", () => {
  const now = 1_700_000_000_000;
  it("says whether the wait was given in milliseconds (precise) or in seconds or as a date", () => {
    expect(retryAfter({ "retry-after-ms": "6", "retry-after": "1" }, now)).toEqual({ ms: 6, precise: true });
    expect(retryAfter({ "x-ms-retry-after-ms": "12.5" }, now)).toEqual({ ms: 12.5, precise: true });
    expect(retryAfter({ "retry-after": "2" }, now)).toEqual({ ms: 2000, precise: false });
    expect(retryAfter({}, now)).toBeUndefined();
  });

  it("reads two-digit years of an RFC 850 date against the clock it is given", () => {
    // "94" is more than 50 years ahead of 2026, so 1994; seen from 2060 it is 2094.
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", Date.UTC(2026, 0, 1))).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", Date.UTC(2060, 0, 1))).toBe(Date.UTC(2094, 10, 6, 8, 49, 37));
  });
});
