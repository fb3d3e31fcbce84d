// The capacity section: (a) the whole grid as a discrete-event simulation (the router's own gate
// against Azure's bucket, beside a greedy sender); (b) cells over real sockets — two router
// instances on Azurite in front of the simulator's PTU and two pay-as-you-go regions — beside a
// greedy sender on the same traffic in the same run (every call tries the PTU first and spills
// on a 429). In both the PTU's work is what the PTU itself counted.

import { request } from "undici";
import { estimateCallParts } from "../src/core/clients/callCost";
import { type GridOutcome, gridCells, runGridCell, standardCells } from "../src/simulator/capacity/capacityGrid";
import { countPromptTokens } from "../src/simulator/capacity/deploymentCapacity";
import { startAzurite } from "../test/helpers/azurite";
import { clientKey, progress, smoke, startRouter, startSimulators } from "./measure";

const chatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
const chatRequest = { messages: [{ role: "user", content: "Say hello." }], max_tokens: 40 };
const body = JSON.stringify(chatRequest);
/** What the simulated PTU writes for each call. */
const completionTokens = 20;
/**
 * A PTU at `tokensPerMs`, half a second of burst. A call is charged ~47 tokens when it arrives
 * (its prompt and `max_tokens` 40) and ~27 in the end (it writes 20): 60 calls a second are ~1.6×
 * what a PTU at 1 token/ms does in the end, the grid's measure of demand.
 */
const ptuAt = (tokensPerMs: number) => ({
  provisioned: { "gpt-4o": { tokensPerMinute: tokensPerMs * 60_000, burstSeconds: 0.5 } },
  completionTokens,
});

/**
 * The call the cells send, as the simulated PTU counts it (its own prompt count, `max_tokens`, what
 * it writes) and as the router estimates it (the one estimator), answered at once.
 */
const estimated = estimateCallParts("POST", chatPath, Buffer.from(body));
const socketCall = {
  promptTokens: countPromptTokens(chatRequest),
  promptEstimate: estimated.prompt,
  maxTokens: estimated.maxOutput,
  completion: [completionTokens, completionTokens] as const,
  latencyMs: 1,
  msPerToken: 0,
};

/** The grid's simulation of a cell over sockets: two instances, the same PTU, calls and time. */
function gridTwin(setup: SocketSetup, seconds: number, measureFromSeconds: number): GridOutcome {
  const tokensPerMinute = setup.tokensPerMs * 60_000;
  const endTokens = socketCall.promptTokens + socketCall.completion[0];
  const demand = (setup.perSecond * endTokens) / (setup.tokensPerMs * 1_000);
  const shape = { tokensPerMinute, ...socketCall };
  return runGridCell({
    demand,
    burstSeconds: 0.5,
    instances: 2,
    seconds,
    shape,
    measureFromSeconds,
    ...(setup.configured ? { configuredRate: 1 } : {}),
  });
}

/** A cell over sockets: the PTU's rate and the calls sent a second (the demand is their ratio). */
export interface SocketSetup {
  tokensPerMs: number;
  perSecond: number;
  waitUpTo?: string;
  /** The PTU's rate given to the router (`capacity.tokensPerMinute`): gates from the first call. */
  configured?: boolean;
}

export interface SocketPhase {
  /** PTU work (tokens it counted) through the router, and by the greedy sender. */
  routerWork: number;
  greedyWork: number;
  workShare: number;
  /** Share of calls that paid a 429 round trip at the PTU. */
  routerRefusedShare: number;
  greedyRefusedShare: number;
}

/**
 * The cell once the gates have learned (after the first seconds, while the load goes on), and the
 * whole run with the start-up in it (each instance learns its pace from its first refusals).
 */
export interface SocketCell extends SocketPhase {
  whole: SocketPhase;
  warmUpSeconds: number;
  seconds: number;
  clientErrors: number;
  /**
   * The same cell in the grid's simulation (same PTU, calls, demand, instances and time), without
   * waits: once learned and over the whole run. What the sockets show beside it is whether the
   * simulation holds.
   */
  twin?: { learned: GridOutcome; whole: GridOutcome };
}

