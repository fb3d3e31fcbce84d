// The capacity grid as a discrete-event simulation on a fake clock: the router's own admission
// code (CapacityGate) in each of N instances, in front of a model of Azure's provisioned bucket
// (or a standard quota) and an overflow deployment that takes everything, under steady demand.
// Beside it, on the same traffic, a greedy sender: every call tries the PTU first and spills on a
// 429 — the most work any router can get out of the PTU, at the price of a 429 for every spilled
// call. The PTU's charge is the deployment model's own (its prompt count, the completion it
// writes), never the router's estimate. Seconds to run the whole grid; used by the tests and the
// benchmark.

import { minPreciseTripMs } from "../../core/breakers/breaker";
import { CapacityGate, type CapacityGateOptions } from "../../core/capacity/capacityGate";
import { seededRandom } from "../seededRandom";
import { ProvisionedBucket } from "./provisionedBucket";
import { StandardQuota } from "./standardQuota";

export interface GridCell {
  /** Demand as a multiple of the PTU's rate (in the tokens it is charged in the end). */
  demand: number;
  /** The PTU's burst tolerance, seconds (provisioned only). */
  burstSeconds: number;
  instances: number;
  /** `standard`: the priority-1 deployment is a pay-as-you-go one with a tokens-per-minute quota. */
  kind?: "provisioned" | "standard";
  /** Simulated seconds. Default 120. */
  seconds?: number;
  seed?: number;
  /** The gate's tuning, to try another (the defaults otherwise). */
  gate?: Partial<Pick<CapacityGateOptions, "growthPerSecond" | "cut">>;
  /**
   * The PTU's rate as configured (`capacity.tokensPerMinute`), as a share of its real one: each
   * instance then has its gate from the start, as the router's board makes it. Default: none.
   */
  configuredRate?: number;
  /** The PTU's rate and the calls sent, when not the grid's own (a twin of a cell over sockets). */
  shape?: CallShape;
  /** Count only what happens from then on (the gates have learned by then), seconds. Default 0. */
  measureFromSeconds?: number;
  /**
   * How calls arrive: `even` (default), evenly spaced and dealt to the instances in turn; `random`,
   * at random moments (a Poisson process at the same rate), each to an instance drawn at random, as
   * independent callers behind a load balancer arrive. The same arrivals for the router and greedy.
   */
  arrivals?: "even" | "random";
}

/** The deployment's rate and the call sent to it: what it is charged, what it writes, how long it takes. */
export interface CallShape {
  tokensPerMinute: number;
  /** Prompt tokens as the deployment counts them, and as the router estimates them (bytes / 4). */
  promptTokens: number;
  promptEstimate: number;
  maxTokens: number;
  /** The completion's length, drawn evenly between the two. */
  completion: readonly [number, number];
  /** How long a call takes once admitted: a fixed part and a part per token written. */
  latencyMs: number;
  msPerToken: number;
}

export interface GridResult {
  calls: number;
  /** Tokens the PTU did (as it charged them in the end). */
  ptuWork: number;
  /** Calls that paid a 429 round trip. */
  refusedCalls: number;
  refusedShare: number;
}

export interface GridOutcome {
  cell: GridCell;
  router: GridResult;
  greedy: GridResult;
  /** The router's PTU work as a share of the greedy sender's. */
  workShare: number;
}

const oneWayMs = 1;
const minTripMs = minPreciseTripMs;
/** The grid's PTU and call: 600,000 tokens a minute; 300 prompt tokens (375 by the router's estimate), `max_tokens` 200, writing 50–200. */
const gridShape: CallShape = {
  tokensPerMinute: 600_000,
  promptTokens: 300,
  promptEstimate: 375,
  maxTokens: 200,
  completion: [50, 200],
  latencyMs: 100,
  msPerToken: 4,
};

/** Events in time order; ties in the order they were added. */
class EventQueue {
  private readonly heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  add(at: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  next(): { at: number; run: () => void } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        swap(heap, i, m);
        i = m;
      }
    }
    return top;
  }
}

type Entry = { at: number; seq: number };
const before = (a: Entry | undefined, b: Entry | undefined) => !!a && !!b && (a.at < b.at || (a.at === b.at && a.seq < b.seq));
function swap<T>(items: T[], i: number, j: number): void {
  const t = items[i] as T;
  items[i] = items[j] as T;
  items[j] = t;
}

