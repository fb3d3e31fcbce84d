// The capacity section: (a) the whole grid as a discrete-event simulation (the router's own gate
// against Azure's bucket, beside a greedy sender); (b) one cell over real sockets — two router
// instances on Azurite in front of the simulator's PTU and two pay-as-you-go regions — beside a
// greedy sender on the same traffic in the same run (every call tries the PTU first and spills
// on a 429). In both the PTU's work is what the PTU itself counted.

import { request } from "undici";
import { type GridOutcome, gridCells, runGridCell } from "../src/simulator/capacity/capacityGrid";
import { startAzurite } from "../test/helpers/azurite";
import { clientKey, progress, smoke, startRouter, startSimulators } from "./measure";

const chatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
const body = JSON.stringify({ messages: [{ role: "user", content: "Say hello." }], max_tokens: 40 });
// One token per ms, half a second of burst; the calls cost ~47 tokens each in the end.
const ptu = { provisioned: { "gpt-4o": { tokensPerMinute: 60_000, burstSeconds: 0.5 } }, completionTokens: 20 };

export interface SocketCell {
  /** PTU work (tokens it counted) through the router, and by the greedy sender. */
  routerWork: number;
  greedyWork: number;
  workShare: number;
  /** Share of calls that paid a 429 round trip at the PTU. */
  routerRefusedShare: number;
  greedyRefusedShare: number;
  clientErrors: number;
}

export interface CapacityRows {
  grid: GridOutcome[];
  sockets: SocketCell;
  /** The same cell with `capacity.waitUpTo` on the PTU: calls may wait for its room before going on. */
  socketsWaiting: SocketCell & { waitUpTo: string };
}

interface Counts {
  region: string;
  requests: number;
  served: number;
  work: number;
}

/** Calls at `perSecond` for `seconds`, each sent by `send`; the statuses. */
async function steady(perSecond: number, seconds: number, send: (i: number) => Promise<number>): Promise<number[]> {
  const pending: Promise<number>[] = [];
  for (let i = 0; i < perSecond * seconds; i++) {
    pending.push(send(i));
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
  }
  return Promise.all(pending);
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

async function socketCell(waitUpTo?: string): Promise<SocketCell> {
  const seconds = smoke ? 2 : 8;
  const perSecond = 60;
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
  const config = {
    backends: [
      { name: "ptu", url: ptuUrl, priority: 1, auth: none, ...(waitUpTo ? { capacity: { waitUpTo } } : {}) },
      { name: "paygo-a", url: paygoA, priority: 2, auth: none },
      { name: "paygo-b", url: paygoB, priority: 2, auth: none },
    ],
  };
  const env = { ROUTER_STATE: azurite.connectionString, ROUTER_STATE_REFRESH: "PT1S" };
  const routers = [await startRouter(config, env), await startRouter(config, env)];
  try {
    const viaRouter = await steady(perSecond, seconds, (i) => post(routers[i % 2]?.url ?? ""));
    const greedy = await steady(perSecond, seconds, async () => {
      const status = await post(greedyPtu ?? "");
      return status === 429 ? post(greedyPaygo ?? "") : status;
    });
    const counts = (await sims.call("counts")) as Counts[];
    const of = (region: string) => counts.find((c) => c.region === region) ?? { region, requests: 0, served: 0, work: 0 };
    const [p, g] = [of("ptu"), of("greedy-ptu")];
    const cell: SocketCell = {
      routerWork: p.work,
      greedyWork: g.work,
      workShare: g.work > 0 ? p.work / g.work : 1,
      routerRefusedShare: (p.requests - p.served) / viaRouter.length,
      greedyRefusedShare: (g.requests - g.served) / greedy.length,
      clientErrors: [...viaRouter, ...greedy].filter((s) => s !== 200).length,
    };
    progress(
      `capacity over sockets: PTU work ${(cell.workShare * 100).toFixed(1)}% of greedy's, 429s ${(cell.routerRefusedShare * 100).toFixed(2)}% (greedy ${(cell.greedyRefusedShare * 100).toFixed(1)}%)`,
    );
    return cell;
  } finally {
    for (const r of routers) r.proc.kill("SIGTERM");
    await azurite.stop();
  }
}

export async function benchCapacity(): Promise<CapacityRows> {
  const grid = [
    ...gridCells(),
    { demand: 0.8, burstSeconds: 1, instances: 2 },
    { demand: 2, burstSeconds: 1, instances: 2, kind: "standard" as const },
  ].map((cell) => runGridCell(cell));
  const waitUpTo = "PT0.1S";
  return { grid, sockets: await socketCell(), socketsWaiting: { ...(await socketCell(waitUpTo)), waitUpTo } };
}

/** The section's lines for the report. */
export function capacityLines(rows: CapacityRows): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    "",
    "capacity grid (discrete-event; PTU work as a share of a greedy sender's, and calls that paid a 429 round trip):",
    "| demand | burst s | instances | kind | PTU work vs greedy | 429s (router) | 429s (greedy) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.grid.map(
      (o) =>
        `| ${o.cell.demand}× | ${o.cell.burstSeconds} | ${o.cell.instances} | ${o.cell.kind ?? "provisioned"} | ${pct(o.workShare)} | ${(o.router.refusedShare * 100).toFixed(2)}% | ${pct(o.greedy.refusedShare)} |`,
    ),
    `over sockets (2 instances on Azurite, simulator PTU at 1 token/ms, 0.5 s burst, ~3× demand): PTU work ${pct(rows.sockets.workShare)} of greedy's, 429s ${(rows.sockets.routerRefusedShare * 100).toFixed(2)}% (greedy ${pct(rows.sockets.greedyRefusedShare)}), ${rows.sockets.clientErrors} client errors`,
    `the same with waitUpTo ${rows.socketsWaiting.waitUpTo} on the PTU: PTU work ${pct(rows.socketsWaiting.workShare)} of greedy's, 429s ${(rows.socketsWaiting.routerRefusedShare * 100).toFixed(2)}%, ${rows.socketsWaiting.clientErrors} client errors`,
  ];
  return lines;
}
