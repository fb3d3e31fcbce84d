// The core's own work per call, without sockets, processes or a backend: the composed router
// (createRouterApp, as the hosts build it) in front of an in-process upstream that answers at once
// with a canned body, called the way the Node host calls it, the answer read to its end through the
// hosts' body reporter and the call's line judged as the Node host judges it. What a change to the request
// path costs shows here in microseconds per call, without the noise of a load test: CPU per call,
// the median of several rounds, with the harness's own cost (the same request and answer objects,
// no router) measured beside it and taken off.
//
//   node dist/bench/perCall.js [--calls N] [--rounds R] [--only <scenario name prefix>]

import { EventEmitter } from "node:events";
import { MemoryStateStore } from "../src/adapters/memoryStateStore";
import { systemClock } from "../src/core/clock";
import { readSettings } from "../src/core/config/settings";
import type { HandledCall, RouterRequest } from "../src/core/request/exchange";
import type { Upstream, UpstreamResponse } from "../src/core/routing/upstream";
import { callLevel } from "../src/hosts/eventLog";
import { BodyReporter } from "../src/hosts/responseBody";
import { createRouterApp } from "../src/routerApp";
import { chatAnswer } from "../src/simulator/answers";
import { chatBody, chatPath, clientKey, median, option, v1Body, v1Path } from "./measure";

