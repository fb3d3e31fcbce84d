// The demo's live view: each backend's breaker, calls served and failures, redrawn in place every
// second so a newcomer watches the PTU overflow to the priority-2 regions and come back.

import type { BackendView } from "../core/breakerBoard";

export interface DemoRow extends BackendView {
  priority: number;
}

/** The view as text, one line per backend. Pure, so it is tested without a terminal. */
export function renderDemoView(rows: readonly DemoRow[], now: number): string {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const lines = [
    `Demo pool at ${time(now)} UTC   (npm run demo:load sends traffic; Ctrl+C stops)`,
    `${"backend".padEnd(15)}${"prio".padEnd(6)}${"state".padEnd(36)}${"served".padStart(8)}${"failed".padStart(8)}  last`,
  ];
  for (const row of rows) {
    const state =
      row.state === "open" && row.openUntil
        ? `OPEN until ${time(Date.parse(row.openUntil))} (${row.reason}${row.source === "shared" ? ", shared" : ""})`
        : "closed";
    lines.push(
      `${row.name.padEnd(15)}${String(row.priority).padEnd(6)}${state.padEnd(36)}${String(row.served).padStart(8)}${String(row.failed).padStart(8)}  ${row.lastStatus ?? "-"}`,
    );
  }
  return `${lines.join("\n")}\n`;
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
