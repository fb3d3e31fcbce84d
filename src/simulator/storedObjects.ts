// The stateful half of a simulated Azure OpenAI resource: responses (create, stream, background,
// retrieve, delete, cancel, input items, resumption with `starting_after`), conversations, files
// and batches, each kept in this resource only — so a call that reaches the wrong resource gets
// the same "not found" Azure gives, and the router's owner routing is tested for real.

import {
  badRequest,
  hex,
  idOf,
  inputItems,
  list,
  notFound,
  ok,
  page,
  parseJson,
  parseMultipart,
  responseEvents,
  type SseEvent,
  type StoredAnswer,
  type StoredCall,
} from "./storedAnswers";

export type { SseEvent, StoredAnswer, StoredCall } from "./storedAnswers";

interface StoredResponse {
  object: Record<string, unknown>;
  input: Record<string, unknown>[];
  events: SseEvent[];
  /** Background responses complete at this time (epoch ms), unless cancelled first. */
  completesAt: number;
  /** Reads and follow-ups find it from this time (epoch ms): a streamed create is not visible at once. */
  visibleAt: number;
}

interface StoredFile {
  object: Record<string, unknown>;
  content: Buffer;
}

const now = (): number => Math.floor(Date.now() / 1000);

export class StoredObjects {
  private readonly responses = new Map<string, StoredResponse>();
  private readonly conversations = new Map<string, { object: Record<string, unknown>; items: Record<string, unknown>[] }>();
  private readonly files = new Map<string, StoredFile>();
  private readonly batches = new Map<string, Record<string, unknown>>();

  /** The answer for a stored-object call, or `undefined` when the path is not one. */
  handle(call: StoredCall): StoredAnswer | undefined {
    const parts = call.path.split("/").filter((p) => p !== "");
    const [collection, id, action] = parts;
    const m = call.method;
    switch (collection) {
      case "responses":
        if (id === undefined) return m === "POST" ? this.createResponse(call) : undefined;
        return this.responseById(call, id, action);
      case "conversations":
        if (id === undefined) return m === "POST" ? this.createConversation(call) : undefined;
        return this.conversationById(m, id, action);
      case "files":
        if (id === undefined)
          return m === "POST"
            ? this.createFile(call)
            : m === "GET"
              ? page(
                  [...this.files.values()].map((f) => f.object),
                  call.query,
                )
              : undefined;
        return this.fileById(m, id, action);
      case "batches":
        if (id === undefined)
          return m === "POST" ? this.createBatch(call) : m === "GET" ? page([...this.batches.values()], call.query) : undefined;
        return this.batchById(m, id, action, call.backgroundMs);
      default:
        return undefined;
    }
  }

