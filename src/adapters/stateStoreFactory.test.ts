import { describe, expect, it } from "vitest";
import { systemClock } from "../core/clock";
import { readSettings } from "../core/config/settings";
import { MemoryStateStore } from "./memoryStateStore";
import { createStateStore } from "./stateStoreFactory";
import { poolKey, TableStateStore } from "./tableStateStore";

const backends = [
  { name: "eastus", url: "https://aoai-eastus.openai.azure.com", auth: { type: "none" } },
  { name: "westus", url: "https://aoai-westus.openai.azure.com", auth: { type: "none" } },
];
const settings = (env: Record<string, string>) =>
  readSettings({ ROUTER_CONFIG: JSON.stringify({ backends }), ROUTER_CLIENT_KEYS: "k", ...env }, () => "");

describe("createStateStore", () => {
  it("uses memory when ROUTER_STATE and AzureWebJobsStorage are unset", () => {
    expect(createStateStore(settings({}), { clock: systemClock })).toBeInstanceOf(MemoryStateStore);
  });

  it("uses Table Storage with managed identity for a table service URL, naming account and table but no secret", () => {
    const store = createStateStore(settings({ ROUTER_STATE: "https://acct.table.core.windows.net", ROUTER_STATE_TABLE: "breakers" }), {
      clock: systemClock,
    });
    expect(store).toBeInstanceOf(TableStateStore);
    expect(store.description).toBe("Azure Table Storage acct.table.core.windows.net/breakers (managed identity)");
  });

  it("uses Table Storage with a connection string, never printing its key", () => {
    const key = "c2VjcmV0LWtleQ==";
    const store = createStateStore(
      settings({
        AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net`,
      }),
      { clock: systemClock },
    );
    expect(store.description).toBe("Azure Table Storage acct/routerstate (connection string)");
    expect(store.description).not.toContain(key);
  });
});

describe("poolKey", () => {
  const pool = settings({}).config.backends;

  it("is the same for the same backends in any order: router deployments of one pool share a row", () => {
    expect(poolKey([...pool].reverse())).toBe(poolKey(pool));
  });

  it("differs when a backend's name or URL differs: different pools never clash", () => {
    const [east, west] = pool;
    if (!east || !west) throw new Error("two backends expected");
    expect(poolKey([east])).not.toBe(poolKey(pool));
    expect(poolKey([east, { ...west, origin: "https://aoai-other.openai.azure.com" }])).not.toBe(poolKey(pool));
    expect(poolKey([east, { ...west, name: "west2" }])).not.toBe(poolKey(pool));
    expect(poolKey(pool)).toMatch(/^pool-[0-9a-f]{20}$/);
  });
});