/** One sender (the router's instances, or greedy ones) against a fresh PTU, on the cell's traffic. */
function run(cell: GridCell, mode: "router" | "greedy"): GridResult {
  const seconds = cell.seconds ?? 120;
  const random = seededRandom(cell.seed ?? 7);
  const shape = cell.shape ?? gridShape;
  const { tokensPerMinute, promptTokens, promptEstimate, maxTokens } = shape;
  const perMs = tokensPerMinute / 60_000;
  const [fewest, most] = shape.completion;
  const ptu =
    cell.kind === "standard"
      ? new StandardQuota({ tokensPerMinute })
      : new ProvisionedBucket({ tokensPerMinute, burstSeconds: cell.burstSeconds });
  const admitAt = (tokens: number, at: number) => {
    const answer = ptu.admit(tokens, at);
    return answer.admitted ? undefined : answer.retryAfterMs;
  };
  const correct = (tokens: number, at: number) => (ptu instanceof ProvisionedBucket ? ptu.correct(tokens, at) : ptu.correct(tokens));
  // The router's short trip on a 429 (retry-after-ms honoured, local), and its gate, per instance:
  // as the router's board does, a deployment gets its gate at its first refusal with a delay, or
  // from the start when its rate is configured.
  const configured = cell.configuredRate === undefined ? undefined : cell.configuredRate * tokensPerMinute;
  const newGate = () => new CapacityGate({ random, instances: () => cell.instances, tokensPerMinute: configured, ...cell.gate });
  const instances: { gate: CapacityGate | undefined; tripUntil: number }[] = Array.from({ length: cell.instances }, () => ({
    gate: mode === "router" && configured !== undefined ? newGate() : undefined,
    tripUntil: 0,
  }));
  const callsPerMs = (cell.demand * perMs) / (promptTokens + (fewest + most) / 2);
  const queue = new EventQueue();
  let calls = 0;
  let refusedCalls = 0;
  const end = seconds * 1_000;
  const from = (cell.measureFromSeconds ?? 0) * 1_000;
  let workBefore = 0;
  if (from > 0) queue.add(from, () => (workBefore = ptu.work));
  const cost = { prompt: promptEstimate, maxOutput: maxTokens };
  // Arrivals draw from their own sequence, so the router and greedy get the same ones.
  const arrivalRandom = seededRandom(1_000_003 + (cell.seed ?? 7));
  const even = cell.arrivals !== "random";
  const interval = () => (even ? 1 / callsPerMs : -Math.log(1 - arrivalRandom()) / callsPerMs);
  for (let at = even ? 0 : interval(), n = 0; at < end; at += interval(), n++) {
    const instance = instances[even ? n % instances.length : Math.floor(arrivalRandom() * instances.length)];
    if (!instance) continue;
    queue.add(at, () => {
      if (at >= from) calls++;
      // The router's own charge: its estimate, scaled to the deployment's prompt count as learned.
      const gate = instance.gate;
      const estimate = gate ? gate.tokensFor(cost) : cost.prompt + cost.maxOutput;
      const charged = mode === "router" && gate !== undefined;
      if (mode === "router" && (at < instance.tripUntil || (gate && !gate.take(estimate, at)))) return; // straight to the next candidate
      queue.add(at + oneWayMs, () => {
        const completion = fewest + Math.floor(random() * (most - fewest + 1));
        const refusedFor = admitAt(promptTokens + maxTokens, at + oneWayMs);
        if (refusedFor !== undefined) {
          if (at >= from) refusedCalls++;
          queue.add(at + 2 * oneWayMs, () => {
            instance.gate ??= newGate();
            instance.gate.refused(estimate, refusedFor, at + 2 * oneWayMs, charged);
            // The breaker's short trip: the delay to the millisecond, never below 20 ms.
            instance.tripUntil = at + 2 * oneWayMs + Math.max(minTripMs, refusedFor);
          });
          return;
        }
        const done = at + oneWayMs + shape.latencyMs + shape.msPerToken * completion;
        queue.add(done, () => correct(completion - maxTokens, done));
        // The answer's usage: the deployment's own counts, which the router settles a charged call to.
        if (charged)
          queue.add(done + oneWayMs, () => {
            gate?.learnPrompt(promptEstimate, promptTokens);
            gate?.settled(completion - maxTokens, done + oneWayMs);
          });
      });
    });
  }
  for (let event = queue.next(); event; event = queue.next()) event.run();
  return { calls, ptuWork: ptu.work - workBefore, refusedCalls, refusedShare: calls > 0 ? refusedCalls / calls : 0 };
}

/** The cell for the router and for the greedy sender, and the router's share of greedy's PTU work. */
export function runGridCell(cell: GridCell): GridOutcome {
  const router = run(cell, "router");
  const greedy = run(cell, "greedy");
  return { cell, router, greedy, workShare: greedy.ptuWork > 0 ? router.ptuWork / greedy.ptuWork : 1 };
}

/** The grid: demand 1.2×, 2× and 4×, burst tolerance 0.1, 1 and 10 s, 1, 2 and 4 instances. */
export function gridCells(): GridCell[] {
  const cells: GridCell[] = [];
  for (const demand of [1.2, 2, 4])
    for (const burstSeconds of [0.1, 1, 10]) for (const instances of [1, 2, 4]) cells.push({ demand, burstSeconds, instances });
  return cells;
}

/**
 * The cells the design does not bring to 98% of greedy's work: four instances sharing a PTU whose
 * burst holds two calls (0.1 s), each seeing only its own calls (docs/capacity.md, "Where it falls short").
 */
export function isKnownGap(cell: GridCell): boolean {
  return cell.kind !== "standard" && cell.instances === 4 && cell.burstSeconds === 0.1;
}

/** The same demands and instances with a standard deployment (tokens per minute) as priority 1. */
export function standardCells(): GridCell[] {
  const cells: GridCell[] = [];
  for (const demand of [1.2, 2, 4]) for (const instances of [1, 2, 4]) cells.push({ demand, burstSeconds: 1, instances, kind: "standard" });
  return cells;
}
