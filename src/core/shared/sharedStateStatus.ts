// What `/status` says about shared state: the store and what this instance asked of it, whether
// the loop's last round got answers, and each participant's own section (owners, capacity).

import type { SyncLoop, SyncLoopStatus } from "./syncLoop";

export interface SharedStateStatus extends SyncLoopStatus {
  store: string;
  /** Store operations by this instance since start. */
  reads: number;
  writes: number;
  /** The participants' sections, by name. */
  [section: string]: unknown;
}

export function sharedStateStatus(
  store: { description: string; counts?: { reads: number; writes: number } },
  loop: SyncLoop,
): SharedStateStatus {
  return {
    store: store.description,
    ...loop.status(),
    reads: store.counts?.reads ?? 0,
    writes: store.counts?.writes ?? 0,
    ...Object.fromEntries(loop.sections()),
  };
}
