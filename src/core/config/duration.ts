// ISO 8601 durations (`PT30S`, `PT1M`, `P1D`) to milliseconds, as APIM writes them.

import { parse } from "tinyduration";

const msPer = { weeks: 604_800_000, days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000 } as const;

/**
 * Milliseconds in an ISO 8601 duration, or `undefined` when the text is not one we accept.
 * Years and months are refused: their length depends on the calendar, a timeout's must not.
 */
export function durationToMs(text: string): number | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch {
    return undefined;
  }
  if (parsed.negative || parsed.years || parsed.months) return undefined;
  let ms = 0;
  for (const unit of Object.keys(msPer) as (keyof typeof msPer)[]) ms += (parsed[unit] ?? 0) * msPer[unit];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
