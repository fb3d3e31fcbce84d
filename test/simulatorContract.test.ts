// The simulator against Azure's published API descriptions (src/simulator/azureSchemas.ts): every
// answer it gives a valid call has the shape Azure's descriptions require, and it refuses what
// Azure refuses — so a router rewrite that breaks a call fails the tests as it would fail in Azure.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  chatCompletion,
  chatCompletionChunk,
  embeddings,
  errorAnswer,
  fileObject,
  modelsList,
  responseEvent,
  response as responseSchema,
} from "../src/simulator/azureSchemas";
import { AzureOpenAISimulator } from "../src/simulator/simulator";
import { sleep } from "./helpers/harness";

let sim: AzureOpenAISimulator;
const version = "api-version=2024-10-21";
const chatUrl = `/openai/deployments/gpt-4o/chat/completions?${version}`;
const messages = [{ role: "user", content: "Hello" }];

beforeAll(async () => {
  sim = await AzureOpenAISimulator.start({
    region: "contract",
    deployments: ["gpt-4o", "gpt-4o-ptu", "gpt-4o-paygo", "text-embedding-3-large"],
    provisioned: { "gpt-4o-ptu": { tokensPerMinute: 6_000, burstSeconds: 0.1 } },
    spillover: { "gpt-4o-ptu": "gpt-4o-paygo" },
    consistencyMs: 300,
    backgroundMs: 100,
  });
});
afterAll(async () => sim.close());

async function call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === "string" || init.body instanceof FormData
        ? init.body
        : JSON.stringify(init.body);
  const headers = init.body instanceof FormData ? { ...init.headers } : { "content-type": "application/json", ...init.headers };
  return fetch(`${sim.url}${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body: body as string | FormData | undefined,
  });
}

function valid<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${JSON.stringify(value)}\n${parsed.error.message}`);
  return parsed.data;
}

/** The `data:` payloads of a server-sent event stream, `[DONE]` included. */
async function events(answer: Response): Promise<string[]> {
  const text = await answer.text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice(6));
}

describe("the simulator's answers have the shapes Azure's descriptions require", () => {
  it("chat completions: message with refusal, logprobs, filter results, usage; real x-ratelimit counts", async () => {
    const first = await call(chatUrl, { body: { messages, max_tokens: 50 } });
    expect(first.status).toBe(200);
    const answer = valid(chatCompletion, await first.json());
    expect(answer.choices[0]?.message.refusal).toBeNull();
    expect(answer.choices[0]?.logprobs).toBeNull();
    const second = await call(chatUrl, { body: { messages, max_tokens: 50 } });
    valid(chatCompletion, await second.json());
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000000");
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(
      Number(first.headers.get("x-ratelimit-remaining-tokens")),
    );
    expect(Number(second.headers.get("x-ratelimit-remaining-requests"))).toBeLessThan(
      Number(first.headers.get("x-ratelimit-remaining-requests")),
    );
  });

  it("chat streams: Azure's framing — a first chunk of prompt filter results, filter results after finish_reason, [DONE]", async () => {
    const data = await events(await call(chatUrl, { body: { messages, stream: true } }));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => valid(chatCompletionChunk, JSON.parse(d)));
    expect(chunks[0]).toMatchObject({ choices: [], id: "", prompt_filter_results: [{ prompt_index: 0 }] });
    const finished = chunks.findIndex((c) => c.choices[0]?.finish_reason === "stop");
    expect(finished).toBeGreaterThan(1);
    expect(chunks[finished + 1]?.choices[0]).toMatchObject({ finish_reason: null, content_filter_results: { hate: { filtered: false } } });
  });

  it("chat streams with include_usage: usage null on every chunk but the last, which has no choices, the usage and created", async () => {
    const data = await events(await call(chatUrl, { body: { messages, stream: true, stream_options: { include_usage: true } } }));
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    const last = valid(chatCompletionChunk, chunks.at(-1));
    expect(last).toMatchObject({ choices: [], usage: { completion_tokens: 5 } });
    expect(typeof (last as { created?: unknown }).created).toBe("number");
  });

  it("embeddings, the models list (created, owned_by, capabilities)", async () => {
    valid(
      embeddings,
      await (await call(`/openai/deployments/text-embedding-3-large/embeddings?${version}`, { body: { input: ["a", "b"] } })).json(),
    );
    const models = valid(modelsList, await (await call(`/openai/models?${version}`)).json());
    expect(models.data.find((m) => m.id === "text-embedding-3-large")?.capabilities.embeddings).toBe(true);
  });

  it("responses: the object, and its stream with content parts, text done and logprobs on deltas; tokens -1 in x-ratelimit", async () => {
    const created = await call("/openai/v1/responses", { body: { model: "gpt-4o", input: "Hi" } });
    valid(responseSchema, await created.json());
    expect(created.headers.get("x-ratelimit-remaining-tokens")).toBe("-1");
    const data = await events(await call("/openai/v1/responses", { body: { model: "gpt-4o", input: "Hi", stream: true } }));
    const types = data.map((d) => valid(responseEvent, JSON.parse(d)).type);
    for (const t of [
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.completed",
    ]) {
      expect(types).toContain(t);
    }
  });

  it("file uploads: 201 with the file pending, processed a moment later", async () => {
    const form = new FormData();
    form.set("purpose", "assistants");
    form.set("file", new Blob(["hello"]), "notes.txt");
    const upload = await call(`/openai/files?${version}`, { body: form });
    expect(upload.status).toBe(201);
    const file = valid(fileObject, await upload.json());
    expect(file.status).toBe("pending");
    await sleep(200);
    expect(valid(fileObject, await (await call(`/openai/files/${file.id}?${version}`)).json()).status).toBe("processed");
  });
});

