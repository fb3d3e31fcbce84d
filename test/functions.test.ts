// The Azure Functions entry point's handler, called with real HttpRequest / InvocationContext objects.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readSettings, settingNames } from "../src/core/config/settings";
import type { RequestHandler } from "../src/core/routing/router";
import { buildFunctionsHandler, jsonLineSink } from "../src/hosts/functions/functionsHandler";
import { bodyText, callFunction } from "./helpers/functionsHost";
import { chatPath, clientKey, type Regions, routerEnv, startRegions } from "./helpers/harness";

let regions: Regions | undefined;
afterEach(async () => {
  await regions?.close();
  regions = undefined;
});

const silent = jsonLineSink({ debug: () => {}, info: () => {}, warn: () => {}, error: () => {} });
/** A sink that keeps each JSON line. */
const capture = (logged: string[]) => {
  const record = (m: string) => void logged.push(m);
  return jsonLineSink({ debug: record, info: record, warn: record, error: record });
};

async function functionsRouter(specs: Parameters<typeof startRegions>[0]): Promise<RequestHandler> {
  regions = await startRegions(specs);
  return buildFunctionsHandler(routerEnv(regions), silent);
}

const chat = (extra: object = {}) => JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...extra });
/** A chat completion with the client key, through the Functions handler. */
const chatCall = (handler: RequestHandler, extra: object = {}) =>
  callFunction(handler, { method: "POST", path: chatPath, headers: { "api-key": clientKey }, body: chat(extra) });

describe("Azure Functions handler", () => {
  it("forwards a plain call and logs one structured line through the invocation context", async () => {
    const handler = await functionsRouter([{}]);
    const { response, headers, logs } = await chatCall(handler);
    expect(response.status).toBe(200);
    expect(headers.get("x-served-by")).toBe("region-0");
    expect(JSON.parse(await bodyText(response)).choices[0].message.content).toBe("Hello from region-0.");
    const lines = logs.map((l) => JSON.parse(String(l.args[0])));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "call",
      method: "POST",
      path: "/openai/deployments/gpt-4o/chat/completions",
      status: 200,
      backend: "region-0",
      attempts: 1,
      outcome: "served",
    });
    expect(JSON.stringify(logs)).not.toContain(clientKey);
    expect(JSON.stringify(logs)).not.toContain("api-version");
  });

  it("streams SSE chunks to the caller as the backend sends them", async () => {
    const handler = await functionsRouter([{ streamChunks: 5, streamChunkDelayMs: 80 }]);
    const { response } = await chatCall(handler, { stream: true });
    expect(response.status).toBe(200);
    const arrivals: number[] = [];
    let text = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      arrivals.push(Date.now());
      text += Buffer.from(chunk).toString();
    }
    expect(text).toContain("data: [DONE]");
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(250);
  });

  it("fails over to the next backend", async () => {
    const handler = await functionsRouter([{ priority: 1 }, { priority: 2 }]);
    regions?.sims[0]?.setFault({ kind: "throttle", retryAfterSeconds: 10 });
    const { response, headers } = await chatCall(handler);
    expect(response.status).toBe(200);
    expect(headers.get("x-served-by")).toBe("region-1");
    expect(headers.get("x-router-attempts")).toBe("2");
  });

  it("answers 401 without a key and reaches no backend", async () => {
    const handler = await functionsRouter([{}]);
    const { response } = await callFunction(handler, { method: "POST", path: chatPath, body: chat() });
    expect(response.status).toBe(401);
    expect(JSON.parse(await bodyText(response)).error.code).toBe("Unauthorized");
    expect(regions?.sims[0]?.requestCount).toBe(0);
  });

  it("when misconfigured: logs the field once, answers every call 500 RouterMisconfigured and /health 503", async () => {
    const logged: string[] = [];
    const handler = buildFunctionsHandler(
      { ROUTER_CONFIG: JSON.stringify({ backends: [{ name: "a", url: "nope" }] }), ROUTER_CLIENT_KEYS: "k" },
      capture(logged),
    );
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] ?? "{}")).toEqual({
      event: "misconfigured",
      code: "RouterMisconfigured",
      message: "ROUTER_CONFIG: backends[0].url must be an absolute http(s) URL",
    });
    for (const path of [chatPath, "/status"]) {
      const { response } = await callFunction(handler, { method: "POST", path, headers: { "api-key": "k" }, body: chat() });
      expect(response.status).toBe(500);
      const text = await bodyText(response);
      expect(JSON.parse(text).error.code).toBe("RouterMisconfigured");
      expect(text).not.toContain("nope");
    }
    const health = await callFunction(handler, { method: "GET", path: "/health" });
    expect(health.response.status).toBe(503);
    expect(logged).toHaveLength(1);
  });

  it("the built entry points named by package.json main load as CommonJS outside a Functions host", async () => {
    // `npm test` builds first; these are the files the Functions host loads.
    const root = join(__dirname, "..");
    const main: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).main;
    expect(main).toBe("dist/src/{index.js,functions/*.js}");
    const load = createRequire(join(root, "package.json"));
    // Outside a host, @azure/functions warns it is in test mode, and the router (no settings here)
    // logs that it is misconfigured: captured, so a passing run stays quiet, and checked.
    const printed: string[] = [];
    const methods = ["log", "debug", "info", "warn", "error"] as const;
    const spies = methods.map((m) => vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void printed.push(args.join(" "))));
    try {
      expect(() => load("./dist/src/index.js")).not.toThrow();
      expect(() => load("./dist/src/functions/entryPoints.js")).not.toThrow();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(printed.some((line) => line.includes('"event":"misconfigured"'))).toBe(true);
    expect(printed.filter((line) => line.includes("Skipping call to register function"))).toHaveLength(4);
  });
});

