// What a call is expected to cost in tokens, the way Azure's provisioned deployments estimate it
// before they run it: prompt tokens from the request (about four bytes of body per token) plus the
// most it may write — `max_tokens`, `max_completion_tokens` or `max_output_tokens` — or a stated
// default when it names none. One estimator, for client limits (and capacity admission). The
// estimate is charged when a call is admitted and corrected to the reported usage when it ends.

import { findTopLevelNumber, jsonKeys } from "../request/jsonModel";

/** Output tokens assumed for a call that states no maximum. */
export const defaultMaxOutputTokens = 1024;
const maxOutputKeys = jsonKeys("max_tokens", "max_completion_tokens", "max_output_tokens");

/** A call's estimate in its two parts: what it sends, and the most it may write. */
export interface CallCost {
  prompt: number;
  maxOutput: number;
}

const free: CallCost = Object.freeze({ prompt: 0, maxOutput: 0 });

/** The estimated prompt and maximum output of a call to `path` with `body`. Embeddings write nothing; a GET costs nothing. */
export function estimateCallParts(method: string, path: string, body: Uint8Array | undefined): CallCost {
  if (method !== "POST" || body === undefined || body.length === 0) return free;
  const prompt = Math.ceil(body.byteLength / 4);
  if (path.endsWith("/embeddings")) return { prompt, maxOutput: 0 };
  const stated = findTopLevelNumber(body, maxOutputKeys);
  return { prompt, maxOutput: stated !== undefined && stated >= 0 ? Math.min(stated, 1_000_000) : defaultMaxOutputTokens };
}

/** The estimated tokens of a call to `path` with `body`: its prompt plus the most it may write. */
export function estimateCallCost(method: string, path: string, body: Uint8Array | undefined): number {
  const { prompt, maxOutput } = estimateCallParts(method, path, body);
  return prompt + maxOutput;
}
