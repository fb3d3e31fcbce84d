// The process-wide router of the Functions host, built once on first use. Invalid settings cannot
// exit a Functions worker: they are logged once and every call gets 500 RouterMisconfigured
// (and /health 503) until the settings are fixed and the app restarts.

import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { ConfigError } from "../core/errors";
import type { RouterEvents } from "../core/events";
import { misconfiguredHandler, type RequestHandler } from "../core/router";
import { type Env, readSettings } from "../core/settings";
import type { StateSyncLog } from "../core/stateSync";
import { createRouterApp, type RouterAppOptions } from "../routerApp";

export interface HostLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The app root: the nearest folder above this file that holds host.json (dist/src/functions -> ../../..). */
function findAppRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, "host.json"))) return dir;
  return process.cwd();
}
const appRoot = findAppRoot(__dirname);

// Outside an invocation the Functions worker forwards console output to the host's log.
const consoleLog: HostLog = { info: console.info, warn: console.warn, error: console.error };

export function buildFunctionsHandler(env: Env, log: HostLog = consoleLog, options: RouterAppOptions = {}): RequestHandler {
  try {
    // A relative ROUTER_CONFIG path is relative to the app root (where host.json is), whatever the worker's cwd.
    const settings = readSettings(env, (path) => readFileSync(isAbsolute(path) ? path : join(appRoot, path), "utf8"));
    const app = createRouterApp(settings, { events: loggingEvents(log), syncLog: syncLog(log), ...options });
    log.info(
      JSON.stringify({ event: "started", backends: settings.config.backends.length, state: app.store.description, instance: app.instance }),
    );
    return app.router;
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `start-up failed: ${(error as Error).message}`;
    log.error(JSON.stringify({ event: "misconfigured", code: "RouterMisconfigured", message }));
    return misconfiguredHandler();
  }
}

let shared: RequestHandler | undefined;

/** The handler every function of this app uses. */
export function functionsHandler(): RequestHandler {
  shared ??= buildFunctionsHandler(process.env);
  return shared;
}

function loggingEvents(log: HostLog): RouterEvents {
  return {
    breakerOpened: (e) => log.warn(JSON.stringify({ event: "breakerOpened", ...e, openUntil: new Date(e.openUntil).toISOString() })),
    attemptFailed: (e) => log.warn(JSON.stringify({ event: "attemptFailed", ...e })),
    unexpectedError: (error) => log.error(JSON.stringify({ event: "unexpectedError", message: (error as Error)?.stack ?? String(error) })),
  };
}

function syncLog(log: HostLog): StateSyncLog {
  return {
    lost: (error) => log.warn(JSON.stringify({ event: "stateStoreLost", message: (error as Error)?.message ?? String(error) })),
    restored: () => log.info(JSON.stringify({ event: "stateStoreRestored" })),
  };
}
