// One managed-identity credential per identity for the process: system-assigned by default,
// user-assigned when a backend's `auth.clientId` names one.

import { ManagedIdentityCredential } from "@azure/identity";
import type { Clock } from "../core/clock";
import type { TokenProvider } from "../core/routing/credentials";
import { CachedTokenProvider } from "./cachedTokenProvider";

export function managedIdentityTokenProvider(clientId: string | undefined, clock: Clock): TokenProvider {
  // One retry only: a call is waiting, and the next backend is a better bet than a long identity retry loop.
  const retryOptions = { maxRetries: 1 };
  const credential = clientId ? new ManagedIdentityCredential({ clientId, retryOptions }) : new ManagedIdentityCredential({ retryOptions });
  return new CachedTokenProvider(credential, clock);
}
