// The simulator's answer bodies, as Azure shapes them: chat chunks, embeddings, the models list,
// content-filter results; and how it reads a call's body and model.

import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ModelKind } from "./requestRules";

export function chunk(id: string, model: string, delta: object, finish: string | null): Record<string, unknown> {
  return {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: "fp_sim",
    choices: [
      { index: 0, delta, finish_reason: finish, logprobs: null, content_filter_results: finish === null ? contentFilterResults() : {} },
    ],
  };
}

export function embeddingsAnswer(model: string, input: unknown, encoding: string | undefined): unknown {
  const inputs = Array.isArray(input) ? input : [input];
  const data = inputs.map((_, index) => {
    const vector = Float32Array.from({ length: 8 }, (_, i) => (i + 1) / 10);
    const embedding = encoding === "base64" ? Buffer.from(vector.buffer).toString("base64") : Array.from(vector);
    return { object: "embedding", index, embedding };
  });
  return { object: "list", data, model, usage: { prompt_tokens: 4, total_tokens: 4 } };
}

/** A models-list entry as Azure describes one: its creation, owner, what it can do, and its lifecycle. */
export function modelEntry(id: string, kind: ModelKind): Record<string, unknown> {
  return {
    id,
    object: "model",
    created: 1_715_558_400,
    owned_by: "system",
    status: "succeeded",
    lifecycle_status: "generally-available",
    capabilities: {
      chat_completion: kind === "chat",
      completion: false,
      embeddings: kind === "embeddings",
      fine_tune: false,
      inference: true,
    },
    deprecation: { inference: 1_767_225_600 },
  };
}

/** Azure's content filter verdict on a text that passed: each category, not filtered, safe. */
export function contentFilterResults(): Record<string, unknown> {
  const safe = { filtered: false, severity: "safe" };
  return { hate: safe, self_harm: safe, sexual: safe, violence: safe };
}

/** The prompt's filter results, as Azure puts them on chat answers and the first stream chunk. */
export function promptFilterResults(): Record<string, unknown>[] {
  return [{ prompt_index: 0, content_filter_results: { ...contentFilterResults(), jailbreak: { filtered: false, detected: false } } }];
}

/** A JSON object body, or an empty object when the body is not one. */
export function jsonOf(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = body.length > 0 ? JSON.parse(body.toString("utf8")) : {};
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The deployment a v1 call names: `model` of a JSON body, or of a multipart form. */
export function modelOf(req: IncomingMessage, body: Buffer): string | undefined {
  const type = req.headers["content-type"] ?? "";
  if (body.length === 0) return undefined;
  if (type.startsWith("multipart/form-data")) {
    return /name="model"\r\n\r\n([^\r]*)\r\n/.exec(body.toString("latin1"))?.[1];
  }
  try {
    const model: unknown = JSON.parse(body.toString("utf8")).model;
    return typeof model === "string" ? model : undefined;
  } catch {
    return undefined;
  }
}

/** A chat completion as Azure answers one: with refusal, logprobs, its fingerprint, and the filters' results. */
export function chatAnswer(answer: {
  model: string;
  region: string;
  promptTokens: number;
  completionTokens: number;
}): Record<string, unknown> {
  const { model, promptTokens: prompt, completionTokens: completion } = answer;
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: "fp_sim",
    prompt_filter_results: promptFilterResults(),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: `Hello from ${answer.region}.`, refusal: null },
        finish_reason: "stop",
        logprobs: null,
        content_filter_results: contentFilterResults(),
      },
    ],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}
