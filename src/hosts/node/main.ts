// Entry point of the plain Node host (`npm run serve`, `npm start`): reads settings, starts the
// demo pool when there is no ROUTER_CONFIG, serves until SIGTERM/SIGINT.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import pino from "pino";
import { ConfigError } from "../../core/config/config";
import { readSettings, type Settings, settingNames } from "../../core/config/settings";
import type { CallSummary } from "../../core/events";
import { type DemoPool, demoInfoFile, startDemoPool } from "../../demo/demoPool";
import { demoRows, startDemoView } from "../../demo/demoView";
import { createRouterApp } from "../../routerApp";
import { callFields, callLevel, callMessage, clientLimiterLog, type LogSink, routerEventLog, sharedStateLog } from "../eventLog";
import { type NodeServer, startNodeServer } from "./nodeServer";

// The demo's live view owns a terminal; logs then default to errors only so they do not scroll it away.
const demoView = !process.env[settingNames.config]?.trim() && process.stdout.isTTY === true && process.env.ROUTER_DEMO_VIEW !== "false";
const log = pino({ level: process.env.LOG_LEVEL ?? (demoView ? "error" : "info"), base: undefined });
const sink: LogSink = {
  debug: (fields, message) => log.debug(fields, message),
  info: (fields, message) => log.info(fields, message),
  warn: (fields, message) => log.warn(fields, message),
  error: (fields, message) => log.error(fields, message),
};

/** ROUTER_CONFIG as a path: relative to the working directory, named in full when it cannot be read. */
function readConfigFile(path: string): string {
  const resolvedPath = resolve(path);
  try {
    return readFileSync(resolvedPath, "utf8");
  } catch (error) {
    throw Object.assign(error as Error, { resolvedPath, baseDir: process.cwd() });
  }
}

function readListen(env: NodeJS.ProcessEnv): { host: string; port: number } {
  const host = env.HOST?.trim() || "127.0.0.1";
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) {
    throw new ConfigError(`HOST: must be an IP address or a host name, got "${host}"`);
  }
  const portText = env.PORT?.trim() || "7071";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) throw new ConfigError(`PORT: must be a port number (0–65535), got "${portText}"`);
  return { host, port };
}

async function main(): Promise<void> {
  let settings: Settings;
  let demo: DemoPool | undefined;
  let listen: { host: string; port: number };
  try {
    listen = readListen(process.env);
    if (process.env[settingNames.config]?.trim()) {
      settings = readSettings(process.env, readConfigFile);
    } else {
      demo = await startDemoPool(process.env);
      settings = demo.settings;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = createRouterApp(settings, {
    events: routerEventLog(sink),
    syncLog: sharedStateLog(sink),
    limiterLog: clientLimiterLog(sink),
  });
  // Per-call lines are debug on this host (a line per call costs CPU at load); warnings always show.
  const debug = log.isLevelEnabled("debug");
  const onCall = (s: CallSummary) => {
    const level = callLevel(s);
    if (level === "warn") log.warn(callFields(s), callMessage(s));
    else if (debug) log.debug(callFields(s), callMessage(s));
  };
  let server: NodeServer;
  try {
    // Tokens are read from an answer only for a call whose line is written, or whose client or deployment needs them.
    server = await startNodeServer(app.router, { ...listen, onCall, tokensLogged: debug });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EADDRINUSE"
        ? `port ${listen.port} on ${listen.host} is already in use (set PORT to another port)`
        : code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? `cannot listen on ${listen.host} (set HOST to an address of this machine)`
          : `cannot listen on ${listen.host}:${listen.port} (${code ?? (error as Error).message})`;
    process.stderr.write(`${code === "EADDRINUSE" ? "PORT" : "HOST"}: ${reason}\n`);
    await app.close();
    await demo?.close();
    process.exit(1);
  }
  log.info(
    { event: "started", url: server.url, backends: settings.config.backends.length, state: app.store.description, instance: app.instance },
    `router listening on ${server.url}`,
  );
  let stopView = () => {};
  if (demo) {
    printDemoHelp(server.url, demo);
    writeFileSync(demoInfoFile, JSON.stringify({ url: server.url, key: demo.clientKey, clients: demo.clients, pid: process.pid }));
    if (demoView) {
      stopView = startDemoView(
        () => demoRows(app.board.view(Date.now()), settings.config.backends, app.capacity.view()),
        (text) => process.stdout.write(text),
      );
    }
  }

  let stopping = false;
  const stop = (reason: string, exitCode: number): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "stopping", reason }, "stopping");
    void (async () => {
      stopView();
      // No new calls; calls in flight finish (streams get a moment), then the process exits.
      await server.close();
      await app.close();
      await demo?.close();
      if (demo) rmSync(demoInfoFile, { force: true });
      process.exit(exitCode);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM", 0));
  process.on("SIGINT", () => stop("SIGINT", 0));
  // A bug that escaped every handler leaves the process in a state nobody can vouch for: stop taking
  // calls, let the ones in flight finish, and exit non-zero so the supervisor starts a fresh one.
  fatal = (event, error) => {
    log.fatal({ event, err: error }, `${event}: stopping so a fresh process can take over`);
    stop(event, 1);
  };
}

let fatal = (event: string, error: unknown): void => {
  log.fatal({ event, err: error }, event);
  process.exit(1);
};

function printDemoHelp(url: string, demo: DemoPool): void {
  const lines = [
    "",
    "DEMO MODE: no ROUTER_CONFIG was set, so the router runs on three simulated Azure OpenAI regions on loopback:",
    "  eastus-ptu     priority 1, PTU (30,000 tokens/min): gpt-4o, under its own name gpt-4o-ptu",
    "  westus         priority 2, pay-as-you-go: gpt-4o and text-embedding-3-large (its embeddings quota: 2 calls/s)",
    "  swedencentral  priority 2, pay-as-you-go: gpt-4o and text-embedding-3-large",
    "",
    "Three client keys: use the first to try things; the other two are demo applications that `npm run demo:load` calls with.",
    `  default  ${demo.clientKey}  the operators' key: every deployment, no limits, every object; /status shows every client`,
    ...demo.clients.map(
      (c) => `  ${c.name.padEnd(8)} ${c.key}  an application: gpt-4o only, ${c.requestsPerMinute} requests/minute across every instance`,
    ),
    "  Answers to an application carry its own budget in x-ratelimit-*; the default key sees the backend's own values.",
    "",
    "Try it:",
    `  curl -s '${url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' \\`,
    `    -H "api-key: ${demo.clientKey}" -H "content-type: application/json" \\`,
    `    -d '{"messages":[{"role":"user","content":"Hello"}]}' -i`,
    "",
    "  // Node, with the official SDK (deployment paths, or the v1 API with the deployment in `model`):",
    `  new AzureOpenAI({ endpoint: "${url}", apiKey: "${demo.clientKey}", apiVersion: "2024-10-21" })`,
    `  new OpenAI({ baseURL: "${url}/openai/v1/", apiKey: "${demo.clientKey}" })`,
    "",
    `Health: ${url}/health   Breakers: curl -H "api-key: ${demo.clientKey}" '${url}/status'`,
    "Load: in another terminal, npm run demo:load (or npm run demo:load -- --seconds 10)",
    "Stop with Ctrl+C. Set ROUTER_CONFIG to route to real Azure OpenAI deployments (see README).",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

process.on("uncaughtException", (error) => fatal("uncaughtException", error));
process.on("unhandledRejection", (error) => fatal("unhandledRejection", error));

main().catch((error: unknown) => {
  log.fatal({ err: error }, "start-up failed");
  process.exit(1);
});
