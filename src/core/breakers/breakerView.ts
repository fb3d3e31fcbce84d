// The board's breakers as /status and the demo view show them: per backend, its own state (open when
// it can take none of the calls it is known for), the backend-wide breaker, each deployment's and
// the no-deployment one. No URL, no key.

import type { FailureReason } from "./breaker";
import { isOpen } from "./breaker";
import { availableAt, type Backend, type Slot, type StateSource, soonestOpen } from "./breakerSlots";

/** One breaker as /status and the demo view show it. */
export interface BreakerView {
  state: "closed" | "open";
  openUntil: string | null;
  reason: FailureReason | null;
  lastStatus: number | null;
  /** Who knows the current state: this instance (`local`), the shared store (`shared`), or nobody yet. */
  source: StateSource | null;
  served: number;
  failed: number;
}

export interface DeploymentView extends BreakerView {
  /** The deployment's name at this backend. */
  name: string;
  /** The names callers use for it. */
  callerNames: string[];
}

/** One backend as /status and the demo view show it. No URL, no key. */
export interface BackendView extends BreakerView {
  name: string;
  /** `state` above is "open" when the backend can take none of the calls it is known for; this is the breaker that stops all of them. */
  backendWide: BreakerView;
  deployments: DeploymentView[];
  noDeployment: BreakerView | null;
}

export function backendView(backend: Backend, now: number): BackendView {
  const at = availableAt(backend, now);
  const open = at > now;
  const wholeOpen = isOpen(backend.whole.breaker, now);
  // The backend's own line: the breaker that keeps it out, when one does.
  const blocking = wholeOpen ? backend.whole : open ? soonestOpen(backend, now) : undefined;
  return {
    name: backend.name,
    state: open ? "open" : "closed",
    openUntil: open ? new Date(at).toISOString() : null,
    reason: blocking?.breaker.state === "open" ? blocking.breaker.reason : null,
    lastStatus: backend.lastStatus ?? null,
    source: open ? (blocking?.source ?? "local") : backend.lastStatus === undefined ? null : "local",
    served: backend.served,
    failed: backend.failed,
    backendWide: slotView(backend.whole, now),
    deployments: [...backend.deployments].map(([name, slot]) => ({
      name,
      callerNames: [...(backend.callerNames.get(name) ?? [name])],
      ...slotView(slot, now),
    })),
    noDeployment: backend.none ? slotView(backend.none, now) : null,
  };
}

function slotView(slot: Slot, now: number): BreakerView {
  const b = slot.breaker;
  const open = b.state === "open" && now < b.openUntil;
  return {
    state: open ? "open" : "closed",
    openUntil: open ? new Date(b.openUntil).toISOString() : null,
    reason: open ? b.reason : null,
    lastStatus: slot.lastStatus ?? null,
    source: open ? (slot.source ?? "local") : slot.lastStatus === undefined ? null : "local",
    served: slot.served,
    failed: slot.failed,
  };
}
