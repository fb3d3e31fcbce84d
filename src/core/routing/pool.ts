// The pool as calls see it: for each deployment name callers use, the backends that serve it
// (its candidates) with the name at each backend and their priority and weight. Built once at
// start-up; the request path only looks names up.

import type { BackendConfig } from "../config/config";
import { type Candidate, groupByPriority, type PriorityGroups } from "./selection";

export class Pool {
  /** Calls that name no deployment: every backend, by its own priority and weight. */
  readonly anyBackend: PriorityGroups;
  /** Caller's name -> its candidates, for every name some backend lists. */
  private readonly listed = new Map<string, PriorityGroups>();
  /** Names no backend lists: the backends without a list, which serve every name unchanged. */
  private readonly unlisted: PriorityGroups | undefined;

  /** Backend name -> its index: stored owners name backends, and a name no longer in the pool is no owner. */
  private readonly indexes = new Map<string, number>();

  constructor(readonly backends: readonly BackendConfig[]) {
    for (const [index, backend] of backends.entries()) this.indexes.set(backend.name, index);
    const own = (backend: BackendConfig, index: number) => ({
      index,
      weight: backend.weight,
      priority: backend.priority,
      deployment: undefined,
    });
    this.anyBackend = groupByPriority(backends.map(own));
    const open = backends.flatMap((backend, index) => (backend.deployments === undefined ? [own(backend, index)] : []));
    this.unlisted = open.length > 0 ? groupByPriority(open) : undefined;
    const names = new Set<string>();
    for (const backend of backends) for (const name of backend.deployments?.keys() ?? []) names.add(name);
    for (const name of names) {
      const candidates: (Candidate & { priority: number })[] = [];
      backends.forEach((backend, index) => {
        if (backend.deployments === undefined) {
          candidates.push({ index, weight: backend.weight, priority: backend.priority, deployment: name });
          return;
        }
        const mapped = backend.deployments.get(name);
        if (mapped) candidates.push({ index, weight: mapped.weight, priority: mapped.priority, deployment: mapped.name });
      });
      this.listed.set(name, groupByPriority(candidates));
    }
  }

  indexOf(name: string): number | undefined {
    return this.indexes.get(name);
  }

  /** The candidates for a call naming `deployment`, or `undefined` when no backend serves it. */
  candidates(deployment: string): PriorityGroups | undefined {
    return this.listed.get(deployment) ?? this.unlisted;
  }
}
