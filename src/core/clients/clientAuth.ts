// Who is calling: `api-key: <key>` or `Authorization: Bearer <key>`, looked up by its SHA-256
// digest in one Map — the same work whichever key (or none) matches, however many keys there
// are, and nothing about a stored key leaks through timing (a match on a digest tells nothing
// about the key behind it).

import { createHash, hash } from "node:crypto";
import type { ClientLimits } from "../config/config";
import { headerValue, type IncomingHeaders } from "../request/exchange";

/** The client `ROUTER_CLIENT_KEYS` belongs to: the operators, no limits, every deployment. */
export const defaultClientName = "default";

/** An application calling the router, as the request path needs it. */
export interface Client {
  name: string;
  /** The caller's deployment names it may call; `undefined`: every one. */
  deployments: ReadonlySet<string> | undefined;
  limits: ClientLimits | undefined;
  /** `/status` shows this client every client's usage (the `default` client, the operators); others see their own. */
  seesAllClients: boolean;
}

/** The `default` client: ROUTER_CLIENT_KEYS' keys, or every caller when anonymous access is on. */
export const operatorsClient: Client = Object.freeze({
  name: defaultClientName,
  deployments: undefined,
  limits: undefined,
  seesAllClients: true,
});

/** The calling client, or `undefined` for a missing or unknown key. */
export type ClientIdentifier = (headers: IncomingHeaders) => Client | undefined;

// One-shot crypto.hash (Node >= 20.12) is cheaper than a Hash object per call.
const digest: (text: string) => string =
  typeof hash === "function" ? (text) => hash("sha256", text, "base64") : (text) => createHash("sha256").update(text).digest("base64");

/**
 * `clients`: each client with its keys (duplicates across clients are refused by the settings).
 * `anonymous`: the client of a call without a key, when anonymous access is on and no key is set.
 */
export function createClientIdentifier(
  clients: readonly { client: Client; keys: readonly string[] }[],
  anonymous: Client | undefined,
): ClientIdentifier {
  const byDigest = new Map<string, Client>();
  for (const { client, keys } of clients) for (const key of keys) byDigest.set(digest(key), client);
  if (anonymous && byDigest.size === 0) return () => anonymous;
  return (headers) => {
    const presented = presentedKey(headers);
    return presented === undefined ? undefined : byDigest.get(digest(presented));
  };
}

function presentedKey(headers: IncomingHeaders): string | undefined {
  const apiKey = headerValue(headers, "api-key");
  if (apiKey) return apiKey;
  const authorization = headerValue(headers, "authorization");
  if (authorization && /^bearer\s+/i.test(authorization)) return authorization.replace(/^bearer\s+/i, "");
  return undefined;
}
