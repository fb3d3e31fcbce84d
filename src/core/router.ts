// The router's routes, framework-free: /openai/* is forwarded, /health and /status are answered
// from memory, everything else is 404. Every host (Functions, plain Node) calls `handle`.

import type { BreakerBoard } from "./breakerBoard";
import type { ClientAuthenticator } from "./clientAuth";
import type { Clock } from "./clock";
import { errorResponse } from "./errors";
import type { RouterEvents } from "./events";
import type { Forwarder } from "./forwarder";
import { headerValue, type RouterRequest, type RouterResponse } from "./http";
import { readBodyWithin } from "./requestBody";

/** What /status says about shared state; supplied by the state sync. */
export interface SharedStateStatus {
  store: string;
  connected: boolean;
  lastRefreshAt: string | null;
  /** Store operations by this instance since start. */
  reads: number;
  writes: number;
}

export interface RouterDeps {
  forwarder: Forwarder;
  board: BreakerBoard;
  authenticate: ClientAuthenticator;
  clock: Clock;
  events: RouterEvents;
  maxRequestBytes: number;
  /** When set, `x-azure-fdid` must match (not checked on /health). */
  frontDoorId: string | undefined;
  instance: string;
  sharedState: () => SharedStateStatus;
}

/** Answers every call with one error, for a router whose settings are wrong. */
export interface RequestHandler {
  handle(request: RouterRequest): Promise<RouterResponse>;
}

const openaiPrefix = "/openai/";
const noStore = { "cache-control": "no-store" };

export class Router implements RequestHandler {
  constructor(private readonly deps: RouterDeps) {}

  async handle(request: RouterRequest): Promise<RouterResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      // Anything unexpected becomes an opaque 500: no stack, no backend detail reaches the caller.
      this.deps.events.unexpectedError?.(error);
      return errorResponse("InternalError", "The router failed to handle the request.");
    }
  }

  private async route(request: RouterRequest): Promise<RouterResponse> {
    const url = request.url;
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith(openaiPrefix)) return this.forward(request, path);
    if (path === "/health" && (request.method === "GET" || request.method === "HEAD")) return this.health(request.method);
    if (path === "/status" && request.method === "GET") {
      const rejected = this.gate(request, path);
      return rejected ?? this.status();
    }
    return errorResponse("NotFound", "Unknown route. The router serves /openai/*, /health and /status.");
  }

  private async forward(request: RouterRequest, path: string): Promise<RouterResponse> {
    const rejected = this.gate(request, path);
    if (rejected) return rejected;
    const declared = Number(headerValue(request.headers, "content-length"));
    const body = await readBodyWithin(request.body, this.deps.maxRequestBytes, Number.isFinite(declared) ? declared : undefined);
    if (body === undefined) {
      return this.rejected(
        request,
        path,
        errorResponse("RequestTooLarge", `The request body is larger than ${this.deps.maxRequestBytes} bytes.`),
      );
    }
    const hasBody = body.length > 0 || (request.method !== "GET" && request.method !== "HEAD");
    return this.deps.forwarder.forward({
      method: request.method,
      url: request.url,
      path,
      headers: request.headers,
      body: hasBody ? body : undefined,
      signal: request.signal,
    });
  }

  /** Front Door lock and client key, in that order; `undefined` lets the call through. */
  private gate(request: RouterRequest, path: string): RouterResponse | undefined {
    const { frontDoorId, authenticate } = this.deps;
    if (frontDoorId !== undefined && headerValue(request.headers, "x-azure-fdid") !== frontDoorId) {
      return this.rejected(request, path, errorResponse("Forbidden", "Calls must come through the configured Azure Front Door."));
    }
    if (!authenticate(request.headers)) {
      return this.rejected(
        request,
        path,
        errorResponse(
          "Unauthorized",
          "Access denied due to missing or invalid key. Send it as 'api-key: <key>' or 'Authorization: Bearer <key>'.",
          {
            "www-authenticate": "Bearer",
          },
        ),
      );
    }
    return undefined;
  }

  private rejected(request: RouterRequest, path: string, response: RouterResponse): RouterResponse {
    response.summary = {
      method: request.method,
      path,
      status: response.status,
      servedBy: undefined,
      attempts: 0,
      latencyMs: 0,
      outcome: "rejected",
    };
    return response;
  }

  private health(method: string): RouterResponse {
    const { board, clock } = this.deps;
    const now = clock.now();
    const available = board.availableCount(now);
    const total = board.size;
    const healthy = available > 0;
    const payload = Buffer.from(JSON.stringify({ status: healthy ? "healthy" : "unavailable", backends: { available, total } }));
    const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(payload.length), ...noStore };
    if (!healthy) headers["retry-after"] = String(board.retryAfterSeconds(now));
    return { status: healthy ? 200 : 503, headers, body: method === "HEAD" ? undefined : payload };
  }

  private status(): RouterResponse {
    const { board, clock, instance, sharedState } = this.deps;
    const now = clock.now();
    const payload = Buffer.from(
      JSON.stringify({ instance, time: new Date(now).toISOString(), sharedState: sharedState(), backends: board.view(now) }),
    );
    return {
      status: 200,
      headers: { "content-type": "application/json", "content-length": String(payload.length), ...noStore },
      body: payload,
    };
  }
}

/** Stands in for the router when settings are invalid: every call 500 `RouterMisconfigured`, /health 503. */
export function misconfiguredHandler(): RequestHandler {
  return {
    handle: async (request) => {
      const path = request.url.split("?")[0];
      if (path === "/health") {
        return errorResponse("NoBackendAvailable", "The router is misconfigured; see its log.", { "retry-after": "60", ...noStore });
      }
      return errorResponse("RouterMisconfigured", "The router is misconfigured; the operator must fix its settings (see its log).");
    },
  };
}