export interface CapacityRows {
  /** Calls evenly spaced, dealt to the instances in turn. */
  grid: GridOutcome[];
  /** The same cells with calls arriving at random (a Poisson process, each to an instance drawn at random). */
  randomGrid: GridOutcome[];
  /** The issue's grid with the PTU's rate configured (`capacity.tokensPerMinute`, as published): gates from the start. */
  configuredGrid: GridOutcome[];
  /** ~1.6× demand on a PTU at 1 token/ms. */
  sockets: SocketCell;
  /** The same cell with `capacity.waitUpTo` on the PTU: calls may wait for its room before going on. */
  socketsWaiting: SocketCell & { waitUpTo: string };
  /** ~1.2× demand: little to spill, so every call held back for nothing shows. */
  socketsNearCapacity: SocketCell;
  /** ~1.6× demand with the PTU's rate configured (`capacity.tokensPerMinute`). */
  socketsConfigured: SocketCell;
}

interface Counts {
  region: string;
  requests: number;
  served: number;
  work: number;
}

/** Calls at `perSecond` for `seconds`, each sent by `send`, with `mark` run (not awaited) at `markAt` calls; the statuses. */
async function steady(
  perSecond: number,
  seconds: number,
  send: (i: number) => Promise<number>,
  mark: { at: number; run: () => Promise<Counts[]> },
): Promise<{ statuses: number[]; marked: Promise<Counts[]> }> {
  const pending: Promise<number>[] = [];
  let marked: Promise<Counts[]> = Promise.resolve([]);
  for (let i = 0; i < perSecond * seconds; i++) {
    if (i === mark.at) marked = mark.run();
    pending.push(send(i));
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
  }
  return { statuses: await Promise.all(pending), marked };
}

async function post(url: string): Promise<number> {
  const answer = await request(`${url}${chatPath}`, {
    method: "POST",
    headers: { "api-key": clientKey, "content-type": "application/json" },
    body,
  });
  await answer.body.dump();
  return answer.statusCode;
}

/** The PTU's work and refusals between two readings of the simulators' counts, beside greedy's. */
function phase(from: Counts[], to: Counts[], calls: { router: number; greedy: number }): SocketPhase {
  const of = (counts: Counts[], region: string) => counts.find((c) => c.region === region) ?? { region, requests: 0, served: 0, work: 0 };
  const delta = (region: string) => {
    const [a, b] = [of(from, region), of(to, region)];
    return { work: b.work - a.work, refused: b.requests - b.served - (a.requests - a.served) };
  };
  const [p, g] = [delta("ptu"), delta("greedy-ptu")];
  return {
    routerWork: p.work,
    greedyWork: g.work,
    workShare: g.work > 0 ? p.work / g.work : 1,
    routerRefusedShare: p.refused / calls.router,
    greedyRefusedShare: g.refused / calls.greedy,
  };
}

