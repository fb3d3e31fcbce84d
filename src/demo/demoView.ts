// The demo's live view: a row per backend and deployment — its breaker, calls served and failures
// — redrawn in place every second, so a newcomer watches the PTU overflow to the priority-2
// regions and come back, and a throttled deployment move without its neighbours.

import type { BackendView, BreakerView } from "../core/breakers/breakerBoard";
import type { DeploymentCapacityView } from "../core/capacity/capacityBoard";
import type { BackendConfig } from "../core/config/config";

export interface DemoRow extends BreakerView {
  backend: string;
  /** The deployment's name at the backend ("-" before any call to a backend without a list). */
  deployment: string;
  priority: number;
  /** What the router expects the deployment to admit, once it has throttled: tokens a minute, and the share of calls sent on. */
  admits?: { tokensPerMinute: number | null; spillShare: number };
}

/** Rows for the view: one per backend and deployment; a whole-backend trip shows on each of its rows. */
export function demoRows(
  backends: readonly BackendView[],
  config: readonly BackendConfig[],
  capacity: readonly DeploymentCapacityView[] = [],
): DemoRow[] {
  const rows: DemoRow[] = [];
  const admitsOf = (backend: string, deployment: string) => {
    const c = capacity.find((v) => v.backend === backend && (v.deployment ?? "-") === deployment);
    return c ? { tokensPerMinute: c.tokensPerMinute, spillShare: c.spillShare } : undefined;
  };
  backends.forEach((backend, i) => {
    const own = config[i];
    const priorityOf = (name: string) => {
      for (const d of own?.deployments?.values() ?? []) if (d.name === name) return d.priority;
      return own?.priority ?? 1;
    };
    const whole = backend.backendWide.state === "open" ? backend.backendWide : undefined;
    const entries: [string, BreakerView][] = backend.deployments.map((d) => [d.name, d]);
    if (entries.length === 0) entries.push(["-", backend]);
    for (const [name, view] of entries) {
      const breaker = whole ?? view;
      rows.push({
        backend: backend.name,
        deployment: name,
        priority: priorityOf(name),
        state: breaker.state,
        openUntil: breaker.openUntil,
        reason: breaker.reason,
        source: breaker.source,
        served: view.served,
        failed: view.failed,
        lastStatus: view.lastStatus,
        ...(admitsOf(backend.name, name) ? { admits: admitsOf(backend.name, name) } : {}),
      });
    }
  });
  return rows;
}

/** The view as text, one line per row. Pure, so it is tested without a terminal. */
export function renderDemoView(rows: readonly DemoRow[], now: number): string {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const width = Math.max(12, ...rows.map((r) => r.deployment.length + 2));
  const lines = [
    `Demo pool at ${time(now)} UTC   (npm run demo:load sends traffic; Ctrl+C stops)`,
    `${"backend".padEnd(15)}${"deployment".padEnd(width)}${"prio".padEnd(6)}${"state".padEnd(36)}${"served".padStart(8)}${"failed".padStart(8)}  last  admits`,
  ];
  for (const row of rows) {
    const state =
      row.state === "open" && row.openUntil
        ? `OPEN until ${time(Date.parse(row.openUntil))} (${row.reason}${row.source === "shared" ? ", shared" : ""})`
        : "closed";
    lines.push(
      `${row.backend.padEnd(15)}${row.deployment.padEnd(width)}${String(row.priority).padEnd(6)}${state.padEnd(36)}${String(row.served).padStart(8)}${String(row.failed).padStart(8)}  ${String(row.lastStatus ?? "-").padEnd(4)}  ${admitsText(row)}`.trimEnd(),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** "~108k tok/min, 40% sent on": what the router expects a throttling deployment to admit. */
function admitsText(row: DemoRow): string {
  const a = row.admits;
  if (!a) return "";
  const pace = a.tokensPerMinute === null ? "learning" : `~${Math.round(a.tokensPerMinute / 1000)}k tok/min`;
  return `${pace}, ${Math.round(a.spillShare * 100)}% sent on`;
}

/** Redraws the view every `intervalMs` on a terminal; returns a function that stops it. */
export function startDemoView(rows: () => DemoRow[], write: (text: string) => void, intervalMs = 1000): () => void {
  let drawn = 0;
  const draw = () => {
    const text = renderDemoView(rows(), Date.now());
    // Move up over the previous drawing and clear it, then draw anew.
    write(`${drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : ""}${text}`);
    drawn = text.split("\n").length - 1;
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
