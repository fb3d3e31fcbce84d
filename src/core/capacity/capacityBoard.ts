// A CapacityGate per (backend, deployment at that backend), made when a deployment first says how
// long it needs (`retry-after-ms` on a 429) or at start for a configured `capacity.tokensPerMinute`.
// The forwarding loop asks it before each attempt and tells it each answer; until some deployment
// has throttled, it holds nothing and costs a call one boolean test.

import type { CallCost } from "../clients/callCost";
import type { Clock } from "../clock";
import type { BackendConfig, CapacityConfig } from "../config/configTypes";
import type { Random } from "../random";
import { CapacityGate, type CapacityView } from "./capacityGate";

export interface CapacityBoardOptions {
  backends: readonly BackendConfig[];
  clock: Clock;
  random: Random;
  /** How many instances share the deployments (the presence count); 1 without shared state. */
  instances?: () => number;
}

/** Gates a backend may grow beyond its configured deployments: far above what one resource holds. */
const maxLearnedGates = 64;

/** `""` stands for calls that name no deployment. */
const noDeployment = "";

export interface DeploymentCapacityView extends CapacityView {
  backend: string;
  deployment: string | null;
}

export class CapacityBoard {
  private readonly gates: Map<string, CapacityGate>[];
  /** Per backend: the `capacity` its deployments get when they have none of their own (and for names it serves unlisted). */
  private readonly defaults: (CapacityConfig | undefined)[];
  /** Some gate exists or may be made: only then does a call estimate its cost or ask. */
  active = false;

  constructor(private readonly options: CapacityBoardOptions) {
    this.gates = options.backends.map(() => new Map());
    this.defaults = options.backends.map((backend) => backend.capacity);
    options.backends.forEach((backend, index) => {
      if (backend.capacity) this.active = true;
      for (const deployment of backend.deployments?.values() ?? []) {
        if (deployment.capacity) this.make(index, deployment.name, deployment.capacity, true);
      }
    });
  }

  /** The gate of `deployment` (its name at the backend) at backend `index`, when it has one (or its backend configures one). */
  gate(index: number, deployment: string | undefined): CapacityGate | undefined {
    if (!this.active) return undefined;
    const gate = this.gates[index]?.get(deployment ?? noDeployment);
    if (gate) return gate;
    const configured = this.defaults[index];
    return configured ? this.make(index, deployment, configured) : undefined;
  }

  /** The deployment refused a call with a delay to the millisecond: its gate learns (and is made if it has none). */
  refused(index: number, deployment: string | undefined, call: { cost: CallCost; charged: number | undefined; delayMs: number }): void {
    const gate = this.gate(index, deployment) ?? this.make(index, deployment, this.defaults[index]);
    gate?.refused(call.charged ?? gate.tokensFor(call.cost), call.delayMs, this.options.clock.now(), call.charged !== undefined);
  }

  /**
   * A pace other instances learned (this instance's share of it): a gate that has none yet takes it,
   * and one is made where there is none. `false` when the backend is unknown or the gate has a pace.
   */
  seed(backend: string, deployment: string | undefined, tokensPerMinute: number): boolean {
    const index = this.options.backends.findIndex((b) => b.name === backend);
    if (index === -1 || !Number.isFinite(tokensPerMinute) || tokensPerMinute <= 0) return false;
    const gate = this.gates[index]?.get(deployment ?? noDeployment);
    if (gate) return gate.seed(tokensPerMinute);
    return this.make(index, deployment, { tokensPerMinute, waitUpToMs: this.waitOf(index, deployment) }) !== undefined;
  }

  /** `capacity.waitUpTo` of a deployment (or its backend). */
  private waitOf(index: number, deployment: string | undefined): number | undefined {
    const backend = this.options.backends[index];
    for (const d of backend?.deployments?.values() ?? []) if (d.name === deployment) return d.capacity?.waitUpToMs;
    return backend?.capacity?.waitUpToMs;
  }

  /** Per backend and deployment with a gate, for /status. */
  view(): DeploymentCapacityView[] {
    const now = this.options.clock.now();
    const out: DeploymentCapacityView[] = [];
    this.gates.forEach((gates, index) => {
      const backend = this.options.backends[index]?.name ?? String(index);
      for (const [deployment, gate] of gates)
        out.push({ backend, deployment: deployment === noDeployment ? null : deployment, ...gate.view(now) });
    });
    return out;
  }

  /**
   * A new gate. Beyond the configured ones, at most `maxLearnedGates` per backend: names come from
   * callers (a backend that serves every name) and from the store, and neither may grow memory.
   */
  private make(
    index: number,
    deployment: string | undefined,
    capacity: CapacityConfig | undefined,
    configured = false,
  ): CapacityGate | undefined {
    const gates = this.gates[index];
    if (!gates || (!configured && gates.size >= maxLearnedGates)) return undefined;
    const { random, instances } = this.options;
    const gate = new CapacityGate({ tokensPerMinute: capacity?.tokensPerMinute, waitUpToMs: capacity?.waitUpToMs, random, instances });
    gates.set(deployment ?? noDeployment, gate);
    this.active = true;
    return gate;
  }
}