const arg = (name: string, fallback: number) => {
  const value = Number(option(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const answerBody = Buffer.from(JSON.stringify(chatAnswer({ model: "gpt-4o", region: "bench", promptTokens: 9, completionTokens: 4 })));
const answerHeaders = { "content-type": "application/json", "content-length": String(answerBody.length), "x-ms-region": "bench" };
const streamChunks = [0, 1, 2, 3, 4].map((i) => Buffer.from(`data: {"choices":[{"index":0,"delta":{"content":"w${i}"}}]}\n\n`));
const streamEnd = Buffer.from("data: [DONE]\n\n");

interface Scenario {
  name: string;
  config: object;
  env?: Record<string, string>;
  path: string;
  body: Buffer;
  stream?: boolean;
}

/** The bench's chat body, as bytes once. */
const chat = Buffer.from(chatBody);
const backend = { name: "steady", url: "http://127.0.0.1:9", auth: { type: "none" } };
const scenarios: Scenario[] = [
  { name: "chat, deployment path, no clients", config: { backends: [backend] }, path: chatPath, body: chat },
  {
    name: "chat, a client with limits",
    config: {
      backends: [backend],
      clients: [{ name: "bench-app", keySetting: "BENCH_APP_KEYS", limits: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } }],
    },
    env: { ROUTER_CLIENT_KEYS: "", BENCH_APP_KEYS: clientKey },
    path: chatPath,
    body: chat,
  },
  {
    name: "v1 2 KB, model renamed (body rewritten)",
    config: { backends: [{ ...backend, deployments: { "gpt-4o": "gpt-4o-bench" } }] },
    path: v1Path,
    body: Buffer.from(v1Body(2_000)),
  },
  { name: "chat streamed (5 chunks)", config: { backends: [backend] }, path: chatPath, body: chat, stream: true },
];

/** The backend's answer, made the way undici hands one over: status, headers, a body read once. */
function answerFor(stream: boolean): UpstreamResponse {
  if (!stream) {
    return {
      status: 200,
      headers: answerHeaders,
      body: (async function* () {
        yield answerBody;
      })(),
      discard: () => {},
    };
  }
  return {
    status: 200,
    headers: { "content-type": "text/event-stream" },
    body: (async function* () {
      for (const chunk of streamChunks) yield chunk;
      yield streamEnd;
    })(),
    discard: () => {},
  };
}

/** An upstream that answers at once; the request body it is handed is left as undici would take it. */
function upstream(stream: boolean): Upstream {
  return { send: async () => answerFor(stream) };
}

/**
 * A request body read through events, as the Node host hands over its `IncomingMessage`: one
 * chunk, then its end, once a reader listens. Far cheaper than a stream, so the harness stays small.
 */
class OneChunkBody extends EventEmitter {
  readableEnded = false;
  constructor(private readonly chunk: Buffer) {
    super();
  }
  override on(event: string | symbol, listener: (...args: unknown[]) => void): this {
    super.on(event, listener);
    if (event === "data") {
      queueMicrotask(() => {
        this.emit("data", this.chunk);
        this.readableEnded = true;
        this.emit("end");
      });
    }
    return this;
  }
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let done = false;
    return {
      next: async () => {
        if (done) return { done: true, value: undefined };
        done = true;
        return { done: false, value: this.chunk };
      },
    };
  }
}

function request(scenario: Scenario): RouterRequest {
  const body = scenario.body;
  return {
    method: "POST",
    url: scenario.path,
    headers: { "api-key": clientKey, "content-type": "application/json", "content-length": String(body.length) },
    body: new OneChunkBody(body),
    signal: Object.assign(new EventEmitter(), { aborted: false }),
  };
}

/**
 * Reads the answer to its end through the hosts' reporter, as the Node host does at its default
 * log level: the call's line is judged (warnings are written), not built, and its tokens are read
 * only when the core needs them.
 */
async function finish(handled: HandledCall, sink: { calls: number }): Promise<void> {
  const body = handled.response.body;
  const reporter = new BodyReporter(
    handled,
    (summary) => {
      if (summary.status !== 200 || callLevel(summary) !== "info")
        throw new Error(`the call was answered ${summary.status} (${summary.outcome})`);
      sink.calls++;
    },
    false,
  );
  if (body !== undefined && !(body instanceof Uint8Array)) for await (const chunk of body) reporter.chunk(chunk);
  reporter.ended();
}

type Handler = { handle(request: RouterRequest): Promise<HandledCall> };

async function cpuPerCall(handler: Handler, scenario: Scenario, calls: number, sink: { calls: number }): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await finish(await handler.handle(request(scenario)), sink);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

/** The harness alone: the same request and answer objects, answered without a router. */
function harnessOnly(scenario: Scenario): Handler {
  return {
    handle: async (req) => {
      const body = req.body as OneChunkBody;
      await new Promise<void>((resolve) => {
        body.once("end", resolve);
        body.on("data", () => {});
      });
      const answer = answerFor(scenario.stream === true);
      const summary = {
        method: "POST",
        path: scenario.path,
        status: 200,
        deployment: "gpt-4o",
        backend: "steady",
        servedDeployment: "gpt-4o",
        attempts: 1,
        latencyMs: 0,
        outcome: "served" as const,
      };
      return { response: { status: 200, headers: answer.headers as Record<string, string>, body: answer.body }, summary };
    },
  };
}

export interface PerCallFigure {
  name: string;
  /** The core's own CPU per call, µs: the median round less the harness's. */
  coreUs: number;
  spread: [number, number];
  harnessUs: number;
}

export async function perCallFigures(calls = arg("calls", 20_000), rounds = arg("rounds", 7)): Promise<PerCallFigure[]> {
  const figures: PerCallFigure[] = [];
  const sink = { calls: 0 };
  const only = option("only");
  const chosen = only === undefined ? scenarios : scenarios.filter((s) => s.name.startsWith(only));
  for (const scenario of chosen) {
    const settings = readSettings(
      { ROUTER_CONFIG: JSON.stringify(scenario.config), ROUTER_CLIENT_KEYS: clientKey, ...scenario.env },
      () => "",
    );
    const app = createRouterApp(settings, {
      upstream: upstream(scenario.stream === true),
      store: new MemoryStateStore(systemClock, 60_000),
      cacheStore: undefined,
      instance: "bench",
    });
    const harness = harnessOnly(scenario);
    await cpuPerCall(app.router, scenario, Math.min(calls, 5_000), sink); // warm up
    await cpuPerCall(harness, scenario, Math.min(calls, 5_000), sink);
    const routed: number[] = [];
    const bare: number[] = [];
    // Interleaved, so a slow spell of the machine falls on both.
    for (let r = 0; r < rounds; r++) {
      bare.push(await cpuPerCall(harness, scenario, calls, sink));
      routed.push(await cpuPerCall(app.router, scenario, calls, sink));
    }
    await app.close();
    const harnessUs = median(bare);
    const core = routed.map((us, i) => us - (bare[i] as number));
    figures.push({ name: scenario.name, coreUs: median(core), spread: [Math.min(...core), Math.max(...core)], harnessUs });
  }
  if (sink.calls === 0) throw new Error("no call was reported: the harness is broken");
  return figures;
}

export function perCallReport(figures: readonly PerCallFigure[]): string {
  const lines = ["The core's own CPU per call (no sockets; µs, median of the rounds, harness taken off):"];
  for (const f of figures) {
    lines.push(
      `  ${f.name.padEnd(42)} ${f.coreUs.toFixed(1).padStart(6)} µs  (rounds ${f.spread[0].toFixed(1)}–${f.spread[1].toFixed(1)}; harness ${f.harnessUs.toFixed(1)} µs)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  perCallFigures()
    .then((figures) => {
      process.stdout.write(perCallReport(figures));
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
