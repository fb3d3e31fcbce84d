// An Azure OpenAI region on loopback: chat completions (JSON and SSE), embeddings, the v1 and
// Responses paths, Azure's headers, and faults to switch on — a throttle with Retry-After, 5xx,
// a hang, a connection reset, and a per-second capacity like a PTU deployment's.
// Used by the demo, the tests and the benchmark; it is a real HTTP server, not a mock.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { chatAnswer, embeddingsAnswer, jsonOf, modelEntry, modelOf } from "./answers";
import { type CapacityAnswer, type CapacityCall, DeploymentCapacities } from "./capacity/deploymentCapacity";
import { writeChatStream } from "./chatStream";
import { type RecordedExchange, ReplayBook, writeRecorded } from "./replay";
import { azureRefusal, type ModelKind, modelKindOf } from "./requestRules";
import type { Fault, RecordedRequest, SimulatorOptions } from "./simulatorOptions";
import { type StoredAnswer, StoredObjects } from "./storedObjects";

export type { Fault, RecordedRequest, SimulatorOptions } from "./simulatorOptions";

const recordLimit = 500;

export class AzureOpenAISimulator {
  /** Requests received, whatever was answered. */
  requestCount = 0;
  /** Requests answered 2xx. */
  servedCount = 0;
  /** Requests whose connection closed before the answer was complete (the router cancelled them). */
  abandonedCount = 0;
  /** The latest requests, oldest first (bounded). */
  readonly received: RecordedRequest[] = [];
  /** Faults by deployment name; `*` for every request. */
  private readonly faults = new Map<string, Fault>();
  /** Per-second windows of accepted requests: `*` for the resource, else per deployment. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly sockets = new Set<Socket>();
  /** Responses, conversations, files and batches made here: only this resource knows them. */
  private readonly objects = new StoredObjects();
  /** Deployments with Azure's admission (provisioned or standard), and the admission of each answer in progress. */
  readonly capacities: DeploymentCapacities;
  private readonly admissions = new WeakMap<ServerResponse, Extract<CapacityAnswer, { admitted: true }>>();
  /** The rate-limit headers of each answer in progress from a deployment without a capacity model. */
  private readonly reported = new WeakMap<ServerResponse, Record<string, string>>();
  private readonly replays: ReplayBook | undefined;

