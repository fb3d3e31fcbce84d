// `npm run bench`: the router's cost against a bare undici pass-through proxy, in the same run, on
// loopback. Simulated regions, the router (Node host) and the bare proxy run as separate processes;
// autocannon drives the same load at each, interleaved in rounds so machine drift hits all alike.
// CPU per request comes from the OS accounting of each proxy process (/proc/<pid>/stat).
// `--smoke` runs every scenario for about a second, for CI: it checks the bench still works and
// that correctness holds (no client errors on overflow, no storage operation per request).

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { request } from "undici";
import { isKnownGap } from "../src/simulator/capacity/capacityGrid";
import { startAzurite } from "../test/helpers/azurite";
import { benchCache } from "./cacheBench";
import { benchCapacity, gridSummary, pct } from "./capacityBench";
import {
  cleanup,
  clientKey,
  compare,
  connections,
  load,
  type Measure,
  option,
  progress,
  rounds,
  seconds,
  smoke,
  startProcess,
  startRouter,
  startSimulators,
  status,
  summarize,
  type Target,
  timeToFirstChunk,
  v1Body,
  v1Path,
} from "./measure";
import { perCallFigures, perCallReport } from "./perCall";
import { type BenchTarget, printTable } from "./report";
import { benchResponses } from "./responsesBench";

const responsesPath = "/openai/v1/responses";

/**
 * `npm run bench -- --ab <other checkout>`: this build's router against another build's (its
 * `dist/`), on the deployment path, interleaved in the same rounds: what a change costs, without
 * the bare proxy in between. Prints the median CPU ratio and the spread of single rounds.
 */
/** The other checkout's Node host: where this build keeps it, or where builds before it did. */
function otherEntry(other: string): string {
  const current = resolve(other, "dist/src/hosts/node/main.js");
  return existsSync(current) ? current : resolve(other, "dist/src/server.js");
}

async function abRun(router: Target, other: Target): Promise<void> {
  const result = await compare("a/b", router, other);
  process.stdout.write(
    `this build / other build: CPU per request ${result.ratios.cpuPerRequest.toFixed(3)}x (median of ${rounds} rounds; single rounds ${result.cpuSpread[0].toFixed(3)}–${result.cpuSpread[1].toFixed(3)}x), ${result.router.cpuUsPerRequest.toFixed(1)} vs ${result.bare.cpuUsPerRequest.toFixed(1)} µs\n`,
  );
  cleanup();
  process.exit(0);
}

