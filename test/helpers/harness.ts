// A router on loopback in front of simulated regions, built the way a user runs it:
// settings from env, the composition root, the plain Node host. Real sockets throughout.

import { createServer } from "node:net";
import OpenAI, { AzureOpenAI } from "openai";
import type { TripSharingLog } from "../../src/core/breakers/tripSharing";
import type { ClientUsageView } from "../../src/core/clients/clientLimiter";
import { readSettings } from "../../src/core/config/settings";
import type { CallSummary, RouterEvents } from "../../src/core/events";
import type { SharedStore } from "../../src/core/shared/sharedStore";
import type { OwnerBookStatus } from "../../src/core/storedObjects/ownerBook";
import { type NodeServer, startNodeServer } from "../../src/hosts/node/nodeServer";
import { createRouterApp, type RouterApp } from "../../src/routerApp";
import { AzureOpenAISimulator, type SimulatorOptions } from "../../src/simulator/simulator";

export const clientKey = "client-key-for-tests";

export interface RegionSpec extends Partial<SimulatorOptions> {
  priority?: number;
  weight?: number;
  /** A backend whose port refuses connections. */
  refused?: boolean;
  /** The backend's `auth` in ROUTER_CONFIG; default: apiKey with its own key. */
  auth?: Record<string, unknown>;
  /** The backend's `deployments` in ROUTER_CONFIG (the simulator's own list is `deployments`). */
  routerDeployments?: Record<string, unknown>;
}

export interface Harness {
  url: string;
  sims: AzureOpenAISimulator[];
  /** The API key each backend expects (index = backend). */
  backendKeys: string[];
  app: RouterApp;
  server: NodeServer;
  /** The official Azure SDK; `apiVersion` defaults to 2024-10-21 (the Responses API needs 2025-03-01-preview or later). */
  client(options?: { apiKey?: string; apiVersion?: string }): AzureOpenAI;
  /** The official SDK on the v1 API: `OpenAI` with `baseURL: <router>/openai/v1/`. */
  v1(options?: { apiKey?: string }): OpenAI;
  /** POST JSON to the router with the client key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  status(): Promise<StatusBody>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  regions?: RegionSpec[];
  /** Regions already running (shared with another router); not closed with this harness. */
  pool?: Regions;
  syncLog?: TripSharingLog;
  events?: RouterEvents;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  store?: SharedStore;
  instance?: string;
  /** Each call's final summary, as the Node host logs it. */
  onCall?: (summary: CallSummary) => void;
  uploadRate?: { minBytesPerSecond?: number; graceMs?: number };
}

/** A loopback port with nothing listening on it. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Simulated regions that one or more routers can share. */
export interface Regions {
  specs: RegionSpec[];
  sims: AzureOpenAISimulator[];
  urls: string[];
  backendKeys: string[];
  close(): Promise<void>;
}

export async function startRegions(specs: RegionSpec[]): Promise<Regions> {
  const backendKeys = specs.map((_, i) => `backend-key-${i}`);
  const sims: AzureOpenAISimulator[] = [];
  const urls: string[] = [];
  for (const [i, region] of specs.entries()) {
    if (region.refused) {
      urls.push(`http://127.0.0.1:${await refusedPort()}`);
      continue;
    }
    const sim = await AzureOpenAISimulator.start({ region: `region-${i}`, apiKey: backendKeys[i], ...region });
    sims[i] = sim;
    urls.push(sim.url);
  }
  return { specs, sims, urls, backendKeys, close: async () => void (await Promise.all(sims.filter(Boolean).map((s) => s.close()))) };
}

/** The app settings of a router in front of `pool`: each backend with its own API key setting. */
export function routerEnv(pool: Regions, options: Pick<HarnessOptions, "config" | "env"> = {}): Record<string, string> {
  const config = {
    backends: pool.specs.map((region, i) => ({
      name: region.region ?? `region-${i}`,
      url: pool.urls[i],
      priority: region.priority ?? 1,
      weight: region.weight ?? 1,
      auth: region.auth ?? { type: "apiKey", keySetting: `BACKEND_KEY_${i}` },
      ...(region.routerDeployments ? { deployments: region.routerDeployments } : {}),
    })),
    ...options.config,
  };
  const env: Record<string, string> = { ROUTER_CONFIG: JSON.stringify(config), ROUTER_CLIENT_KEYS: clientKey, ...options.env };
  pool.backendKeys.forEach((key, i) => {
    env[`BACKEND_KEY_${i}`] = key;
  });
  return env;
}

/** The `i`-th simulated region of a harness or a set of regions (a test naming one that is not there fails at once). */
export function simulatorOf(h: { sims: AzureOpenAISimulator[] }, i: number): AzureOpenAISimulator {
  const s = h.sims[i];
  if (!s) throw new Error(`no simulator ${i}`);
  return s;
}
/** The one-message chat most calls in the tests send. */
export const helloMessages = [{ role: "user" as const, content: "Hello" }];

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const ownRegions = !options.pool;
  const pool = options.pool ?? (await startRegions(options.regions ?? []));
  const { sims, backendKeys } = pool;
  const env = routerEnv(pool, options);
  const app = createRouterApp(
    readSettings(env, () => ""),
    { events: options.events, store: options.store, instance: options.instance, syncLog: options.syncLog, uploadRate: options.uploadRate },
  );
  const server = await startNodeServer(app.router, { host: "127.0.0.1", port: 0, onCall: options.onCall });
  return {
    url: server.url,
    sims,
    backendKeys,
    app,
    server,
    client: (o = {}) =>
      new AzureOpenAI({ endpoint: server.url, apiKey: o.apiKey ?? clientKey, apiVersion: o.apiVersion ?? "2024-10-21", maxRetries: 0 }),
    v1: (o = {}) => new OpenAI({ baseURL: `${server.url}/openai/v1/`, apiKey: o.apiKey ?? clientKey, maxRetries: 0 }),
    post: (path, body, headers = {}) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": clientKey, ...headers },
        body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
      }),
    status: async () => (await (await fetch(`${server.url}/status`, { headers: { "api-key": clientKey } })).json()) as StatusBody,
    close: async () => {
      await server.close();
      await app.close();
      if (ownRegions) await pool.close();
    },
  };
}

/** The /status body. */
export interface StatusBody {
  instance: string;
  sharedState: { store: string; connected: boolean; lastRefreshAt: string | null; reads: number; writes: number; owners?: OwnerBookStatus };
  backends: (BreakerStatus & {
    name: string;
    backendWide: BreakerStatus;
    deployments: (BreakerStatus & { name: string; callerNames: string[] })[];
    noDeployment: BreakerStatus | null;
  })[];
  clients?: Record<string, ClientUsageView>;
  clientLimits?: { shared: boolean; instances: number; reads: number; writes: number; failures: number };
}

export interface BreakerStatus {
  state: "open" | "closed";
  openUntil: string | null;
  reason: string | null;
  lastStatus: number | null;
  source: string | null;
  served: number;
  failed: number;
}

export const chatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it holds; the ms it took, or an error naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition"): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await sleep(20);
  }
  return Date.now() - started;
}
