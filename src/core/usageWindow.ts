// A per-minute budget as a sliding window over two fixed one-minute windows (the previous one
// weighted by how much of it still overlaps the last 60 s): close to a true sliding minute, with
// two counters per client instead of a log of every call. Pure functions, tested with exact times.

export const windowMs = 60_000;

/** The fixed window `now` falls in. */
export function windowOf(now: number): number {
  return Math.floor(now / windowMs);
}

/** Usage in the sliding minute ending at `now`: the current window's, plus the overlapping share of the previous one's. */
export function slidingUsage(previous: number, current: number, now: number): number {
  const elapsed = (now % windowMs) / windowMs;
  return previous * (1 - elapsed) + current;
}

/**
 * Whole seconds until the sliding minute has room for `need` more (at least 1): the previous
 * window's weight falls as time passes, and at the turn of the window the current one becomes
 * the previous one.
 */
export function secondsUntilRoom(previous: number, current: number, limit: number, need: number, now: number): number {
  const elapsedMs = now % windowMs;
  const room = limit - need;
  if (slidingUsage(previous, current, now) <= room) return 1;
  let waitMs: number;
  if (current <= room && previous > 0) {
    // Within this window: wait until previous × (1 − t/W) ≤ room − current.
    const t = windowMs * (1 - (room - current) / previous);
    waitMs = t - elapsedMs;
  } else {
    // Not before the next window; then `current` is the previous one and fades the same way.
    const t = current > 0 ? windowMs * (1 - room / current) : 0;
    waitMs = windowMs - elapsedMs + Math.max(0, t);
  }
  // The epsilon keeps float noise (1000.0000000001 ms) from adding a whole second.
  return Math.max(1, Math.ceil(waitMs / 1000 - 1e-9));
}
