// The bytes of request bodies this instance holds at once. Bodies are read whole (they are re-sent
// byte for byte on failover), so without a bound 64 concurrent 32 MiB uploads would need 2 GiB.
// Past the budget a call is answered 503 with Retry-After and costs nothing more.

export class BodyBudget {
  private used = 0;

  /** `limitBytes`: see `defaultBodyMemoryBytes`. */
  constructor(readonly limitBytes: number) {}

  /** Takes `bytes` from the budget; false (taking nothing) when they do not fit. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  /** Bytes held now, for tests and /status. */
  get inUse(): number {
    return this.used;
  }
}

/**
 * The default budget: a quarter of the instance's memory (its cgroup limit when it has one),
 * never less than one largest allowed body.
 */
export function defaultBodyMemoryBytes(instanceMemoryBytes: number, maxRequestBytes: number): number {
  return Math.max(maxRequestBytes, Math.floor(instanceMemoryBytes / 4));
}
