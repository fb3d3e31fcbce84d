// The stored-object API's answers and bodies, as the simulated resource writes and reads them:
// the answer kinds, a streamed response's numbered events, pages and lists, Azure's "not found"
// and "bad request", and the JSON and multipart bodies of the create calls.

import { randomBytes } from "node:crypto";

/** Random hex of `bytes` bytes, as Azure's ids carry. */
export const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

/** A call on the stored-object API, as the simulator hands it over. */
export interface StoredCall {
  method: string;
  /** Path after `/openai` or `/openai/v1`, e.g. `/responses/resp_1/cancel`. */
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: Buffer;
  region: string;
  /** How long a background response stays queued before it completes. */
  backgroundMs: number;
  /** How long a response created by a streamed call stays invisible to reads and follow-ups (Azure's eventual consistency). */
  consistencyMs?: number;
}

/** What the simulator writes: a JSON answer, or server-sent events. */
export type StoredAnswer =
  | { kind: "json"; status: number; payload: unknown }
  | { kind: "raw"; status: number; contentType: string; body: Buffer }
  | { kind: "events"; events: readonly SseEvent[] };

export interface SseEvent {
  type: string;
  data: Record<string, unknown>;
}

/** The events of a streamed response, numbered for resumption (`starting_after`). */
export function responseEvents(
  created: Record<string, unknown>,
  final: Record<string, unknown>,
  message: Record<string, unknown>,
  text: string,
): SseEvent[] {
  const inProgress = { ...created, status: "in_progress", output: [], usage: null };
  const events: Omit<SseEvent["data"], "sequence_number">[] = [
    { type: "response.created", response: inProgress },
    { type: "response.in_progress", response: inProgress },
    { type: "response.output_item.added", output_index: 0, item: { ...message, status: "in_progress", content: [] } },
    // As Azure frames a message's text: its content part opened, the deltas (with their logprobs),
    // the whole text, the part closed, then the item.
    {
      type: "response.content_part.added",
      item_id: message.id,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [], logprobs: [] },
    },
    ...text.split(" ").map((word, i) => ({
      type: "response.output_text.delta",
      item_id: message.id,
      output_index: 0,
      content_index: 0,
      delta: i === 0 ? word : ` ${word}`,
      logprobs: [],
    })),
    { type: "response.output_text.done", item_id: message.id, output_index: 0, content_index: 0, text, logprobs: [] },
    {
      type: "response.content_part.done",
      item_id: message.id,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text, annotations: [], logprobs: [] },
    },
    { type: "response.output_item.done", output_index: 0, item: message },
    { type: "response.completed", response: final },
  ];
  return events.map((data, sequence) => ({ type: String(data.type), data: { ...data, sequence_number: sequence } }));
}

export function inputItems(input: unknown): Record<string, unknown>[] {
  if (typeof input === "string") {
    return [{ type: "message", id: `msg_${hex(24)}`, role: "user", content: [{ type: "input_text", text: input }] }];
  }
  if (!Array.isArray(input)) return [];
  return input
    .filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null)
    .map((item) => ({ id: `msg_${hex(24)}`, ...item }));
}

export function idOf(value: unknown): string | undefined {
  const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : undefined;
}

/** A page of a listed collection: `limit` (default 20) items after the id `after`, newest last. */
export function page(data: readonly unknown[], query: URLSearchParams): StoredAnswer {
  const after = query.get("after");
  const limit = Math.max(1, Math.min(10_000, Number(query.get("limit") ?? "20") || 20));
  const start = after === null ? 0 : data.findIndex((item) => idOf(item) === after) + 1;
  const slice = data.slice(start, start + limit);
  const ids = slice.map(idOf);
  return {
    kind: "json",
    status: 200,
    payload: { object: "list", data: slice, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null, has_more: start + limit < data.length },
  };
}

export function list(data: readonly unknown[]): StoredAnswer {
  const ids = data.map(idOf);
  return {
    kind: "json",
    status: 200,
    payload: { object: "list", data, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null, has_more: false },
  };
}

export function ok(payload: unknown): StoredAnswer {
  return { kind: "json", status: 200, payload };
}

export function notFound(message: string): StoredAnswer {
  return { kind: "json", status: 404, payload: { error: { message, type: "invalid_request_error", code: "not_found" } } };
}

export function badRequest(message: string): StoredAnswer {
  return { kind: "json", status: 400, payload: { error: { message, type: "invalid_request_error", code: "BadRequest" } } };
}

export function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.length === 0 ? "{}" : body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of a multipart form: enough of RFC 7578 for the SDK's uploads. */
export function parseMultipart(body: Buffer, contentType: string): Map<string, { filename?: string; content: Buffer }> {
  const fields = new Map<string, { filename?: string; content: Buffer }>();
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return fields;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length + 2; // past the delimiter and its CRLF
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start, next - 2); // the CRLF before the next delimiter
    const split = part.indexOf("\r\n\r\n");
    if (split !== -1) {
      const head = part.subarray(0, split).toString("utf8");
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      if (name !== undefined) fields.set(name, { filename, content: part.subarray(split + 4) });
    }
    at = next;
  }
  return fields;
}