  private createResponse(call: StoredCall): StoredAnswer {
    const json = parseJson(call.body);
    if (json === undefined) return badRequest("The request body is not valid JSON.");
    const previous = json.previous_response_id;
    if (typeof previous === "string" && !this.visible(previous)) {
      return {
        kind: "json",
        status: 400,
        payload: {
          error: {
            message: `Previous response with id '${previous}' not found.`,
            type: "invalid_request_error",
            param: "previous_response_id",
            code: "previous_response_not_found",
          },
        },
      };
    }
    const conversationId = typeof json.conversation === "string" ? json.conversation : idOf(json.conversation);
    const conversation = conversationId === undefined ? undefined : this.conversations.get(conversationId);
    if (conversationId !== undefined && !conversation) return notFound(`Conversation with id '${conversationId}' not found.`);

    const id = `resp_${hex(24)}`;
    const model = typeof json.model === "string" ? json.model : "gpt-4o";
    const background = json.background === true;
    const turn = (typeof previous === "string" ? this.turnOf(previous) : 0) + 1;
    const text = `Hello from ${call.region}, turn ${turn}.`;
    const message = {
      type: "message",
      id: `msg_${hex(24)}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    };
    const input = inputItems(json.input);
    const object: Record<string, unknown> = {
      id,
      object: "response",
      created_at: now(),
      status: background ? "queued" : "completed",
      background,
      model,
      previous_response_id: typeof previous === "string" ? previous : null,
      conversation: conversationId === undefined ? null : { id: conversationId },
      output: background ? [] : [message],
      usage: background ? null : { input_tokens: 5, output_tokens: 4, total_tokens: 9 },
      metadata: { turn: String(turn) },
    };
    const final = { ...object, status: "completed", output: [message], usage: { input_tokens: 5, output_tokens: 4, total_tokens: 9 } };
    const events = responseEvents(object, final, message, text);
    const visibleAt = json.stream === true ? Date.now() + (call.consistencyMs ?? 0) : 0;
    const stored: StoredResponse = { object, input, events, completesAt: background ? Date.now() + call.backgroundMs : 0, visibleAt };
    if (json.store !== false) this.responses.set(id, stored);
    if (conversation) conversation.items.push(...input, message);
    if (json.stream === true) return { kind: "events", events };
    return ok(this.current(stored));
  }

  /** A response a read or a follow-up finds: stored here, and past its eventual-consistency delay. */
  private visible(id: string): StoredResponse | undefined {
    const stored = this.responses.get(id);
    return stored && Date.now() >= stored.visibleAt ? stored : undefined;
  }

  private responseById(call: StoredCall, id: string, action: string | undefined): StoredAnswer | undefined {
    const stored = this.visible(id);
    if (!stored) return notFound(`Response with id '${id}' not found.`);
    const m = call.method;
    if (action === undefined && m === "GET") {
      if (call.query.get("stream") === "true") {
        const after = Number(call.query.get("starting_after") ?? "-1");
        this.current(stored);
        return { kind: "events", events: stored.events.filter((e) => Number(e.data.sequence_number) > after) };
      }
      return ok(this.current(stored));
    }
    if (action === undefined && m === "DELETE") {
      this.responses.delete(id);
      return ok({ id, object: "response.deleted", deleted: true });
    }
    if (action === "cancel" && m === "POST") {
      const object = this.current(stored);
      if (object.background !== true) return badRequest("Only background responses can be cancelled.");
      if (object.status === "queued" || object.status === "in_progress") object.status = "cancelled";
      return ok(object);
    }
    if (action === "input_items" && m === "GET") return list(stored.input);
    return undefined;
  }

  /** The response as it stands now: a background response completes once its time has come. */
  private current(stored: StoredResponse): Record<string, unknown> {
    const object = stored.object;
    if (object.status === "queued" && Date.now() >= stored.completesAt) {
      const final = stored.events.at(-1)?.data.response as Record<string, unknown>;
      Object.assign(object, { status: "completed", output: final.output, usage: final.usage });
    }
    return object;
  }

  private turnOf(id: string): number {
    const turn = (this.responses.get(id)?.object.metadata as { turn?: string } | undefined)?.turn;
    return Number(turn ?? "0");
  }

  private createConversation(call: StoredCall): StoredAnswer {
    const json = parseJson(call.body) ?? {};
    const id = `conv_${hex(24)}`;
    const object = { id, object: "conversation", created_at: now(), metadata: json.metadata ?? {} };
    this.conversations.set(id, { object, items: inputItems(json.items) });
    return ok(object);
  }

  private conversationById(method: string, id: string, action: string | undefined): StoredAnswer | undefined {
    const conversation = this.conversations.get(id);
    if (!conversation) return notFound(`Conversation with id '${id}' not found.`);
    if (action === undefined && method === "GET") return ok(conversation.object);
    if (action === undefined && method === "DELETE") {
      this.conversations.delete(id);
      return ok({ id, object: "conversation.deleted", deleted: true });
    }
    if (action === "items" && method === "GET") return list(conversation.items);
    return undefined;
  }

  private createFile(call: StoredCall): StoredAnswer {
    const form = parseMultipart(call.body, call.contentType);
    const file = form.get("file");
    const purpose = form.get("purpose")?.content.toString("utf8");
    if (!file || !purpose) return badRequest("A file upload needs the 'file' and 'purpose' fields.");
    const id = `file-${hex(16)}`;
    const object = {
      id,
      object: "file",
      bytes: file.content.length,
      created_at: now(),
      filename: file.filename ?? "upload",
      purpose,
      status: "pending",
    };
    this.files.set(id, { object, content: file.content });
    // Azure answers an upload 201 with the file pending, and processes it in the background.
    const processed = setTimeout(() => Object.assign(object, { status: "processed" }), call.backgroundMs);
    processed.unref();
    return { kind: "json", status: 201, payload: { ...object } };
  }

  private fileById(method: string, id: string, action: string | undefined): StoredAnswer | undefined {
    const file = this.files.get(id);
    if (!file) return notFound(`File with id '${id}' not found.`);
    if (action === undefined && method === "GET") return ok(file.object);
    if (action === undefined && method === "DELETE") {
      this.files.delete(id);
      return ok({ id, object: "file", deleted: true });
    }
    if (action === "content" && method === "GET")
      return { kind: "raw", status: 200, contentType: "application/octet-stream", body: file.content };
    return undefined;
  }

  private createBatch(call: StoredCall): StoredAnswer {
    const json = parseJson(call.body);
    if (json === undefined) return badRequest("The request body is not valid JSON.");
    const input = json.input_file_id;
    if (typeof input !== "string" || !this.files.has(input)) return notFound(`File with id '${String(input)}' not found.`);
    const id = `batch_${hex(16)}`;
    const object = {
      id,
      object: "batch",
      endpoint: json.endpoint ?? "/chat/completions",
      input_file_id: input,
      completion_window: json.completion_window ?? "24h",
      status: "validating",
      created_at: now(),
      output_file_id: null,
      error_file_id: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: json.metadata ?? null,
    };
    this.batches.set(id, object);
    return ok(object);
  }

  private batchById(method: string, id: string, action: string | undefined, backgroundMs: number): StoredAnswer | undefined {
    const batch = this.batches.get(id);
    if (!batch) return notFound(`Batch with id '${id}' not found.`);
    if (batch.status === "validating" && Date.now() - (batch.created_at as number) * 1000 >= backgroundMs) this.completeBatch(batch);
    if (action === undefined && method === "GET") return ok(batch);
    if (action === "cancel" && method === "POST") {
      batch.status = "cancelling";
      return ok(batch);
    }
    return undefined;
  }

  /** A batch done: its output file made in this resource, as Azure's batches write theirs. */
  private completeBatch(batch: Record<string, unknown>): void {
    const id = `file-${hex(16)}`;
    const content = Buffer.from(`${JSON.stringify({ custom_id: "1", response: { status_code: 200, body: { id: "chatcmpl-1" } } })}\n`);
    const object = {
      id,
      object: "file",
      bytes: content.length,
      created_at: now(),
      filename: "batch_output.jsonl",
      purpose: "batch_output",
      status: "processed",
    };
    this.files.set(id, { object, content });
    Object.assign(batch, { status: "completed", output_file_id: id, request_counts: { total: 1, completed: 1, failed: 0 } });
  }
}