async function socketCell(setup: SocketSetup): Promise<SocketCell> {
  const { perSecond, waitUpTo, configured } = setup;
  const warmUpSeconds = smoke ? 1 : 4;
  const seconds = smoke ? 3 : 16;
  const ptu = ptuAt(setup.tokensPerMs);
  // Two identical estates: one behind the router, one for the greedy sender.
  const sims = await startSimulators([
    { region: "ptu", ...ptu },
    { region: "paygo-a" },
    { region: "paygo-b" },
    { region: "greedy-ptu", ...ptu },
    { region: "greedy-paygo" },
  ]);
  const [ptuUrl, paygoA, paygoB, greedyPtu, greedyPaygo] = sims.urls;
  const azurite = await startAzurite();
  const none = { type: "none" };
  const capacity: { waitUpTo?: string; tokensPerMinute?: number } = {};
  if (waitUpTo) capacity.waitUpTo = waitUpTo;
  if (configured) capacity.tokensPerMinute = setup.tokensPerMs * 60_000;
  const config = {
    backends: [
      {
        name: "ptu",
        url: ptuUrl,
        priority: 1,
        auth: none,
        ...(waitUpTo || configured ? { capacity } : {}),
      },
      { name: "paygo-a", url: paygoA, priority: 2, auth: none },
      { name: "paygo-b", url: paygoB, priority: 2, auth: none },
    ],
  };
  const env = { ROUTER_STATE: azurite.connectionString, ROUTER_STATE_REFRESH: "PT1S" };
  const routers = [await startRouter(config, env), await startRouter(config, env)];
  try {
    const counts = () => sims.call("counts") as Promise<Counts[]>;
    const mark = { at: warmUpSeconds * perSecond, run: counts };
    const viaRouter = await steady(perSecond, seconds, (i) => post(routers[i % 2]?.url ?? ""), mark);
    const greedy = await steady(
      perSecond,
      seconds,
      async () => {
        const status = await post(greedyPtu ?? "");
        return status === 429 ? post(greedyPaygo ?? "") : status;
      },
      mark,
    );
    const end = await counts();
    // The router's mark has the greedy estate's counts before it started, and the greedy's mark the router's after it ended.
    const [routerMark, greedyMark] = [await viaRouter.marked, await greedy.marked];
    const afterWarmUp = [
      ...routerMark.filter((c) => !c.region.startsWith("greedy")),
      ...greedyMark.filter((c) => c.region.startsWith("greedy")),
    ];
    const measured = (seconds - warmUpSeconds) * perSecond;
    const cell: SocketCell = {
      ...phase(afterWarmUp, end, { router: measured, greedy: measured }),
      whole: phase([], end, { router: viaRouter.statuses.length, greedy: greedy.statuses.length }),
      warmUpSeconds,
      seconds,
      clientErrors: [...viaRouter.statuses, ...greedy.statuses].filter((s) => s !== 200).length,
      ...(waitUpTo ? {} : { twin: { learned: gridTwin(setup, seconds, warmUpSeconds), whole: gridTwin(setup, seconds, 0) } }),
    };
    progress(
      `capacity over sockets (${setup.tokensPerMs} token/ms, ${perSecond} calls/s${waitUpTo ? `, waitUpTo ${waitUpTo}` : ""}${configured ? ", rate configured" : ""}): after ${warmUpSeconds} s PTU work ${(cell.workShare * 100).toFixed(1)}% of greedy's, 429s ${(cell.routerRefusedShare * 100).toFixed(2)}% (greedy ${(cell.greedyRefusedShare * 100).toFixed(1)}%); whole run ${(cell.whole.workShare * 100).toFixed(1)}%, ${(cell.whole.routerRefusedShare * 100).toFixed(2)}%`,
    );
    return cell;
  } finally {
    for (const r of routers) r.proc.kill("SIGTERM");
    await azurite.stop();
  }
}

export async function benchCapacity(): Promise<CapacityRows> {
  const cells = [...gridCells(), { demand: 0.8, burstSeconds: 1, instances: 2 }, ...standardCells()];
  const grid = cells.map((cell) => runGridCell(cell));
  const randomGrid = cells.map((cell) => runGridCell({ ...cell, arrivals: "random" }));
  const configuredGrid = gridCells().map((cell) => runGridCell({ ...cell, configuredRate: 1 }));
  const waitUpTo = "PT0.1S";
  return {
    grid,
    randomGrid,
    configuredGrid,
    sockets: await socketCell({ tokensPerMs: 1, perSecond: 60 }),
    socketsWaiting: { ...(await socketCell({ tokensPerMs: 1, perSecond: 60, waitUpTo })), waitUpTo },
    socketsNearCapacity: await socketCell({ tokensPerMs: 1, perSecond: 44 }),
    socketsConfigured: await socketCell({ tokensPerMs: 1, perSecond: 60, configured: true }),
  };
}

