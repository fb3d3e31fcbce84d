// The `cache` section of ROUTER_CONFIG, and where the shared cache's Blob service comes from.

import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../config/config";
import { readSettings } from "../config/settings";
import { derivedCacheStore } from "../config/storageSettings";

const backend = { name: "a", url: "https://a.example", auth: { type: "none" } };

function configError(input: unknown): string {
  try {
    parseRouterConfig(input);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("cache in ROUTER_CONFIG", () => {
  it("is off unless configured, and fills the contract's defaults", () => {
    expect(parseRouterConfig({ backends: [backend] }).cache).toBeUndefined();
    expect(parseRouterConfig({ backends: [backend], cache: { deployments: ["emb"] } }).cache).toEqual({
      deployments: new Set(["emb"]),
      ttlMs: 3_600_000,
      maxBytes: 64 * 1024 * 1024,
      shareAcrossClients: false,
    });
    const full = parseRouterConfig({
      backends: [backend],
      cache: { deployments: ["text-embedding-3-large"], ttl: "PT24H", maxBytes: 268435456, shareAcrossClients: true },
    }).cache;
    expect(full).toMatchObject({ ttlMs: 86_400_000, maxBytes: 268435456, shareAcrossClients: true });
  });

  it.each([
    [{ ttl: "PT1H" }, "ROUTER_CONFIG: cache.deployments is required"],
    [{ deployments: [] }, "ROUTER_CONFIG: cache.deployments must list at least one deployment (or leave cache out)"],
    [{ deployments: ["a b"] }, "ROUTER_CONFIG: cache.deployments[0] must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')"],
    [{ deployments: ["emb"], ttl: "1 hour" }, "ROUTER_CONFIG: cache.ttl must be an ISO 8601 duration such as PT30S"],
    [{ deployments: ["emb"], ttl: "PT0S" }, "ROUTER_CONFIG: cache.ttl must be longer than zero"],
    [{ deployments: ["emb"], maxBytes: 0 }, "ROUTER_CONFIG: cache.maxBytes must be a positive integer"],
    [{ deployments: ["emb"], shareAcrossClients: "yes" }, "ROUTER_CONFIG: cache.shareAcrossClients must be true or false"],
    [{ deployments: ["emb"], semantic: true }, 'ROUTER_CONFIG: cache has unknown field "semantic"'],
  ])("refuses %j", (cache, message) => {
    expect(configError({ backends: [backend], cache })).toBe(message);
  });
});

describe("the shared cache's Blob service", () => {
  const base = { ROUTER_CONFIG: JSON.stringify({ backends: [backend], cache: { deployments: ["emb"] } }), ROUTER_CLIENT_KEYS: "k" };
  const azurite =
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

  it("is the state account's: a table service URL's blob service, a connection string's BlobEndpoint or default endpoints", () => {
    expect(derivedCacheStore({ kind: "tableServiceUrl", url: "https://acct1.table.core.windows.net", clientId: "id", from: "x" })).toEqual({
      kind: "blobServiceUrl",
      url: "https://acct1.blob.core.windows.net",
      clientId: "id",
    });
    const account = "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=a2V5;EndpointSuffix=core.windows.net";
    expect(derivedCacheStore({ kind: "connectionString", connectionString: account, from: "x" })).toEqual({
      kind: "connectionString",
      connectionString: account,
    });
    const withBlob = `${azurite}BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`;
    expect(derivedCacheStore({ kind: "connectionString", connectionString: withBlob, from: "x" }).kind).toBe("connectionString");
    expect(derivedCacheStore({ kind: "connectionString", connectionString: "UseDevelopmentStorage=true", from: "x" }).kind).toBe(
      "connectionString",
    );
  });

  it("is none where it cannot be told for sure: memory, a table endpoint alone, a table URL of another form", () => {
    expect(derivedCacheStore({ kind: "memory" })).toEqual({ kind: "none" });
    expect(derivedCacheStore({ kind: "connectionString", connectionString: azurite, from: "x" })).toEqual({ kind: "none" });
    expect(derivedCacheStore({ kind: "tableServiceUrl", url: "http://127.0.0.1:10002", clientId: undefined, from: "x" })).toEqual({
      kind: "none",
    });
  });

  it("can be set apart with ROUTER_CACHE_STORE, and the container with ROUTER_CACHE_CONTAINER", () => {
    const settings = readSettings(
      { ...base, ROUTER_STATE: azurite, ROUTER_CACHE_STORE: "https://cacheacct.blob.core.windows.net/ignored" },
      () => "",
    );
    expect(settings.cacheStore).toEqual({ kind: "blobServiceUrl", url: "https://cacheacct.blob.core.windows.net", clientId: undefined });
    expect(settings.cacheContainer).toBe("routercache");
    expect(readSettings({ ...base, ROUTER_CACHE_STORE: "none" }, () => "").cacheStore).toEqual({ kind: "none" });
    expect(readSettings({ ...base, ROUTER_CACHE_CONTAINER: "answers-1" }, () => "").cacheContainer).toBe("answers-1");
    expect(() => readSettings({ ...base, ROUTER_CACHE_STORE: "somewhere" }, () => "")).toThrow(/^ROUTER_CACHE_STORE: must be/);
    expect(() => readSettings({ ...base, ROUTER_CACHE_CONTAINER: "Answers" }, () => "")).toThrow(/^ROUTER_CACHE_CONTAINER: must be/);
    expect(() => readSettings({ ...base, ROUTER_CACHE_CONTAINER: "a--b" }, () => "")).toThrow(/^ROUTER_CACHE_CONTAINER: must be/);
  });
});