describe("the simulator refuses what Azure refuses", () => {
  const refusal = async (answer: Response) => ({ status: answer.status, body: valid(errorAnswer, await answer.json()) });

  it("api-version per path family", async () => {
    // A deployment path without one: Azure's 404.
    expect(await refusal(await call("/openai/deployments/gpt-4o/chat/completions", { body: { messages } }))).toMatchObject({
      status: 404,
      body: { error: { message: "Resource not found" } },
    });
    // The Responses API on a dated path before 2025-03-01-preview.
    expect((await refusal(await call(`/openai/responses?${version}`, { body: { model: "gpt-4o", input: "Hi" } }))).status).toBe(400);
    expect((await call("/openai/responses?api-version=2025-03-01-preview", { body: { model: "gpt-4o", input: "Hi" } })).status).toBe(200);
    // The v1 API takes v1, preview or none.
    expect((await refusal(await call(`/openai/v1/chat/completions?${version}`, { body: { model: "gpt-4o", messages } }))).status).toBe(400);
    expect((await call("/openai/v1/chat/completions?api-version=preview", { body: { model: "gpt-4o", messages } })).status).toBe(200);
  });

  it("the model and the operation: no model, an unknown deployment, an operation the model does not do", async () => {
    expect((await refusal(await call("/openai/v1/chat/completions", { body: { messages } }))).status).toBe(400);
    expect(await refusal(await call("/openai/v1/chat/completions", { body: { model: "gpt-5-nowhere", messages } }))).toMatchObject({
      status: 404,
      body: { error: { code: "DeploymentNotFound" } },
    });
    expect(await refusal(await call(`/openai/deployments/gpt-4o/embeddings?${version}`, { body: { input: "a" } }))).toMatchObject({
      status: 400,
      body: { error: { code: "OperationNotSupported" } },
    });
    expect(
      (await refusal(await call(`/openai/deployments/text-embedding-3-large/chat/completions?${version}`, { body: { messages } }))).body
        .error.code,
    ).toBe("OperationNotSupported");
  });

  it("required fields and methods: empty messages, no body, no input, a GET on chat completions", async () => {
    expect((await refusal(await call(chatUrl, { body: { messages: [] } }))).status).toBe(400);
    expect((await refusal(await call(chatUrl, { body: {} }))).status).toBe(400);
    expect((await refusal(await call(`/openai/deployments/text-embedding-3-large/embeddings?${version}`, { body: {} }))).status).toBe(400);
    expect((await refusal(await call(chatUrl))).status).toBe(404);
  });

  it("a 429 without any delay header, when asked to play one", async () => {
    sim.setFault({ kind: "throttle", noDelay: true }, "gpt-4o");
    try {
      const throttled = await call(chatUrl, { body: { messages } });
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBeNull();
      expect(throttled.headers.get("retry-after-ms")).toBeNull();
      valid(errorAnswer, await throttled.json());
    } finally {
      sim.setFault(undefined, "gpt-4o");
    }
  });

  it("a lenient simulator, asked for, accepts what Azure refuses", async () => {
    const lenient = await AzureOpenAISimulator.start({ region: "lenient", lenient: true });
    try {
      expect((await fetch(`${lenient.url}/openai/deployments/gpt-4o/chat/completions`, { method: "POST", body: "{}" })).status).toBe(200);
    } finally {
      await lenient.close();
    }
  });
});

describe("the simulator's PTU, spillover and eventual consistency", () => {
  it("a full PTU spills to its spillover deployment and says so; a spillover named that does not exist is an error header", async () => {
    const ptu = `/openai/deployments/gpt-4o-ptu/chat/completions?${version}`;
    const answers: Response[] = [];
    for (let i = 0; i < 6; i++) answers.push(await call(ptu, { body: { messages, max_tokens: 200 } }));
    const spilled = answers.filter((a) => a.headers.get("x-ms-spillover-from-gpt-4o-ptu") === "true");
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(spilled.length).toBeGreaterThan(0);
    expect(answers[0]?.headers.get("azure-openai-deployment-utilization")).toMatch(/^\d+%$/);
    const wrong = await call(ptu, { body: { messages, max_tokens: 200 }, headers: { "x-ms-spillover-deployment": "nowhere" } });
    expect(wrong.status).toBe(429);
    expect(wrong.headers.get("x-ms-spillover-error")).toBe("SpilloverDeploymentNotFound");
    expect(Number(wrong.headers.get("retry-after-ms"))).toBeGreaterThan(0);
  });

  it("a response created by a streamed call is not found for a while, then is", async () => {
    const data = await events(await call("/openai/v1/responses", { body: { model: "gpt-4o", input: "Hi", stream: true } }));
    const id = (JSON.parse(data[0] ?? "{}") as { response: { id: string } }).response.id;
    expect((await call(`/openai/v1/responses/${id}`)).status).toBe(404);
    const followUp = await call("/openai/v1/responses", { body: { model: "gpt-4o", input: "And?", previous_response_id: id } });
    expect(followUp.status).toBe(400);
    expect(((await followUp.json()) as { error: { code: string } }).error.code).toBe("previous_response_not_found");
    await sleep(350);
    expect((await call(`/openai/v1/responses/${id}`)).status).toBe(200);
  });
});
