// A streamed chat completion in Azure's framing: a first chunk with the prompt's filter results
// and no choices, the role, the deltas, the finish, the content filter's results after it, the
// usage when asked for (`usage: null` on every chunk before), then `[DONE]` — or the fault asked for.

import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { chunk, contentFilterResults, promptFilterResults } from "./answers";
import type { Fault } from "./simulatorOptions";

export interface ChatStream {
  headers: Record<string, string>;
  model: string;
  fault: Extract<Fault, { kind: "breakAfter" | "endEarly" | "errorEvent" }> | undefined;
  includeUsage: boolean;
  region: string;
  /** Content chunks, and the pause between them. */
  chunks: number;
  delayMs: number;
  promptTokens: number;
  /** Told the completion tokens written, once the stream has ended whole. */
  settle(completionTokens: number): void;
}

export function writeChatStream(res: ServerResponse, stream: ChatStream): void {
  const { model, fault, includeUsage } = stream;
  res.writeHead(200, { ...stream.headers, "content-type": "text/event-stream", "cache-control": "no-cache" });
  const id = `chatcmpl-${randomUUID()}`;
  const total = stream.chunks;
  const delay = stream.delayMs;
  // With include_usage every chunk carries `usage: null` until the last, which carries the usage.
  const usageField = includeUsage ? { usage: null } : {};
  // Azure's first chunk: no choices, the prompt's filter results, and empty identity fields.
  res.write(
    `data: ${JSON.stringify({ choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: promptFilterResults(), ...usageField })}\n\n`,
  );
  let sent = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (sent === fault?.events) {
      if (fault.kind === "breakAfter") res.socket?.destroy();
      else if (fault.kind === "endEarly") res.end();
      else {
        const error = { error: { code: "server_error", message: "The server had an error while processing your request." } };
        res.end(`data: ${JSON.stringify(error)}\n\ndata: [DONE]\n\n`);
      }
      return;
    }
    if (sent === total) {
      res.write(`data: ${JSON.stringify({ ...chunk(id, model, {}, "stop"), ...usageField })}\n\n`);
      // Azure's content filter runs behind the stream: its results come after finish_reason.
      const filtered = { ...chunk(id, model, {}, null), ...usageField };
      (filtered as { choices: Record<string, unknown>[] }).choices[0] = {
        index: 0,
        finish_reason: null,
        delta: {},
        content_filter_results: contentFilterResults(),
      };
      res.write(`data: ${JSON.stringify(filtered)}\n\n`);
      // As Azure does with stream_options.include_usage: one more chunk, no choices, the usage.
      if (includeUsage) {
        const prompt = stream.promptTokens;
        const usage = { prompt_tokens: prompt, completion_tokens: total, total_tokens: prompt + total };
        res.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model, choices: [], usage })}\n\n`,
        );
      }
      res.end("data: [DONE]\n\n");
      stream.settle(total);
      return;
    }
    const delta = sent === 0 ? { role: "assistant", content: "", refusal: null } : { content: `${stream.region}-${sent} ` };
    res.write(`data: ${JSON.stringify({ ...chunk(id, model, delta, null), ...usageField })}\n\n`);
    sent++;
    setTimeout(next, delay);
  };
  next();
}
