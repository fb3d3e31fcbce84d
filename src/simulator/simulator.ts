// An Azure OpenAI region on loopback: chat completions (JSON and SSE), embeddings, the v1 and
// Responses paths, Azure's headers, and faults to switch on — a throttle with Retry-After, 5xx,
// a hang, a connection reset, and a per-second capacity like a PTU deployment's.
// Used by the demo, the tests and the benchmark; it is a real HTTP server, not a mock.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { chatAnswer, embeddingsAnswer, jsonOf, modelEntry, modelOf } from "./answers";
import { azureHeaders, throttleAnswer, writeBrokenJson, writeJson, writeStoredBody } from "./answerWriter";
import { type CapacityAnswer, type CapacityCall, DeploymentCapacities } from "./capacity/deploymentCapacity";
import { writeChatStream } from "./chatStream";
import { PerSecondWindows } from "./perSecondWindows";
import { type RecordedExchange, ReplayBook, writeRecorded } from "./replay";
import { azureRefusal, deploymentNotFound, keyAccepted, type ModelKind, modelKindOf, unauthorized } from "./requestRules";
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
  private readonly windows = new PerSecondWindows();
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
    if (!keyAccepted(req.headers, this.options)) return this.sendJson(res, unauthorized.status, unauthorized.payload);
    const known = this.options.deployments;
    if (known && deployment !== undefined && !known.includes(deployment))
      return this.sendJson(res, deploymentNotFound.status, deploymentNotFound.payload);
    if (!this.options.lenient) {
      const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
      const kindOf = (name: string) => this.kindOf(name);
      const refusal = azureRefusal({ method: req.method ?? "GET", path, query, json: jsonOf(body), deployment, kindOf });
      if (refusal) return this.sendJson(res, refusal.status, refusal.payload);
    }
    const full =
      this.windows.take("*", this.options.capacityPerSecond, Date.now()) ??
      (deployment === undefined
        ? undefined
        : this.windows.take(deployment, this.options.deploymentCapacityPerSecond?.[deployment], Date.now()));
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

  private throttle(res: ServerResponse, fault: Extract<Fault, { kind: "throttle" }>): void {
    const { payload, headers } = throttleAnswer(fault);
    this.sendJson(res, 429, payload, headers);
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

  private headersFor(res: ServerResponse): Record<string, string> {
    return { ...azureHeaders(this.options.region, this.options.answerHeaders), ...this.limitHeaders(res) };
  }

  /** The rate-limit headers of an answer in progress: its admission's, or those reported for its deployment. */
  private limitHeaders(res: ServerResponse): Record<string, string> | undefined {
    return this.admissions.get(res)?.headers ?? this.reported.get(res);
  }

  private sendJson(res: ServerResponse, status: number, payload: unknown, extra: Record<string, string> = {}): void {
    if (status < 300) this.servedCount++;
    writeJson(res, status, payload, { ...this.headersFor(res), ...extra });
    // The charge becomes what the answer wrote.
    this.admissions.get(res)?.settle((payload as { usage?: { completion_tokens?: number } } | undefined)?.usage?.completion_tokens ?? 0);
  }

  private sendStored(res: ServerResponse, answer: StoredAnswer): void {
    if (answer.kind === "json") return this.sendJson(res, answer.status, answer.payload);
    if (answer.kind === "events" || answer.status < 300) this.servedCount++;
    writeStoredBody(res, answer, azureHeaders(this.options.region, this.options.answerHeaders), this.options.streamChunkDelayMs ?? 20);
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

  private sendBrokenJson(res: ServerResponse, payload: unknown): void {
    this.servedCount++;
    writeBrokenJson(res, payload, azureHeaders(this.options.region, this.options.answerHeaders));
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
      headers: this.headersFor(res),
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
