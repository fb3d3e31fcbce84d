// What a call is expected to cost in tokens, the way Azure's provisioned deployments estimate it
// before they run it: prompt tokens from the request (about four bytes of body per token) plus the
// most it may write — `max_tokens`, `max_completion_tokens` or `max_output_tokens` — or a stated
// default when it names none. One estimator, for client limits (and capacity admission). The
// estimate is charged when a call is admitted and corrected to the reported usage when it ends.

import { findTopLevelNumber, jsonKeys } from "./jsonModel";

/** Output tokens assumed for a call that states no maximum. */
export const defaultMaxOutputTokens = 1024;
const maxOutputKeys = jsonKeys("max_tokens", "max_completion_tokens", "max_output_tokens");

/** The estimated tokens of a call to `path` with `body`. Embeddings write nothing; a GET costs nothing. */
export function estimateCallCost(method: string, path: string, body: Uint8Array | undefined): number {
  if (method !== "POST" || body === undefined || body.length === 0) return 0;
  const prompt = Math.ceil(body.byteLength / 4);
  if (path.endsWith("/embeddings")) return prompt;
  const stated = findTopLevelNumber(body, maxOutputKeys);
  if (stated !== undefined && stated >= 0) return prompt + Math.min(stated, 1_000_000);
  return prompt + defaultMaxOutputTokens;
}
