// Entry point of the plain Node host (`npm run serve`, `npm start`): reads settings, starts the
// demo pool when there is no ROUTER_CONFIG, serves until SIGTERM/SIGINT.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import pino from "pino";
import { ConfigError } from "./core/errors";
import type { CallSummary } from "./core/events";
import { readSettings, type Settings, settingNames } from "./core/settings";
import { type DemoPool, demoInfoFile, startDemoPool } from "./demo/demoPool";
import { startDemoView } from "./demo/demoView";
import { loggingEvents, loggingSyncLog } from "./hosts/logEvents";
import { startNodeServer } from "./hosts/nodeServer";
import { createRouterApp } from "./routerApp";

// The demo's live view owns a terminal; logs then default to errors only so they do not scroll it away.
const demoView = !process.env[settingNames.config]?.trim() && process.stdout.isTTY === true && process.env.ROUTER_DEMO_VIEW !== "false";
const log = pino({ level: process.env.LOG_LEVEL ?? (demoView ? "error" : "info"), base: undefined });

function readListen(env: NodeJS.ProcessEnv): { host: string; port: number } {
  const host = env.HOST?.trim() || "127.0.0.1";
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
      settings = readSettings(process.env, (path) => readFileSync(path, "utf8"));
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

  const app = createRouterApp(settings, { events: loggingEvents(log), syncLog: loggingSyncLog(log) });
  const onCall = log.isLevelEnabled("debug")
    ? (s: CallSummary) => log.debug({ event: "call", ...s }, `${s.method} ${s.path} ${s.status}`)
    : undefined;
  const server = await startNodeServer(app.router, { ...listen, onCall });
  log.info(
    { event: "started", url: server.url, backends: settings.config.backends.length, state: app.store.description, instance: app.instance },
    `router listening on ${server.url}`,
  );
  let stopView = () => {};
  if (demo) {
    printDemoHelp(server.url, demo);
    writeFileSync(demoInfoFile, JSON.stringify({ url: server.url, key: demo.clientKey, pid: process.pid }));
    if (demoView) {
      const priorities = settings.config.backends.map((b) => b.priority);
      stopView = startDemoView(
        () => app.board.view(Date.now()).map((row, i) => ({ ...row, priority: priorities[i] ?? 1 })),
        (text) => process.stdout.write(text),
      );
    }
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "stopping", signal }, "stopping");
    void (async () => {
      stopView();
      await server.close();
      await app.close();
      await demo?.close();
      if (demo) rmSync(demoInfoFile, { force: true });
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function printDemoHelp(url: string, demo: DemoPool): void {
  const lines = [
    "",
    "DEMO MODE: no ROUTER_CONFIG was set, so the router runs on three simulated Azure OpenAI regions on loopback:",
    ...demo.regions.map((r, i) => `  ${r.region.padEnd(14)} priority ${i === 0 ? "1 (PTU, 5 calls/s)" : "2 (pay-as-you-go)"}`),
    "",
    `Client key: ${demo.clientKey}`,
    "",
    "Try it:",
    `  curl -s ${url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21 \\`,
    `    -H "api-key: ${demo.clientKey}" -H "content-type: application/json" \\`,
    `    -d '{"messages":[{"role":"user","content":"Hello"}]}' -i`,
    "",
    "  // Node, with the official SDK:",
    `  new AzureOpenAI({ endpoint: "${url}", apiKey: "${demo.clientKey}", apiVersion: "2024-10-21" })`,
    "",
    `Health: ${url}/health   Breakers: curl -H "api-key: ${demo.clientKey}" ${url}/status`,
    "Stop with Ctrl+C. Set ROUTER_CONFIG to route to real Azure OpenAI deployments (see README).",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

// One bad call must not take the process down; it is logged and the server goes on.
process.on("uncaughtException", (error) => log.error({ event: "uncaughtException", err: error }, "uncaught exception"));
process.on("unhandledRejection", (error) => log.error({ event: "unhandledRejection", err: error }, "unhandled rejection"));

main().catch((error: unknown) => {
  log.fatal({ err: error }, "start-up failed");
  process.exit(1);
});
