// The answer shapes Azure OpenAI's published API descriptions require, for the simulator's own
// contract test: what each answer must hold (required fields, their types, enumerations) — written
// from the descriptions, not copied from them. Sources: azure-rest-api-specs,
// specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json
// (commit 132b90d1f06386034a6c2b34e903dbd3b03f9806): createChatCompletionResponse,
// createChatCompletionStreamResponse, chatCompletionResponseMessage, completionUsage, the embeddings
// 200 answer, errorResponse; and the v1 description (azure-v1-v1-generated.json) for responses,
// response stream events, files and the models list. Unknown fields are allowed, as in the
// descriptions: Azure adds fields over time.

import { z } from "zod";

const finishReason = z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]);

const filterVerdict = z.object({ filtered: z.boolean(), severity: z.enum(["safe", "low", "medium", "high"]) });
export const contentFilterResults = z.object({
  hate: filterVerdict.optional(),
  self_harm: filterVerdict.optional(),
  sexual: filterVerdict.optional(),
  violence: filterVerdict.optional(),
});
const promptFilterResults = z.array(z.object({ prompt_index: z.number().int(), content_filter_results: contentFilterResults }));

export const completionUsage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});

/** A chat completion (not streamed). */
export const chatCompletion = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().optional(),
  prompt_filter_results: promptFilterResults.optional(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      finish_reason: finishReason,
      // Required, and nullable: present as `null` when no log probabilities were asked for.
      logprobs: z.object({ content: z.array(z.unknown()).nullable() }).nullable(),
      message: z.object({ role: z.literal("assistant"), content: z.string().nullable(), refusal: z.string().nullable() }),
      content_filter_results: contentFilterResults.optional(),
    }),
  ),
  usage: completionUsage.optional(),
});

/** One chunk of a streamed chat completion: Azure's first chunk (no choices, the prompt's filter results) included. */
export const chatCompletionChunk = z.union([
  z.object({
    id: z.string(),
    object: z.literal("chat.completion.chunk"),
    created: z.number().int(),
    model: z.string(),
    system_fingerprint: z.string().optional(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({
          role: z.enum(["system", "user", "assistant", "tool"]).optional(),
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: finishReason.nullable(),
        logprobs: z
          .object({ content: z.array(z.unknown()).nullable() })
          .nullable()
          .optional(),
        content_filter_results: contentFilterResults.optional(),
      }),
    ),
    usage: completionUsage.nullable().optional(),
  }),
  z.object({
    choices: z.array(z.never()).length(0),
    id: z.literal(""),
    object: z.literal(""),
    model: z.literal(""),
    created: z.literal(0),
    prompt_filter_results: promptFilterResults,
  }),
]);

export const embeddings = z.object({
  object: z.string(),
  model: z.string(),
  data: z.array(z.object({ index: z.number().int(), object: z.string(), embedding: z.union([z.array(z.number()), z.string()]) })),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});

export const errorAnswer = z.object({
  error: z.object({
    code: z.string().nullable(),
    message: z.string(),
    param: z.string().nullable().optional(),
    type: z.string().optional(),
  }),
});

export const response = z.object({
  id: z.string().startsWith("resp_"),
  object: z.literal("response"),
  created_at: z.number().int(),
  status: z.enum(["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]),
  model: z.string(),
  output: z.array(z.object({ type: z.string(), id: z.string() }).loose()),
  usage: z
    .object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() })
    .nullable()
    .optional(),
});

/** A Responses stream event: its type and number, and what each type must carry. */
export const responseEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.enum(["response.created", "response.in_progress", "response.completed", "response.failed", "response.incomplete"]),
    sequence_number: z.number().int(),
    response,
  }),
  z.object({
    type: z.enum(["response.output_item.added", "response.output_item.done"]),
    sequence_number: z.number().int(),
    output_index: z.number().int(),
    item: z.object({ type: z.string() }).loose(),
  }),
  z.object({
    type: z.enum(["response.content_part.added", "response.content_part.done"]),
    sequence_number: z.number().int(),
    item_id: z.string(),
    output_index: z.number().int(),
    content_index: z.number().int(),
    part: z.object({ type: z.string() }).loose(),
  }),
  z.object({
    type: z.literal("response.output_text.delta"),
    sequence_number: z.number().int(),
    item_id: z.string(),
    output_index: z.number().int(),
    content_index: z.number().int(),
    delta: z.string(),
    logprobs: z.array(z.unknown()),
  }),
  z.object({
    type: z.literal("response.output_text.done"),
    sequence_number: z.number().int(),
    item_id: z.string(),
    output_index: z.number().int(),
    content_index: z.number().int(),
    text: z.string(),
    logprobs: z.array(z.unknown()),
  }),
]);

export const fileObject = z.object({
  id: z.string(),
  object: z.literal("file"),
  bytes: z.number().int(),
  created_at: z.number().int(),
  filename: z.string(),
  purpose: z.string(),
  status: z.enum(["uploaded", "pending", "running", "processed", "error", "deleting", "deleted"]),
});

export const modelsList = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      id: z.string(),
      object: z.literal("model"),
      created: z.number().int(),
      owned_by: z.string(),
      capabilities: z.object({
        chat_completion: z.boolean(),
        completion: z.boolean(),
        embeddings: z.boolean(),
        fine_tune: z.boolean(),
        inference: z.boolean(),
      }),
    }),
  ),
});