  private constructor(
    private readonly server: Server,
    readonly options: SimulatorOptions,
    readonly url: string,
  ) {
    this.capacities = new DeploymentCapacities({ provisioned: options.provisioned, standard: options.standard });
    this.replays = options.replay ? new ReplayBook(options.replay) : undefined;
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  static async start(options: SimulatorOptions): Promise<AzureOpenAISimulator> {
    let simulator: AzureOpenAISimulator | undefined;
    const server = createServer((req, res) => simulator?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
    const address = server.address() as AddressInfo;
    simulator = new AzureOpenAISimulator(server, options, `http://${address.address}:${address.port}`);
    return simulator;
  }

  get region(): string {
    return this.options.region;
  }

  /** Switches a fault on (or off with `undefined`) for every following request, or only for one deployment's. */
  setFault(fault: Fault | undefined, deployment = "*"): void {
    if (fault) this.faults.set(deployment, fault);
    else this.faults.delete(deployment);
  }

  resetCounts(): void {
    this.requestCount = 0;
    this.servedCount = 0;
    this.abandonedCount = 0;
    this.received.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.once("close", () => {
      if (!res.writableFinished) this.abandonedCount++;
    });
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      this.requestCount++;
      this.received.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body });
      if (this.received.length > recordLimit) this.received.shift();
      const replayed = this.replays?.match(req.method ?? "GET", req.url ?? "/", body.toString("utf8"));
      if (replayed) return this.replay(res, replayed);
      const latency = this.options.latencyMs ?? 0;
      if (latency > 0) setTimeout(() => this.respond(req, res, body), latency);
      else this.respond(req, res, body);
    });
  }

  /** A recorded answer, at its recorded timing (scaled by `replaySpeed`). */
  private replay(res: ServerResponse, exchange: RecordedExchange): void {
    if (exchange.response.status < 300) this.servedCount++;
    writeRecorded(res, exchange, this.options.replaySpeed ?? 1);
  }

  private respond(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(path)?.[1] ?? modelOf(req, body);
    const fault = (deployment === undefined ? undefined : this.faults.get(deployment)) ?? this.faults.get("*");
    if (fault?.kind === "hang") return;
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "throttle") return this.throttle(res, fault);
    // breakAfter answers first, then breaks: handled where the answer is written.
    if (fault?.kind === "error")
      return this.sendJson(res, fault.status, { error: { code: "InternalServerError", message: "The server had an error." } });
    if (!this.authorized(req)) {
      return this.sendJson(res, 401, {
        error: { code: "401", message: "Access denied due to invalid subscription key or wrong API endpoint." },
      });
    }
    const known = this.options.deployments;
    if (known && deployment !== undefined && !known.includes(deployment)) {
      return this.sendJson(res, 404, {
        error: {
          code: "DeploymentNotFound",
          message:
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        },
      });
    }
    if (!this.options.lenient) {
      const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
      const kindOf = (name: string) => this.kindOf(name);
      const refusal = azureRefusal({ method: req.method ?? "GET", path, query, json: jsonOf(body), deployment, kindOf });
      if (refusal) return this.sendJson(res, refusal.status, refusal.payload);
    }
    const full =
      this.overCapacity("*", this.options.capacityPerSecond) ??
      (deployment === undefined ? undefined : this.overCapacity(deployment, this.options.deploymentCapacityPerSecond?.[deployment]));
    if (full !== undefined) return this.throttle(res, { kind: "throttle", retryAfterMs: full, retryAfterSeconds: Math.ceil(full / 1000) });
    if (deployment !== undefined && req.method === "POST") {
      const call = { json: jsonOf(body), embeddings: path.endsWith("/embeddings"), responses: /\/responses$/.test(path) };
      const admission = this.capacities.admit(deployment, call, Date.now());
      if (admission && !admission.admitted) {
        const spilled = this.spill(req, deployment, call);
        if (!spilled.served) return this.throttle(res, { kind: "throttle", headers: { ...admission.headers, ...spilled.headers } });
        this.reported.set(res, spilled.headers);
        return this.route(req, res, body);
      }
      if (admission) this.admissions.set(res, admission);
      else this.reported.set(res, this.capacities.reportedHeaders(deployment, call, Date.now()));
    }
    this.route(req, res, body);
  }

  /** A refused call on a provisioned deployment: served by its spillover deployment, or the reason not. */
  private spill(req: IncomingMessage, deployment: string, call: CapacityCall): { served: boolean; headers: Record<string, string> } {
    const asked = req.headers["x-ms-spillover-deployment"];
    const target = (Array.isArray(asked) ? asked[0] : asked) ?? this.options.spillover?.[deployment];
    return this.capacities.spill({ from: deployment, to: target, known: this.options.deployments }, call, Date.now());
  }

  private kindOf(name: string): ModelKind {
    return this.options.modelKinds?.[name] ?? modelKindOf(name);
  }

  private authorized(req: IncomingMessage): boolean {
    const { apiKey, bearerToken } = this.options;
    if (apiKey === undefined && bearerToken === undefined) return true;
    if (apiKey !== undefined && req.headers["api-key"] === apiKey) return true;
    return bearerToken !== undefined && req.headers.authorization === `Bearer ${bearerToken}`;
  }

  /** Takes one request from a per-second window; `undefined` when it fits, else ms until the window turns. */
  private overCapacity(key: string, capacity: number | undefined): number | undefined {
    if (capacity === undefined) return undefined;
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= 1000) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count <= capacity ? undefined : 1000 - (now - window.start);
  }

  private throttle(res: ServerResponse, fault: Extract<Fault, { kind: "throttle" }>): void {
    const headers: Record<string, string> = {};
    if (fault.headers) Object.assign(headers, fault.headers);
    else if (!fault.noDelay) {
      if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(Math.round(fault.retryAfterMs));
      if (fault.retryAfterDate !== undefined) headers["retry-after"] = fault.retryAfterDate.toUTCString();
      else headers["retry-after"] = String(fault.retryAfterSeconds ?? Math.max(1, Math.ceil((fault.retryAfterMs ?? 1000) / 1000)));
    }
    this.sendJson(
      res,
      429,
      {
        error: {
          code: "429",
          message: `Requests to the ChatCompletions_Create Operation have exceeded token rate limit. ${headers["retry-after"] === undefined ? "Please retry later." : `Please retry after ${headers["retry-after"]} seconds.`}`,
        },
      },
      headers,
    );
  }

  private route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(path)?.[1];
    const storedPath = /^\/openai(?:\/v1)?(\/(?:responses|conversations|files|batches)(?:\/.*)?)$/.exec(path)?.[1];
    if (storedPath !== undefined) {
      const answer = this.objects.handle({
        method: req.method ?? "GET",
        path: storedPath,
        query: new URLSearchParams((req.url ?? "").split("?")[1] ?? ""),
        contentType: req.headers["content-type"] ?? "",
        body,
        region: this.options.region,
        backgroundMs: this.options.backgroundMs ?? 200,
        consistencyMs: this.options.consistencyMs,
      });
      if (answer) return this.sendStored(res, answer);
    }
    if (path.endsWith("/audio/transcriptions")) {
      return this.sendJson(res, 200, { text: `Transcribed by ${this.options.region} with ${deployment ?? modelOf(req, body)}.` });
    }
    let json: {
      model?: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
      input?: unknown;
      encoding_format?: string;
    } = {};
    try {
      if (body.length > 0) json = JSON.parse(body.toString("utf8"));
    } catch {
      return this.sendJson(res, 400, { error: { code: "BadRequest", message: "The request body is not valid JSON." } });
    }
    const model = deployment ?? json.model ?? "gpt-4o";
    const streamFault = this.streamFaultFor(model);
    const breakAt = streamFault?.kind === "breakAfter" ? streamFault.events : undefined;
    if (path.endsWith("/chat/completions")) {
      if (json.stream) return this.streamChat(res, model, streamFault, json.stream_options?.include_usage === true);
      if (breakAt !== undefined) return this.sendBrokenJson(res, this.chat(model, res));
      return this.sendJson(res, 200, this.chat(model, res));
    }
    if (path.endsWith("/embeddings")) return this.sendJson(res, 200, embeddingsAnswer(model, json.input, json.encoding_format));
    if (path === "/openai/models" || path === "/openai/v1/models") {
      return this.sendJson(res, 200, {
        object: "list",
        data: (this.options.deployments ?? ["gpt-4o"]).map((id) => modelEntry(id, this.kindOf(id))),
      });
    }
    this.sendJson(res, 404, { error: { code: "404", message: "Resource not found" } });
  }

  private azureHeaders(): Record<string, string> {
    return {
      "x-ms-region": this.options.region,
      "apim-request-id": randomUUID(),
      "x-request-id": randomUUID(),
      ...this.options.answerHeaders,
    };
  }

  private sendJson(res: ServerResponse, status: number, payload: unknown, extra: Record<string, string> = {}): void {
    const body = Buffer.from(JSON.stringify(payload));
    if (status < 300) this.servedCount++;
    const admission = this.admissions.get(res);
    res.writeHead(status, {
      ...this.azureHeaders(),
      ...(admission?.headers ?? this.reported.get(res)),
      ...extra,
      "content-type": "application/json",
      "content-length": body.length,
    });
    res.end(body);
    // The charge becomes what the answer wrote.
    admission?.settle((payload as { usage?: { completion_tokens?: number } } | undefined)?.usage?.completion_tokens ?? 0);
  }

  private sendStored(res: ServerResponse, answer: StoredAnswer): void {
    if (answer.kind === "json") return this.sendJson(res, answer.status, answer.payload);
    if (answer.kind === "raw") {
      if (answer.status < 300) this.servedCount++;
      res.writeHead(answer.status, { ...this.azureHeaders(), "content-type": answer.contentType, "content-length": answer.body.length });
      res.end(answer.body);
      return;
    }
    this.servedCount++;
    res.writeHead(200, { ...this.azureHeaders(), "content-type": "text/event-stream", "cache-control": "no-cache" });
    const delay = this.options.streamChunkDelayMs ?? 20;
    let sent = 0;
    const next = (): void => {
      if (res.destroyed) return;
      const event = answer.events[sent++];
      if (!event) {
        res.end();
        return;
      }
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
      setTimeout(next, delay);
    };
    next();
  }

  /** Completion tokens this answer writes: the configured length, at most the call's maximum. */
  private completionFor(res: ServerResponse): number {
    const wanted = this.options.completionTokens ?? 4;
    const admission = this.admissions.get(res);
    return admission ? Math.min(wanted, admission.maxTokens) : wanted;
  }

  private chat(model: string, res: ServerResponse): unknown {
    return chatAnswer({
      model,
      region: this.options.region,
      promptTokens: this.admissions.get(res)?.promptTokens ?? 9,
      completionTokens: this.completionFor(res),
    });
  }

  /** A JSON answer whose connection dies halfway through the body. */
  private sendBrokenJson(res: ServerResponse, payload: unknown): void {
    const body = Buffer.from(JSON.stringify(payload));
    this.servedCount++;
    res.writeHead(200, { ...this.azureHeaders(), "content-type": "application/json", "content-length": body.length });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
  }

  /** The fault that shapes a 200 answer's body for `model`, if any. */
  private streamFaultFor(model: string): Extract<Fault, { kind: "breakAfter" | "endEarly" | "errorEvent" }> | undefined {
    for (const fault of [this.faults.get(model), this.faults.get("*")]) {
      if (fault?.kind === "breakAfter" || fault?.kind === "endEarly" || fault?.kind === "errorEvent") return fault;
    }
    return undefined;
  }

  private streamChat(
    res: ServerResponse,
    model: string,
    fault: Extract<Fault, { kind: "breakAfter" | "endEarly" | "errorEvent" }> | undefined,
    includeUsage = false,
  ): void {
    this.servedCount++;
    const admission = this.admissions.get(res);
    writeChatStream(res, {
      headers: { ...this.azureHeaders(), ...(admission?.headers ?? this.reported.get(res)) },
      model,
      fault,
      includeUsage,
      region: this.options.region,
      chunks: this.options.streamChunks ?? 5,
      delayMs: this.options.streamChunkDelayMs ?? 20,
      promptTokens: admission?.promptTokens ?? 9,
      settle: (completion) => admission?.settle(completion),
    });
  }
}
