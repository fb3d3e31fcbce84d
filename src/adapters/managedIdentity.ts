// One managed-identity credential per identity for the process: system-assigned by default,
// user-assigned when a backend's `auth.clientId` names one.

import { ManagedIdentityCredential } from "@azure/identity";
import type { Clock } from "../core/clock";
import type { TokenProvider } from "../core/credentials";
import { CachedTokenProvider } from "./cachedTokenProvider";

export function managedIdentityTokenProvider(clientId: string | undefined, clock: Clock): TokenProvider {
  const credential = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  return new CachedTokenProvider(credential, clock);
}
