// Tokens a call used, from what the backend reported: the `usage` object of a JSON answer (chat,
// embeddings, responses) or of a stream's final usage chunk / `response.completed` event. Only
// the tail of the body is read — where Azure puts `usage` — never the whole body, never each chunk.

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** No usage was reported (a stream without `stream_options.include_usage`): the router's estimate. */
  estimated: boolean;
}

/** The bytes kept from the end of a body to find `usage` in. */
export const usageTailBytes = 8 * 1024;

const pattern = (name: string) => new RegExp(`"${name}"\\s*:\\s*(\\d{1,15})`);
const promptNames = [pattern("prompt_tokens"), pattern("input_tokens")];
const completionNames = [pattern("completion_tokens"), pattern("output_tokens")];
const totalNames = [pattern("total_tokens")];

const field = (text: string, patterns: readonly RegExp[]): number | undefined => {
  for (const p of patterns) {
    const match = p.exec(text);
    if (match) return Number(match[1]);
  }
  return undefined;
};

/** The last reported `usage` in `tail`, or `undefined` when there is none (or it is `null`). */
export function reportedUsage(tail: string): TokenUsage | undefined {
  const at = tail.lastIndexOf('"usage"');
  if (at === -1) return undefined;
  // The usage object with its details (`prompt_tokens_details`, …) fits well within this.
  const text = tail.slice(at + 7, at + 1200);
  if (/^\s*:\s*null/.test(text)) return undefined;
  const prompt = field(text, promptNames);
  const completion = field(text, completionNames) ?? 0;
  const total = field(text, totalNames);
  if (prompt === undefined && total === undefined) return undefined;
  return { promptTokens: prompt ?? 0, completionTokens: completion, totalTokens: total ?? (prompt ?? 0) + completion, estimated: false };
}

/**
 * An estimate for a stream that reported no usage: the prompt at ~4 bytes of request body per
 * token, the completion at one token per streamed event (Azure sends about one token per chunk).
 */
export function estimatedUsage(requestBytes: number, streamedEvents: number): TokenUsage {
  const promptTokens = Math.ceil(requestBytes / 4);
  const completionTokens = streamedEvents;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, estimated: true };
}
