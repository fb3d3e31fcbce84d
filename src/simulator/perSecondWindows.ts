// A per-second cap on accepted requests (the simulator's simplest capacity): one window per key
// (`*` for the resource, else a deployment), counted from the first request after it turned.

export class PerSecondWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** Takes one request from `key`'s window; `undefined` when it fits (or no cap), else ms until the window turns. */
  take(key: string, capacity: number | undefined, now: number): number | undefined {
    if (capacity === undefined) return undefined;
    let window = this.windows.get(key);
    if (!window || now - window.start >= 1000) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count <= capacity ? undefined : 1000 - (now - window.start);
  }
}
