// Calls the Functions entry point's handler the way the Functions host does: a real HttpRequest
// and InvocationContext from @azure/functions, with the invocation's log lines captured.

import { HttpRequest, type HttpResponseInit, InvocationContext } from "@azure/functions";
import type { RequestHandler } from "../../src/core/routing/router";
import type { LogSink } from "../../src/hosts/eventLog";
import { handleHttp } from "../../src/hosts/functions/httpAdapter";

export interface FunctionsCall {
  response: HttpResponseInit;
  headers: Headers;
  /** Lines logged through the invocation's context, and (for streams) through the worker's log after it returned. */
  logs: { level: string; args: unknown[] }[];
}

export async function callFunction(
  handler: RequestHandler,
  init: { method: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<FunctionsCall> {
  const logs: FunctionsCall["logs"] = [];
  const context = new InvocationContext({
    invocationId: `test-${Math.random().toString(16).slice(2)}`,
    functionName: "openai",
    logHandler: (level, ...args) => logs.push({ level, args }),
  });
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? { string: init.body } : { bytes: init.body };
  const request = new HttpRequest({ method: init.method, url: `http://localhost:7071${init.path}`, headers: init.headers ?? {}, body });
  const workerLog: LogSink = {
    debug: (fields) => logs.push({ level: "debug", args: [JSON.stringify(fields)] }),
    info: (fields) => logs.push({ level: "information", args: [JSON.stringify(fields)] }),
    warn: (fields) => logs.push({ level: "warning", args: [JSON.stringify(fields)] }),
    error: (fields) => logs.push({ level: "error", args: [JSON.stringify(fields)] }),
  };
  const response = await handleHttp(handler, request, context, workerLog);
  return { response, headers: new Headers(response.headers as [string, string][]), logs };
}

/** The body of a Functions response as text (reads a stream to its end). */
export async function bodyText(response: HttpResponseInit): Promise<string> {
  const body = response.body;
  if (body === undefined || body === null) return "";
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}