describe("Functions project files", () => {
  const root = join(__dirname, "..");
  const json = (file: string) => JSON.parse(readFileSync(join(root, file), "utf8"));

  it("host.json puts routes at the root, allows long calls, and never samples away requests or exceptions", () => {
    const host = json("host.json");
    expect(host.extensions.http.routePrefix).toBe("");
    expect(host.extensions.http.maxConcurrentRequests).toBeGreaterThan(0);
    expect(host.functionTimeout).toBe("00:30:00");
    expect(host.logging.applicationInsights.samplingSettings.excludedTypes.split(";")).toEqual(
      expect.arrayContaining(["Request", "Exception"]),
    );
  });

  it("local.settings.sample.json explains every setting the router reads, and its values start the router", () => {
    const sample = json("local.settings.sample.json");
    for (const name of Object.values(settingNames)) {
      expect(sample.Values, `${name} missing from Values`).toHaveProperty(name);
      expect(sample._comments, `${name} has no explanation`).toHaveProperty(name);
    }
    const env = Object.fromEntries(Object.entries(sample.Values as Record<string, string>).map(([k, v]) => [k, v]));
    const settings = readSettings(env, (path) => readFileSync(join(root, path), "utf8"));
    expect(settings.config.backends.map((b) => b.name)).toEqual(["eastus-ptu", "westus", "swedencentral"]);
    expect(settings.state).toMatchObject({ kind: "connectionString", from: "ROUTER_STATE" });
    // The Functions host resolves the relative ROUTER_CONFIG path from the app root, not the cwd.
    const logged: string[] = [];
    buildFunctionsHandler({ ...env, ROUTER_STATE: "memory" }, capture(logged));
    expect(logged.map((l) => JSON.parse(l).event)).toEqual(["started"]);
  });

  it("without Core Tools, start:func says what to install before building anything, and npm install leaves the clone clean", () => {
    const scripts = json("package.json").scripts;
    expect(scripts["start:func"]).toBe("node scripts/coreTools.cjs --required && npm run build && func start");
    // No install script of our own: `npm install` then leaves package-lock.json as committed (npm
    // adds "hasInstallScript" to the root entry when the package has one).
    expect(scripts.postinstall).toBeUndefined();
    expect(scripts.install).toBeUndefined();
    expect(json("package-lock.json").packages[""].hasInstallScript).toBeUndefined();
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["scripts/coreTools.cjs", ...args], { cwd: root, env: { PATH: "/nonexistent" }, encoding: "utf8" });
    const required = run(["--required"]);
    expect(required.status).toBe(1);
    expect(required.stderr).toContain("`npm start` needs nothing more");
    expect(required.stderr).toContain("npm install -g azure-functions-core-tools@4");
    const atInstall = run([]);
    expect(atInstall.status).toBe(0);
    expect(atInstall.stderr).toMatch(/^Note: Azure Functions Core Tools \(func\) is not installed/);
  });

  it(".funcignore keeps sources, tests and Core Tools out of the published package", () => {
    const ignored = readFileSync(join(root, ".funcignore"), "utf8").split("\n");
    for (const entry of ["src", "test", "dist/test", "local.settings.json", "node_modules/azure-functions-core-tools"])
      expect(ignored).toContain(entry);
    expect(ignored).not.toContain("dist");
  });
});
