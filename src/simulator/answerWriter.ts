// How the simulated region writes an answer on the wire: Azure's headers on every answer, a JSON
// body with its length, a 429 as Azure words it, a stored object's answer (JSON, raw bytes or an
// event stream), and a JSON answer whose connection dies halfway. No state: the simulator counts.

import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Fault } from "./simulatorOptions";
import type { StoredAnswer } from "./storedAnswers";

/** The headers every Azure answer carries (and the options' extra ones). */
export function azureHeaders(region: string, extra: Record<string, string> | undefined): Record<string, string> {
  return { "x-ms-region": region, "apim-request-id": randomUUID(), "x-request-id": randomUUID(), ...extra };
}

export function writeJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

/** A 429 as Azure sends it: the fault's headers as given, else `retry-after-ms` and `retry-after` from its delay. */
export function throttleAnswer(fault: Extract<Fault, { kind: "throttle" }>): { payload: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (fault.headers) Object.assign(headers, fault.headers);
  else if (!fault.noDelay) {
    if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(Math.round(fault.retryAfterMs));
    if (fault.retryAfterDate !== undefined) headers["retry-after"] = fault.retryAfterDate.toUTCString();
    else headers["retry-after"] = String(fault.retryAfterSeconds ?? Math.max(1, Math.ceil((fault.retryAfterMs ?? 1000) / 1000)));
  }
  const after = headers["retry-after"] === undefined ? "Please retry later." : `Please retry after ${headers["retry-after"]} seconds.`;
  const message = `Requests to the ChatCompletions_Create Operation have exceeded token rate limit. ${after}`;
  return { payload: { error: { code: "429", message } }, headers };
}

/** A stored object's answer that is not JSON: raw bytes (a file's content) or an event stream. */
export function writeStoredBody(
  res: ServerResponse,
  answer: Exclude<StoredAnswer, { kind: "json" }>,
  headers: Record<string, string>,
  delayMs: number,
): void {
  if (answer.kind === "raw") {
    res.writeHead(answer.status, { ...headers, "content-type": answer.contentType, "content-length": answer.body.length });
    res.end(answer.body);
    return;
  }
  res.writeHead(200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" });
  let sent = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const event = answer.events[sent++];
    if (!event) {
      res.end();
      return;
    }
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    setTimeout(next, delayMs);
  };
  next();
}

/** A JSON answer whose connection dies halfway through the body. */
export function writeBrokenJson(res: ServerResponse, payload: unknown, headers: Record<string, string>): void {
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(200, { ...headers, "content-type": "application/json", "content-length": body.length });
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
}
