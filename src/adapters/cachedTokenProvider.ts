// Bearer tokens for Azure OpenAI from an @azure/identity credential, cached for the process and
// refreshed in the background before they expire: a token is never fetched per request.

import type { AccessToken, TokenCredential } from "@azure/identity";
import type { Clock } from "../core/clock";
import { cognitiveServicesScope, type TokenProvider } from "../core/routing/credentials";

/** Refresh this long before expiry at the latest. */
const refreshMarginMs = 5 * 60_000;
/** After a failed fetch, calls fail at once for this long instead of each waiting on the identity endpoint. */
const failureBackoffMs = 5_000;

export class CachedTokenProvider implements TokenProvider {
  private token: { value: string; expiresAt: number; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private failure: { error: Error; until: number } | undefined;

  constructor(
    private readonly credential: TokenCredential,
    private readonly clock: Clock,
    private readonly scope = cognitiveServicesScope,
  ) {}

  getToken(): Promise<string> {
    const token = this.token;
    const now = this.clock.now();
    if (token && now < token.refreshAt) return Promise.resolve(token.value);
    if (token && now < token.expiresAt - 30_000) {
      // Still valid: serve it and refresh behind the caller's back.
      if (!this.failure || now >= this.failure.until) this.refresh().catch(() => {});
      return Promise.resolve(token.value);
    }
    if (this.failure && now < this.failure.until) return Promise.reject(this.failure.error);
    return this.refresh();
  }

  private refresh(): Promise<string> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<string> {
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(this.scope);
      if (!token) throw new Error("no token returned");
    } catch (error) {
      const failure = new Error(`managed identity token for ${this.scope} failed: ${(error as Error).message}`, { cause: error });
      this.failure = { error: failure, until: this.clock.now() + failureBackoffMs };
      throw failure;
    }
    this.failure = undefined;
    const now = this.clock.now();
    const lifetime = token.expiresOnTimestamp - now;
    const byMargin = token.expiresOnTimestamp - refreshMarginMs;
    // Short-lived tokens (tests, some hosts) refresh at half-life instead.
    const refreshAt = Math.min(token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY, Math.max(byMargin, now + lifetime / 2));
    this.token = { value: token.token, expiresAt: token.expiresOnTimestamp, refreshAt };
    return token.token;
  }
}
