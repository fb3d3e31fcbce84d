// How each backend is authenticated. The caller's own key is never forwarded: every backend
// gets the header its credential produces, built once at start-up.

import type { BackendConfig } from "../config/config";

/** A header to set on requests to one backend, or `undefined` for `auth.type = none`. */
export type AuthHeader = readonly [name: string, value: string] | undefined;

export interface BackendCredential {
  /** The header for the next attempt; a cached value, so usually already resolved. */
  authHeader(): AuthHeader | Promise<AuthHeader>;
}

/** Bearer tokens for one identity and scope; implementations cache and refresh before expiry. */
export interface TokenProvider {
  getToken(): Promise<string>;
}

/** Scope of Azure OpenAI (Cognitive Services) tokens. */
export const cognitiveServicesScope = "https://cognitiveservices.azure.com/.default";

export function apiKeyCredential(key: string): BackendCredential {
  const header: AuthHeader = ["api-key", key];
  return { authHeader: () => header };
}

export function bearerCredential(tokens: TokenProvider): BackendCredential {
  return { authHeader: async () => ["authorization", `Bearer ${await tokens.getToken()}`] as const };
}

export const noCredential: BackendCredential = { authHeader: () => undefined };

/**
 * One credential per backend. `tokenProviderFor(clientId)` is called once per distinct identity
 * (undefined = system-assigned), so backends sharing an identity share its token cache.
 */
export function buildCredentials(
  backends: readonly BackendConfig[],
  backendKeys: ReadonlyMap<string, string>,
  tokenProviderFor: (clientId: string | undefined) => TokenProvider,
): BackendCredential[] {
  const providers = new Map<string, TokenProvider>();
  return backends.map((backend) => {
    const auth = backend.auth;
    if (auth.type === "none") return noCredential;
    if (auth.type === "apiKey") return apiKeyCredential(backendKeys.get(backend.name) ?? "");
    const id = auth.clientId ?? "";
    let provider = providers.get(id);
    if (!provider) {
      provider = tokenProviderFor(auth.clientId);
      providers.set(id, provider);
    }
    return bearerCredential(provider);
  });
}
