// `/health` and `/status`, answered from memory: no backend call, no storage call. `/health` is
// Front Door's probe (no key, no backend URL); `/status` shows breakers, shared state and usage —
// every client's to the operators (`default`), its own to any other client.

import type { BreakerBoard } from "../breakers/breakerBoard";
import type { ResponseCache } from "../cache/responseCache";
import type { Client } from "../clients/clientAuth";
import type { ClientLimiter } from "../clients/clientLimiter";
import type { Clock } from "../clock";
import type { RouterResponse } from "../request/exchange";
import type { SharedStateStatus } from "../shared/sharedStateStatus";

export const noStore = { "cache-control": "no-store" };

export interface StateRouteDeps {
  board: BreakerBoard;
  clock: Clock;
  instance: string;
  limiter: ClientLimiter;
  sharedState: () => SharedStateStatus;
  clientLimits: () => unknown;
  /** What each throttling deployment is expected to admit, per backend and deployment (empty until one throttles). */
  capacity?: () => unknown[];
  /** Shown when answers are cached. */
  cache?: Pick<ResponseCache, "status"> | undefined;
}

function json(status: number, payload: unknown, extra: Record<string, string> = {}, withBody = true): RouterResponse {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: { "content-type": "application/json", "content-length": String(body.length), ...noStore, ...extra },
    body: withBody ? body : undefined,
  };
}

export function healthAnswer(deps: Pick<StateRouteDeps, "board" | "clock">, method: string): RouterResponse {
  const { board, clock } = deps;
  const now = clock.now();
  const available = board.availableCount(now);
  const healthy = available > 0;
  const payload = { status: healthy ? "healthy" : "unavailable", backends: { available, total: board.size } };
  return json(healthy ? 200 : 503, payload, healthy ? {} : { "retry-after": String(board.retryAfterSeconds(now)) }, method !== "HEAD");
}

export function statusAnswer(deps: StateRouteDeps, client: Client): RouterResponse {
  const { board, clock, instance, sharedState, limiter, clientLimits, cache, capacity } = deps;
  const now = clock.now();
  return json(200, {
    instance,
    time: new Date(now).toISOString(),
    sharedState: sharedState(),
    backends: board.view(now),
    clients: limiter.view(client.seesAllClients ? undefined : client, now),
    clientLimits: clientLimits(),
    capacity: capacity?.() ?? [],
    ...(cache ? { cache: cache.status() } : {}),
  });
}
