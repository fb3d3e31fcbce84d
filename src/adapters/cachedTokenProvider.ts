// Bearer tokens for Azure OpenAI from an @azure/identity credential, cached for the process and
// refreshed in the background before they expire: a token is never fetched per request.

import type { AccessToken, TokenCredential } from "@azure/identity";
import type { Clock } from "../core/clock";
import { cognitiveServicesScope, type TokenProvider } from "../core/credentials";

/** Refresh this long before expiry at the latest. */
const refreshMarginMs = 5 * 60_000;

export class CachedTokenProvider implements TokenProvider {
  private token: { value: string; expiresAt: number; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;

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
      this.refresh().catch(() => {});
      return Promise.resolve(token.value);
    }
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
    } catch (error) {
      throw new Error(`managed identity token for ${this.scope} failed: ${(error as Error).message}`, { cause: error });
    }
    if (!token) throw new Error(`managed identity returned no token for ${this.scope}`);
    const now = this.clock.now();
    const lifetime = token.expiresOnTimestamp - now;
    const byMargin = token.expiresOnTimestamp - refreshMarginMs;
    // Short-lived tokens (tests, some hosts) refresh at half-life instead.
    const refreshAt = Math.min(token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY, Math.max(byMargin, now + lifetime / 2));
    this.token = { value: token.token, expiresAt: token.expiresOnTimestamp, refreshAt };
    return token.token;
  }
}
