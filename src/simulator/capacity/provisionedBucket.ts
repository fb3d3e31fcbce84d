// A provisioned (PTU) deployment's admission, as Azure documents it: a leaky bucket that drains at
// the deployment's token rate. A call is charged its prompt tokens (less cached ones) plus its
// `max_tokens` when it is admitted, and the charge is corrected to the real completion when the
// call ends. While utilisation — the bucket's level against what the burst tolerance holds — is
// above 100%, every call is refused with the time until it drops below (`retry-after-ms`).
// Pure, on the time it is given: the simulator passes the wall clock, the capacity grid a fake one.

export interface ProvisionedCapacity {
  /** The deployment's rate: tokens it drains per minute. */
  tokensPerMinute: number;
  /** How much above its rate it absorbs: the bucket holds `burstSeconds` of its rate. Default 1 s. */
  burstSeconds?: number;
}

export type ProvisionedAdmission = { admitted: true } | { admitted: false; retryAfterMs: number };

export class ProvisionedBucket {
  private readonly perMs: number;
  private readonly holds: number;
  private level = 0;
  private at = 0;
  /** Tokens of admitted calls, as corrected: the work the deployment did. */
  work = 0;

  constructor(capacity: ProvisionedCapacity) {
    this.perMs = capacity.tokensPerMinute / 60_000;
    this.holds = this.perMs * (capacity.burstSeconds ?? 1) * 1_000;
  }

  /** Admits a call charged `tokens`, or refuses it with the time until utilisation is below 100%. */
  admit(tokens: number, now: number): ProvisionedAdmission {
    this.drain(now);
    if (this.level > this.holds) return { admitted: false, retryAfterMs: Math.max(1, Math.ceil((this.level - this.holds) / this.perMs)) };
    this.level += tokens;
    this.work += tokens;
    return { admitted: true };
  }

  /** An admitted call ended: its charge becomes what it used (`correction` is used − charged, usually negative). */
  correct(correction: number, now: number): void {
    this.drain(now);
    this.level = Math.max(0, this.level + correction);
    this.work += correction;
  }

  /** Utilisation now, in percent (what Azure reports in `azure-openai-deployment-utilization`). */
  utilization(now: number): number {
    this.drain(now);
    return this.holds > 0 ? (100 * this.level) / this.holds : 0;
  }

  private drain(now: number): void {
    if (now > this.at) this.level = Math.max(0, this.level - (now - this.at) * this.perMs);
    this.at = Math.max(this.at, now);
  }
}
