// Core events as structured log lines through pino (plain Node host and demo).

import type { Logger } from "pino";
import type { RouterEvents } from "../core/events";
import type { StateSyncLog } from "../core/stateSync";

export function loggingEvents(log: Logger): RouterEvents {
  return {
    breakerOpened: (e) =>
      log.warn(
        { event: "breakerOpened", ...e, openUntil: new Date(e.openUntil).toISOString() },
        `backend ${e.backend} tripped (${e.reason})`,
      ),
    attemptFailed: (e) => log.debug({ event: "attemptFailed", ...e }, `attempt ${e.attempt} on ${e.backend} failed (${e.reason})`),
    unexpectedError: (error) => log.error({ event: "unexpectedError", err: error }, "unexpected error; answered 500"),
  };
}

export function loggingSyncLog(log: Logger): StateSyncLog {
  return {
    lost: (error) => log.warn({ event: "stateStoreLost", err: error }, "shared state store unreachable; routing on local state"),
    restored: () => log.info({ event: "stateStoreRestored" }, "shared state store reachable again"),
  };
}
