// Upstream over undici: one Agent for the process (a keep-alive pool per backend origin),
// created at start-up and shared by every call.

import type { EventEmitter } from "node:events";
import { Agent, type Dispatcher } from "undici";
import type { CallerSignal } from "../core/request/exchange";
import { type Upstream, UpstreamError, type UpstreamRequest, type UpstreamResponse } from "../core/routing/upstream";

export interface UndiciUpstreamOptions {
  /** Longest pause between body chunks before a stream is cut. Default 120 s. */
  bodyTimeoutMs?: number;
  /** Time to open a connection. Default 10 s. */
  connectTimeoutMs?: number;
}

export class UndiciUpstream implements Upstream {
  private readonly agent: Agent;
  private readonly bodyTimeoutMs: number;

  constructor(options: UndiciUpstreamOptions = {}) {
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? 120_000;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  async send(origin: string, request: UpstreamRequest): Promise<UpstreamResponse> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.agent.request({
        origin,
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        // undici sends a buffer as is, and an array of pieces one after the other: it takes any
        // iterable at run time (lib/core/request.js), though its types list only some bodies.
        body: request.body as unknown as Dispatcher.DispatchOptions["body"],
        // undici takes an AbortSignal or an EventEmitter that emits "abort"; CallerSignal is either.
        signal: request.signal as AbortSignal | EventEmitter | undefined,
        headersTimeout: request.headersTimeoutMs,
        bodyTimeout: this.bodyTimeoutMs,
      });
    } catch (error) {
      throw classify(error, request.signal);
    }
    const body = response.body;
    return {
      status: response.statusCode,
      headers: response.headers,
      body,
      // dump() reads and drops a small body so the connection is reused, or closes it.
      discard: () => void body.dump().catch(() => {}),
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function classify(error: unknown, signal: CallerSignal | undefined): UpstreamError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (signal?.aborted || code === "UND_ERR_ABORTED" || (error as Error).name === "AbortError") {
    return new UpstreamError("aborted", "the caller went away", { cause: error });
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return new UpstreamError("timeout", `no response in time (${code})`, { cause: error });
  }
  return new UpstreamError("connectionError", `${code ?? "error"}: ${withoutAddresses(message)}`, { cause: error });
}

/**
 * An error message without the host and port it names ("connect ECONNREFUSED 10.0.0.4:443"): the
 * log line already names the backend, and its address is no business of anyone reading logs.
 */
export function withoutAddresses(message: string): string {
  return message
    .replace(/\[[0-9a-f:.]+\](:\d+)?/gi, "<address>")
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, "<address>")
    .replace(/\b[a-z0-9-]+(\.[a-z0-9-]+)+:\d+\b/gi, "<address>")
    .replace(/(ENOTFOUND|EAI_AGAIN) \S+/g, "$1 <address>");
}
