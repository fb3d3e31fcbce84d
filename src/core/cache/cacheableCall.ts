// Which calls the response cache may answer: a non-streamed POST for a deployment the
// configuration lists, on an operation whose answer depends on the request alone — embeddings,
// and chat completions and Responses calls that store nothing. Anything else (streams, calls that
// store or create objects, other operations) is never looked up and never stored, and costs the
// cache nothing but this check.

import type { CacheConfig } from "../config/configTypes";

/** What the cache may do for a call: look it up (unless the caller asked for a fresh answer) and store its answer. */
export interface CacheableCall {
  /** `cache-control: no-cache` on the request: skip the lookup, store the fresh answer. */
  refresh: boolean;
}

type Operation = "embeddings" | "chat" | "responses";

const deploymentOperations = new Map<string, Operation>([
  ["/embeddings", "embeddings"],
  ["/chat/completions", "chat"],
]);
const modelOperations = new Map<string, Operation>([
  ["/openai/v1/embeddings", "embeddings"],
  ["/openai/v1/chat/completions", "chat"],
  ["/openai/v1/responses", "responses"],
  ["/openai/responses", "responses"],
]);
const deploymentsPrefix = "/openai/deployments/";

/** The operation of `path`, when it is one whose answers may be reused. */
function operationOf(path: string): Operation | undefined {
  if (path.startsWith(deploymentsPrefix)) {
    const slash = path.indexOf("/", deploymentsPrefix.length);
    return slash === -1 ? undefined : deploymentOperations.get(path.slice(slash));
  }
  return modelOperations.get(path);
}

/**
 * Whether the body asks for an answer that may be reused: a JSON object, not streamed, storing
 * nothing (chat completions store only with `"store": true`; Responses store unless `"store": false`).
 */
function reusableBody(operation: Operation, body: Uint8Array): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return false;
  const fields = parsed as Record<string, unknown>;
  if (fields.stream !== undefined && fields.stream !== false) return false;
  if (operation === "chat") return fields.store === undefined || fields.store === false;
  if (operation === "responses") return fields.store === false && fields.background !== true;
  return true;
}

export interface CallForCache {
  method: string;
  path: string;
  /** Path and query exactly as the caller sent them. */
  url: string;
  /** The caller's deployment name, when the call names one. */
  deployment: string | undefined;
  body: Uint8Array | undefined;
  cacheControl: string | undefined;
}

/** What the cache may do for `call`, or `undefined` when its answer is never reused. */
export function cacheableCall(config: CacheConfig, call: CallForCache): CacheableCall | undefined {
  const { method, path, deployment, body } = call;
  if (method !== "POST" || deployment === undefined || body === undefined || body.length === 0) return undefined;
  if (!config.deployments.has(deployment)) return undefined;
  const operation = operationOf(path);
  if (operation === undefined || !reusableBody(operation, body)) return undefined;
  return { refresh: call.cacheControl !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(call.cacheControl) };
}