/** A share as the report prints it: one decimal for work, two for 429s. */
export const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

/** A grid against the targets (≥ 98% of greedy's work, ≤ 1% 429s): the cells short of them, the worst work, the most 429s. */
export function gridSummary(grid: readonly GridOutcome[]): { short: GridOutcome[]; worst: number; most429: number } {
  return {
    short: grid.filter((o) => o.workShare < 0.98 || o.router.refusedShare > 0.01),
    worst: Math.min(...grid.map((o) => o.workShare)),
    most429: Math.max(...grid.map((o) => o.router.refusedShare)),
  };
}

/** The section's lines for the report. */
export function capacityLines(rows: CapacityRows): string[] {
  const lines = [
    "",
    "capacity grid (discrete-event; PTU work as a share of a greedy sender's, and calls that paid a 429 round trip; calls evenly spaced, then arriving at random):",
    "| demand | burst s | instances | kind | PTU work vs greedy | 429s (router) | 429s (greedy) | at random: PTU work | 429s (router) | 429s (greedy) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.grid.map((o, i) => {
      const r = rows.randomGrid[i];
      const outcome = (x: GridOutcome) => `${pct(x.workShare)} | ${pct(x.router.refusedShare, 2)} | ${pct(x.greedy.refusedShare)}`;
      return `| ${o.cell.demand}× | ${o.cell.kind === "standard" ? "—" : o.cell.burstSeconds} | ${o.cell.instances} | ${o.cell.kind ?? "provisioned"} | ${outcome(o)} | ${r ? outcome(r) : "—"} |`;
    }),
    configuredLine(rows.configuredGrid),
    socketLine("over sockets (2 instances on Azurite, simulator PTU at 1 token/ms, 0.5 s burst, ~1.6× demand)", rows.sockets),
    socketLine(`the same with waitUpTo ${rows.socketsWaiting.waitUpTo} on the PTU`, rows.socketsWaiting),
    socketLine("near capacity (~1.2× demand)", rows.socketsNearCapacity),
    socketLine("~1.6× demand with the PTU's rate configured (capacity.tokensPerMinute: 60000)", rows.socketsConfigured),
  ];
  return lines;
}

/** The configured grid in a line: its range of PTU work, its worst cells, its 429s. */
function configuredLine(grid: readonly GridOutcome[]): string {
  const { short, worst, most429 } = gridSummary(grid);
  const best = Math.max(...grid.map((o) => o.workShare));
  const cells = short.map((o) => `${o.cell.demand}×/${o.cell.burstSeconds} s/${o.cell.instances}: ${pct(o.workShare)}`);
  return `with the PTU's rate configured (capacity.tokensPerMinute, as published; calls evenly spaced): PTU work ${pct(worst)}–${pct(best)} of greedy's, short of the targets in ${short.length} of ${grid.length} cells (${cells.join(", ") || "none"}); 429s at most ${pct(most429, 2)}`;
}

function socketLine(title: string, cell: SocketCell): string {
  const share = (x: number) => pct(x, 2);
  const line = `${title}, ${cell.seconds} s: after the first ${cell.warmUpSeconds} s PTU work ${pct(cell.workShare)} of greedy's, 429s ${share(cell.routerRefusedShare)} (greedy ${pct(cell.greedyRefusedShare)}); the whole run, start-up included, ${pct(cell.whole.workShare)} and ${share(cell.whole.routerRefusedShare)}; ${cell.clientErrors} client errors`;
  const twin = cell.twin;
  if (!twin) return line;
  const { learned, whole } = twin;
  return `${line}\n  the grid's twin of this cell: ${pct(learned.workShare)}, 429s ${share(learned.router.refusedShare)} (greedy ${pct(learned.greedy.refusedShare)}); whole run ${pct(whole.workShare)} and ${share(whole.router.refusedShare)}`;
}
