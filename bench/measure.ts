// The benchmark's instruments: the processes it measures (simulated regions, routers, the bare
// proxy), one load with its CPU accounting, and the interleaved comparison of two targets.

import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import autocannon from "autocannon";
import { request } from "undici";

export const smoke = process.argv.includes("--smoke");
export const seconds = smoke ? 1 : 4;
// Nine interleaved rounds: single rounds on a busy two-core machine range widely, the median does not.
export const rounds = smoke ? 1 : 9;
export const connections = 32;
export const clientKey = "bench-client-key";
export const chatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
export const chatBody = JSON.stringify({ messages: [{ role: "user", content: "Say hello in five words." }], max_tokens: 16 });
export const distRoot = join(__dirname, "..");
export const children: ChildProcess[] = [];

export const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  requests: number;
  errors: number;
}

// --- processes -------------------------------------------------------------------------------

export function clockTicks(): number {
  return 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these.
}

export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

const discard = () => {};

export function startProcess(script: string, env: Record<string, string>, ready: RegExp): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [isAbsolute(script) ? script : join(distRoot, script)], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m?.[1]) {
        clearTimeout(timer);
        // Ready: what the process writes from now on (a router's warnings, on overflow) is read and
        // dropped, not kept and matched again chunk by chunk in the process that drives the load.
        proc.stdout?.off("data", onData).on("data", discard);
        proc.stderr?.off("data", onData).on("data", discard);
        out = "";
        resolve({ proc, url: m[1] });
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${script} exited (${code}):\n${out}`)));
  });
}

export function startRouter(config: object, extraEnv: Record<string, string> = {}, entry = "src/hosts/node/main.js") {
  return startProcess(
    entry,
    { ROUTER_CONFIG: JSON.stringify(config), ROUTER_CLIENT_KEYS: clientKey, PORT: "0", LOG_LEVEL: "info", ...extraEnv },
    /router listening on (http:\/\/[\d.:]+)/,
  );
}

export async function startSimulators(regions: object[]): Promise<{ urls: string[]; call: (op: string) => Promise<unknown> }> {
  const proc = fork(join(distRoot, "bench/simulators.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(proc);
  let next = 0;
  const call = (op: string, extra: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++next;
      const onMessage = (m: { id: number; result: unknown }) => {
        if (m.id !== id) return;
        proc.off("message", onMessage);
        resolve(m.result);
      };
      proc.on("message", onMessage);
      proc.send({ id, op, ...extra });
    });
  const urls = (await call("start", { regions })) as string[];
  return { urls, call: (op) => call(op) };
}

// --- measurement -----------------------------------------------------------------------------

export interface Call {
  path: string;
  body: string;
  /** When set, each connection sends these bodies in turn instead of `body`. */
  bodies?: readonly string[];
}
export const chatCall: Call = { path: chatPath, body: chatBody };

export const v1Path = "/openai/v1/chat/completions";
// Prose as a long conversation or a RAG context carries it: newlines and quotes, escaped in JSON.
const paragraph =
  'The quarterly report shows revenue of $4.2M, up 12% year over year.\nCustomers said the "new onboarding" flow was clearer than before.\n\nNext steps: review the pricing page, update the FAQ, and schedule interviews with five accounts.\n';
/** A v1 chat body of about `bytes`, with `model` last: the router must read past everything to find it. */
export const v1Body = (bytes: number) =>
  JSON.stringify({
    messages: [
      { role: "system", content: "You answer briefly." },
      { role: "user", content: paragraph.repeat(Math.ceil(bytes / paragraph.length)).slice(0, bytes) },
    ],
    max_tokens: 16,
    model: "gpt-4o",
  });

export async function load(url: string, pid: number, duration = seconds, call: Call = chatCall): Promise<Measure> {
  const before = cpuMs(pid);
  const result = await autocannon({
    url: `${url}${call.path}`,
    method: "POST",
    connections,
    duration,
    headers: { "api-key": clientKey, "content-type": "application/json" },
    body: call.body,
    ...(call.bodies ? { requests: call.bodies.map((body) => ({ method: "POST" as const, path: call.path, body })) } : {}),
  });
  const cpu = cpuMs(pid) - before;
  const requests = result.requests.total;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUsPerRequest: requests > 0 ? (cpu * 1000) / requests : Number.NaN,
    requests,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface Target {
  url: string;
  proc: ChildProcess;
}

export interface Comparison {
  router: Measure;
  bare: Measure;
  ratios: { cpuPerRequest: number; throughput: number; p99DeltaMs: number };
  /** The lowest and highest CPU-per-request ratio of single rounds, printed beside the median. */
  cpuSpread: [number, number];
}

/** Router and bare proxy under the same load, interleaved in rounds after a warm-up; ratios per round, then the median. */
export async function compare(label: string, router: Target, bare: Target, call: Call = chatCall): Promise<Comparison> {
  const runs = { router: [] as Measure[], bare: [] as Measure[] };
  // Warm-up, not recorded: JIT of every process (simulators included) and keep-alive pools.
  for (const t of [router, bare, router, bare]) await load(t.url, t.proc.pid ?? 0, smoke ? 0.5 : 3, call);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (["router", "bare"] as const) : (["bare", "router"] as const);
    for (const target of order) {
      const t = target === "router" ? router : bare;
      runs[target].push(await load(t.url, t.proc.pid ?? 0, seconds, call));
      progress(`${label} round ${r + 1}/${rounds} ${target}: ${Math.round(runs[target].at(-1)?.rps ?? 0)} req/s`);
    }
  }
  const cpuRatios = runs.router.map((m, i) => m.cpuUsPerRequest / (runs.bare[i]?.cpuUsPerRequest ?? Number.NaN));
  return {
    router: summarize(runs.router),
    bare: summarize(runs.bare),
    cpuSpread: [Math.min(...cpuRatios), Math.max(...cpuRatios)],
    ratios: {
      cpuPerRequest: median(cpuRatios),
      throughput: median(runs.router.map((m, i) => m.rps / (runs.bare[i]?.rps ?? Number.NaN))),
      p99DeltaMs: median(runs.router.map((m, i) => m.p99 - (runs.bare[i]?.p99 ?? Number.NaN))),
    },
  };
}

export function summarize(measures: Measure[]): Measure {
  return {
    rps: median(measures.map((m) => m.rps)),
    p50: median(measures.map((m) => m.p50)),
    p99: median(measures.map((m) => m.p99)),
    cpuUsPerRequest: median(measures.map((m) => m.cpuUsPerRequest)),
    requests: measures.reduce((s, m) => s + m.requests, 0),
    errors: measures.reduce((s, m) => s + m.errors, 0),
  };
}

export async function status(url: string): Promise<{ sharedState: { reads: number; writes: number } }> {
  const response = await request(`${url}/status`, { headers: { "api-key": clientKey } });
  return (await response.body.json()) as { sharedState: { reads: number; writes: number } };
}

export async function timeToFirstChunk(url: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await request(`${url}${chatPath}`, {
      method: "POST",
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    let first = 0;
    for await (const _ of response.body) {
      if (first === 0) first = performance.now() - started;
    }
    times.push(first);
  }
  return median(times);
}

export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

export function cleanup(): void {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
}
