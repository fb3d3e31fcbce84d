// The process-wide router of the Functions host, built once on first use. Invalid settings cannot
// exit a Functions worker: they are logged once and every call gets 500 RouterMisconfigured
// (and /health 503) until the settings are fixed and the app restarts.

import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { ConfigError } from "../../core/config/config";
import { type Env, readSettings } from "../../core/config/settings";
import { misconfiguredHandler } from "../../core/routing/misconfigured";
import type { RequestHandler } from "../../core/routing/router";
import { createRouterApp, type RouterAppOptions } from "../../routerApp";
import { clientLimiterLog, type LogSink, routerEventLog, sharedStateLog } from "../eventLog";

/** A log that takes one line of text per entry: the worker's console, or a test's capture. */
export interface HostLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Log lines as one JSON object each, which Application Insights keeps as the trace's message. */
export function jsonLineSink(log: HostLog): LogSink {
  return {
    debug: (fields) => log.debug(JSON.stringify(fields)),
    info: (fields) => log.info(JSON.stringify(fields)),
    warn: (fields) => log.warn(JSON.stringify(fields)),
    error: (fields) => log.error(JSON.stringify(fields)),
  };
}

/** The app root: the nearest folder above this file that holds host.json (dist/src/hosts/functions -> ../../../..). */
function findAppRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, "host.json"))) return dir;
  return process.cwd();
}
const appRoot = findAppRoot(__dirname);

// Outside an invocation the Functions worker forwards console output to the host's log.
export const workerLog: LogSink = jsonLineSink({ debug: console.debug, info: console.info, warn: console.warn, error: console.error });

export function buildFunctionsHandler(env: Env, log: LogSink = workerLog, options: RouterAppOptions = {}): RequestHandler {
  try {
    // A relative ROUTER_CONFIG path is relative to the app root (where host.json is), whatever the worker's cwd.
    const settings = readSettings(env, (path) => {
      const resolvedPath = isAbsolute(path) ? path : join(appRoot, path);
      try {
        return readFileSync(resolvedPath, "utf8");
      } catch (error) {
        throw Object.assign(error as Error, { resolvedPath, baseDir: appRoot });
      }
    });
    const app = createRouterApp(settings, {
      events: routerEventLog(log),
      syncLog: sharedStateLog(log),
      limiterLog: clientLimiterLog(log),
      ...options,
    });
    log.info(
      { event: "started", backends: settings.config.backends.length, state: app.store.description, instance: app.instance },
      "router started",
    );
    return app.router;
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `start-up failed: ${(error as Error).message}`;
    log.error({ event: "misconfigured", code: "RouterMisconfigured", message }, message);
    return misconfiguredHandler();
  }
}

let shared: RequestHandler | undefined;

/** The handler every function of this app uses. */
export function functionsHandler(): RequestHandler {
  shared ??= buildFunctionsHandler(process.env);
  return shared;
}