async function main(): Promise<void> {
  const started = Date.now();
  progress(`${smoke ? "smoke run" : "full run"}: ${rounds} round(s) of ${seconds} s per target, ${connections} connections`);
  // (0) the core's own work per call, in this process, before any load starts: no noise from sockets.
  const perCall = await perCallFigures(smoke ? 2_000 : 20_000, smoke ? 1 : rounds);
  process.stdout.write(perCallReport(perCall));
  const sims = await startSimulators([
    { region: "steady" },
    { region: "ptu", capacityPerSecond: smoke ? 200 : 400 },
    { region: "paygo-a" },
    { region: "paygo-b" },
    { region: "stream", streamChunkDelayMs: 20 },
    { region: "resp-a" },
    { region: "resp-b" },
    { region: "resp-c" },
  ]);
  const [steadyUrl, ptuUrl, paygoA, paygoB, streamUrl, respA, respB, respC] = sims.urls;
  const none = { type: "none" };

  // (1) steady load, one healthy backend: router vs bare proxy, interleaved.
  const router = await startRouter({ backends: [{ name: "steady", url: steadyUrl, auth: none }] });
  const other = option("ab");
  if (other) return abRun(router, await startRouter({ backends: [{ name: "steady", url: steadyUrl, auth: none }] }, {}, otherEntry(other)));
  const bare = await startProcess("bench/bareProxy.js", { BARE_TARGET: steadyUrl ?? "" }, /bare proxy listening on (http:\/\/[\d.:]+)/);
  const steady = await compare("steady", router, bare);

  // (1c) the same, called by a client with limits: every call identified, counted, admitted against
  // its budget, its tokens read from the answer, its budget in the headers (limits too high to bite).
  // Interleaved with the router without clients in the same rounds: the cost of clients is their
  // ratio, in units of the bare proxy's CPU (separate runs differ by more than the cost itself).
  const clientsRouter = await startRouter(
    {
      backends: [{ name: "steady", url: steadyUrl, auth: none }],
      clients: [
        {
          name: "bench-app",
          keySetting: "BENCH_APP_KEYS",
          limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 },
        },
      ],
    },
    { ROUTER_CLIENT_KEYS: "", BENCH_APP_KEYS: clientKey },
  );
  const clientsVsPlain = await compare("steady, client with limits vs without", clientsRouter, router);
  const withClients = {
    ...clientsVsPlain,
    addedCpu: (clientsVsPlain.ratios.cpuPerRequest - 1) * steady.ratios.cpuPerRequest,
  };
  clientsRouter.proc.kill("SIGTERM");
  router.proc.kill("SIGTERM");

  // (1b) the v1 API: the deployment in the body's model, renamed for the backend (the body rewritten).
  const v1Router = await startRouter({
    backends: [{ name: "steady", url: steadyUrl, auth: none, deployments: { "gpt-4o": "gpt-4o-bench" } }],
  });
  const v1 = {
    small: await compare("v1 2 KB", v1Router, bare, { path: v1Path, body: v1Body(2_000) }),
    large: await compare("v1 200 KB", v1Router, bare, { path: v1Path, body: v1Body(200_000) }),
  };
  v1Router.proc.kill("SIGTERM");

  // (2) PTU overflow: priority-1 backend with a capacity limit, two priority-2 backends.
  const overflowRouter = await startRouter({
    backends: [
      { name: "ptu", url: ptuUrl, priority: 1, auth: none },
      { name: "paygo-a", url: paygoA, priority: 2, auth: none },
      { name: "paygo-b", url: paygoB, priority: 2, auth: none },
    ],
  });
  await sims.call("reset");
  const overflowRuns: Measure[] = [];
  for (let r = 0; r < rounds; r++) {
    overflowRuns.push(await load(overflowRouter.url, overflowRouter.proc.pid ?? 0));
    progress(`overflow round ${r + 1}/${rounds}: ${overflowRuns.at(-1)?.errors} client errors`);
  }
  const counts = (await sims.call("counts")) as { region: string; served: number }[];
  const servedBy = (region: string) => counts.find((c) => c.region === region)?.served ?? 0;
  const overflowServed = servedBy("ptu") + servedBy("paygo-a") + servedBy("paygo-b");
  const overflow = { ...summarize(overflowRuns), ptuShare: overflowServed > 0 ? servedBy("ptu") / overflowServed : 0 };
  overflowRouter.proc.kill("SIGTERM");

  // (3) streaming: time to the first chunk through the router minus direct to the backend.
  const streamRouter = await startRouter({ backends: [{ name: "stream", url: streamUrl, auth: none }] });
  const streamCount = smoke ? 10 : 100;
  await timeToFirstChunk(streamRouter.url, 3);
  const viaRouter = await timeToFirstChunk(streamRouter.url, streamCount);
  const direct = await timeToFirstChunk(streamUrl ?? "", streamCount);
  progress(`streaming: first chunk ${viaRouter.toFixed(2)} ms via router, ${direct.toFixed(2)} ms direct`);
  streamRouter.proc.kill("SIGTERM");

  // (3b) the Responses API: follow-ups with previous_response_id over three equal backends.
  const responses = await benchResponses({
    urls: [respA, respB, respC],
    backendRequests: async () => ((await sims.call("counts")) as { requests: number }[]).reduce((n, c) => n + c.requests, 0),
  });

  // (4) the same steady load with shared state in Table Storage (Azurite).
  const azurite = await startAzurite();
  const tableRouter = await startRouter(
    { backends: [{ name: "steady", url: steadyUrl, auth: none }] },
    { ROUTER_STATE: azurite.connectionString },
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await load(tableRouter.url, tableRouter.proc.pid ?? 0, smoke ? 0.5 : 2);
  const before = (await status(tableRouter.url)).sharedState;
  const tableRuns: Measure[] = [];
  for (let r = 0; r < rounds; r++) tableRuns.push(await load(tableRouter.url, tableRouter.proc.pid ?? 0));
  const after = (await status(tableRouter.url)).sharedState;
  // A creating call waits for one owner-record write (Table Storage here): its mean time.
  for (let i = 0; i < (smoke ? 5 : 50); i++) {
    const created = await request(`${tableRouter.url}${responsesPath}`, {
      method: "POST",
      headers: { "api-key": clientKey, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", input: `Record ${i}.` }),
    });
    await created.body.dump();
  }
  const recordMeanMs =
    ((await status(tableRouter.url)).sharedState as { owners?: { recordMeanMs?: number } }).owners?.recordMeanMs ?? Number.NaN;
  progress(`table store: a creating call's owner record took ${recordMeanMs} ms on average`);
  const table = summarize(tableRuns);
  const storageOps = after.reads + after.writes - before.reads - before.writes;
  const tableSeconds = rounds * seconds;
  progress(`table store: ${storageOps} storage operations for ${table.requests} requests in ~${tableSeconds} s`);
  tableRouter.proc.kill("SIGTERM");
  await azurite.stop();

  // (5) the response cache: hits against the bare proxy, misses with their one lookup (Azurite blobs).
  const cache = await benchCache(steadyUrl ?? "", bare);

  // (6) capacity-aware routing: the grid (discrete-event) and one cell over sockets, beside a greedy sender.
  const capacity = await benchCapacity();

  const results = {
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version, smoke, seconds, rounds, connections },
    perCall,
    // Ratios within each round, then the median: drift between rounds cancels out.
    steady,
    withClients,
    v1,
    overflow,
    streaming: { viaRouterMs: viaRouter, directMs: direct, addedMs: viaRouter - direct },
    responses,
    cache,
    capacity,
    tableStore: {
      ...table,
      storageOperations: storageOps,
      storageOperationsPerRequest: storageOps / Math.max(1, table.requests),
      recordMeanMs,
    },
    tookSeconds: (Date.now() - started) / 1000,
  };
  // Four instances on a 0.1 s burst fall short of 98% (docs/capacity.md, "Where it falls short"):
  // reported against the target, and held to a floor that catches a regression.
  const gridMet = capacity.grid.every((o) => o.router.refusedShare <= 0.01 && o.workShare >= (isKnownGap(o.cell) ? 0.85 : 0.98));
  const gapCells = capacity.grid.filter((o) => isKnownGap(o.cell));
  const random = gridSummary(capacity.randomGrid);
  // `timed`: judged on timing, so not in a smoke run (which only checks that correctness holds).
  const targets: BenchTarget[] = [
    {
      name: "router CPU/request ≤ 1.12× bare (deployment path, median of the rounds)",
      ok: results.steady.ratios.cpuPerRequest <= 1.12,
      timed: true,
    },
    { name: "router throughput ≥ 0.9× bare", ok: results.steady.ratios.throughput >= 0.9, timed: true },
    { name: "router p99 ≤ bare + 5 ms", ok: results.steady.ratios.p99DeltaMs <= 5, timed: true },
    { name: "zero client errors on PTU overflow", ok: overflow.errors === 0 },
    { name: "no storage operation per request", ok: results.tableStore.storageOperationsPerRequest < 0.01 },
    { name: "v1 with model rewritten, 2 KB: CPU/request ≤ 1.3× bare", ok: v1.small.ratios.cpuPerRequest <= 1.3, timed: true },
    { name: "v1 with model rewritten, 200 KB: CPU/request ≤ 1.3× bare", ok: v1.large.ratios.cpuPerRequest <= 1.3, timed: true },
    {
      name: "Responses follow-ups: every call served, 1 backend call each",
      ok: responses.router.errors === 0 && responses.followUpErrors === 0 && responses.backendCallsPerFollowUp === 1,
    },
    {
      name: "client counting and limits: ≤ +0.05× of bare's CPU on the chat row",
      ok: withClients.addedCpu <= 0.05 && withClients.router.errors === 0,
      timed: true,
    },
    {
      name: "cache hit: CPU/request ≤ 1.1× bare, p50 below bare's (which waits on the backend)",
      ok: cache.hit.ratios.cpuPerRequest <= 1.1 && cache.hit.router.p50 <= cache.hit.bare.p50 && cache.hit.router.errors === 0,
      timed: true,
    },
    {
      name: "cache: at most one shared lookup per miss, none for calls that are not cacheable",
      ok: cache.lookupsPerMiss <= 1 && cache.lookupsForOtherCalls === 0,
    },
    {
      name: "capacity grid: ≤ 1% 429s in every cell, PTU work ≥ 98% of greedy's (4 instances on a 0.1 s burst: ≥ 85%)",
      ok: gridMet,
    },
    {
      name: "capacity grid, 4 instances on a 0.1 s burst: PTU work ≥ 98% of greedy's",
      ok: gapCells.every((o) => o.workShare >= 0.98),
      knownGap: `${gapCells.map((o) => pct(o.workShare)).join(" / ")} at 1.2× / 2× / 4× demand (docs/capacity.md, "Where it falls short")`,
    },
    {
      name: "capacity grid, calls arriving at random: PTU work ≥ 98% of greedy's and ≤ 1% 429s in every cell",
      ok: random.short.length === 0,
      knownGap: `${random.short.length} of ${capacity.randomGrid.length} cells short, down to ${pct(random.worst)} of greedy's work and up to ${pct(random.most429, 2)} 429s (docs/capacity.md, "Calls arriving at random")`,
    },
    {
      name: "capacity over sockets: zero client errors (every cell, with and without waitUpTo)",
      ok: [capacity.sockets, capacity.socketsWaiting, capacity.socketsNearCapacity, capacity.socketsConfigured].every(
        (cell) => cell.clientErrors === 0,
      ),
    },
    {
      name: "capacity over sockets, once learned (after the first seconds), ~1.6× and ~1.2× demand, and with the rate configured: PTU work ≥ 95% of greedy's, ≤ 2% of calls pay a 429",
      ok: [capacity.sockets, capacity.socketsNearCapacity, capacity.socketsConfigured].every(
        (cell) => cell.workShare >= 0.95 && cell.routerRefusedShare <= 0.02,
      ),
      timed: true,
    },
  ];
  printTable(results, targets);
  mkdirSync(join(process.cwd(), "bench/results"), { recursive: true });
  const file = join(process.cwd(), "bench/results", smoke ? "smoke.json" : "latest.json");
  writeFileSync(file, `${JSON.stringify({ ...results, targets: Object.fromEntries(targets.map((t) => [t.name, t.ok])) }, null, 2)}\n`);
  progress(`results written to ${file}`);
  // CI times nothing, but correctness targets hold at any speed.
  const broken = targets.some((t) => !t.timed && !t.knownGap && !t.ok);
  cleanup();
  process.exit(broken ? 1 : 0);
}

process.on("exit", cleanup);
main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
  cleanup();
  process.exit(1);
});
