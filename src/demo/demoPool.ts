// The demo pool `npm start` runs without ROUTER_CONFIG: three simulated regions on loopback — a
// small priority-1 "PTU" holding the chat model under its own name (`gpt-4o-ptu`), and two
// priority-2 pay-as-you-go regions with the chat model and an embeddings model, whose westus
// quota is small: a real estate in miniature, so the view shows mapping and per-deployment trips.

import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRouterConfig } from "../core/config/config";
import type { Env, Settings } from "../core/config/settings";
import { readSettings, settingNames } from "../core/config/settings";
import { AzureOpenAISimulator } from "../simulator/simulator";

/** Where a running demo tells `npm run demo:load` its URL and key. */
export const demoInfoFile = join(tmpdir(), "aoai-edge-router-demo.json");

export interface DemoPool {
  settings: Settings;
  regions: AzureOpenAISimulator[];
  /** The client key callers use (ROUTER_CLIENT_KEYS' first, or one made up at start). */
  clientKey: string;
  /** Two more clients with their own keys and limits, so `demo:load` shows one held to its budget. */
  clients: { name: string; key: string; requestsPerMinute: number }[];
  close(): Promise<void>;
}

/** What callers use: one chat model and one embeddings model. */
export const demoDeployments = { chat: "gpt-4o", embeddings: "text-embedding-3-large" } as const;

const regions = [
  {
    name: "eastus-ptu",
    priority: 1,
    // A provisioned deployment admitting as Azure's do (a bucket of tokens), sized so a walk-through
    // by hand or a sequential script is never throttled; `demo:load`'s peak is well over it.
    capacityPerSecond: undefined,
    provisioned: { "gpt-4o-ptu": { tokensPerMinute: 30_000, burstSeconds: 1 } },
    deployments: { [demoDeployments.chat]: "gpt-4o-ptu" },
    embeddingsPerSecond: undefined,
  },
  {
    name: "westus",
    priority: 2,
    capacityPerSecond: undefined,
    deployments: { [demoDeployments.chat]: "gpt-4o", [demoDeployments.embeddings]: "text-embedding-3-large" },
    embeddingsPerSecond: 2,
    provisioned: undefined,
  },
  {
    name: "swedencentral",
    priority: 2,
    capacityPerSecond: undefined,
    deployments: { [demoDeployments.chat]: "gpt-4o", [demoDeployments.embeddings]: "text-embedding-3-large" },
    embeddingsPerSecond: undefined,
    provisioned: undefined,
  },
];

/** Two applications sharing the pool: a generous budget and a small one. */
const demoClients = [
  { name: "team-a", keySetting: "DEMO_TEAM_A_KEYS", requestsPerMinute: 600 },
  { name: "team-b", keySetting: "DEMO_TEAM_B_KEYS", requestsPerMinute: 10 },
];

export async function startDemoPool(env: Env): Promise<DemoPool> {
  const keys = regions.map(() => randomBytes(12).toString("hex"));
  const simulators = await Promise.all(
    regions.map((r, i) =>
      AzureOpenAISimulator.start({
        region: r.name,
        apiKey: keys[i],
        capacityPerSecond: r.capacityPerSecond,
        provisioned: r.provisioned,
        deployments: Object.values(r.deployments),
        deploymentCapacityPerSecond: r.embeddingsPerSecond ? { "text-embedding-3-large": r.embeddingsPerSecond } : undefined,
        latencyMs: 40,
      }),
    ),
  );
  const config = {
    backends: regions.map((r, i) => ({
      name: r.name,
      url: simulators[i]?.url,
      priority: r.priority,
      auth: { type: "apiKey", keySetting: `DEMO_KEY_${i}` },
      deployments: r.deployments,
    })),
    circuitBreaker: { tripDuration: "PT10S", maxTripDuration: "PT1M" },
    attemptTimeout: "PT30S",
    // Embeddings answers are reused: demo:load repeats some of its texts, and those are served from the cache.
    cache: { deployments: [demoDeployments.embeddings], ttl: "PT10M" },
    clients: demoClients.map((c) => ({
      name: c.name,
      keySetting: c.keySetting,
      deployments: [demoDeployments.chat],
      limits: { requestsPerMinute: c.requestsPerMinute },
    })),
  };
  const clients = demoClients.map((c) => ({
    name: c.name,
    key: `${c.name}-${randomBytes(9).toString("hex")}`,
    requestsPerMinute: c.requestsPerMinute,
  }));
  parseRouterConfig(config);
  const clientKey = env[settingNames.clientKeys]?.split(",")[0]?.trim() || `demo-${randomBytes(12).toString("hex")}`;
  const demoEnv: Record<string, string | undefined> = {
    ...env,
    [settingNames.config]: JSON.stringify(config),
    [settingNames.clientKeys]: env[settingNames.clientKeys] || clientKey,
  };
  keys.forEach((key, i) => {
    demoEnv[`DEMO_KEY_${i}`] = key;
  });
  demoClients.forEach((c, i) => {
    demoEnv[c.keySetting] = clients[i]?.key;
  });
  const settings = readSettings(demoEnv, () => "");
  return {
    settings,
    regions: simulators,
    clientKey,
    clients,
    close: async () => void (await Promise.all(simulators.map((s) => s.close()))),
  };
}
