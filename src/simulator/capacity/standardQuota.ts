// A standard (pay-as-you-go) deployment's quota, as Azure documents it: tokens per minute, charged
// by the call's estimate (prompt plus max_tokens) when it arrives, and requests per minute enforced
// over short windows (a sixth of the per-minute figure per 10 seconds). Answers report what is left
// in `x-ratelimit-remaining-*`; a refused call is told when the window it overflowed turns.

export interface StandardCapacity {
  tokensPerMinute: number;
  /** Default: tokensPerMinute / 1000 × 6, Azure's ratio of requests to tokens. */
  requestsPerMinute?: number;
}

export type StandardAdmission =
  | { admitted: true; remainingTokens: number; remainingRequests: number }
  | { admitted: false; retryAfterMs: number; remainingTokens: number; remainingRequests: number };

const minuteMs = 60_000;
const requestWindowMs = 10_000;

export class StandardQuota {
  readonly tokensPerMinute: number;
  readonly requestsPerMinute: number;
  private tokens = { start: 0, used: 0 };
  private requests = { start: 0, used: 0 };
  work = 0;

  constructor(capacity: StandardCapacity) {
    this.tokensPerMinute = capacity.tokensPerMinute;
    this.requestsPerMinute = capacity.requestsPerMinute ?? Math.max(1, Math.round((capacity.tokensPerMinute / 1000) * 6));
  }

  admit(estimate: number, now: number): StandardAdmission {
    if (now - this.tokens.start >= minuteMs) this.tokens = { start: now - ((now - this.tokens.start) % minuteMs), used: 0 };
    if (now - this.requests.start >= requestWindowMs)
      this.requests = { start: now - ((now - this.requests.start) % requestWindowMs), used: 0 };
    const requestLimit = Math.max(1, Math.floor(this.requestsPerMinute / 6));
    const remaining = () => ({
      remainingTokens: Math.max(0, this.tokensPerMinute - this.tokens.used),
      remainingRequests: Math.max(0, this.requestsPerMinute - this.requests.used * 6),
    });
    if (this.requests.used + 1 > requestLimit)
      return { admitted: false, retryAfterMs: requestWindowMs - (now - this.requests.start), ...remaining() };
    if (this.tokens.used > 0 && this.tokens.used + estimate > this.tokensPerMinute) {
      return { admitted: false, retryAfterMs: minuteMs - (now - this.tokens.start), ...remaining() };
    }
    this.tokens.used += estimate;
    this.requests.used++;
    this.work += estimate;
    return { admitted: true, ...remaining() };
  }

  /** Standard deployments keep the estimate they charged; the work done is corrected. */
  correct(correction: number): void {
    this.work += correction;
  }
}
