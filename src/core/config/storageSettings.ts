// Where shared state and shared cached answers live: the storage settings, read at start-up.

import { ConfigError } from "./configTypes";
import { type Env, settingNames } from "./settingNames";

/** Where shared breaker state lives. */
export type StateSetting =
  | { kind: "memory" }
  | { kind: "connectionString"; connectionString: string; from: string }
  | { kind: "tableServiceUrl"; url: string; clientId: string | undefined; from: string };

/** Where shared cached answers live (Blob Storage); `none`: answers stay in each instance. */
export type CacheStoreSetting =
  | { kind: "none" }
  | { kind: "connectionString"; connectionString: string }
  | { kind: "blobServiceUrl"; url: string; clientId: string | undefined };

export function readStateSetting(env: Env): StateSetting {
  const explicit = env[settingNames.state]?.trim();
  if (explicit) return parseStateValue(settingNames.state, explicit, undefined);
  const webJobs = env.AzureWebJobsStorage?.trim();
  if (webJobs) return parseStateValue("AzureWebJobsStorage", webJobs, undefined);
  // Identity-based AzureWebJobsStorage (Flex Consumption's default).
  const clientId = env.AzureWebJobsStorage__clientId?.trim() || undefined;
  const tableUri = env.AzureWebJobsStorage__tableServiceUri?.trim();
  if (tableUri) return parseStateValue("AzureWebJobsStorage__tableServiceUri", tableUri, clientId);
  const account = env.AzureWebJobsStorage__accountName?.trim();
  if (account) {
    if (!/^[a-z0-9]{3,24}$/.test(account)) throw new ConfigError("AzureWebJobsStorage__accountName: is not a storage account name");
    return {
      kind: "tableServiceUrl",
      url: `https://${account}.table.core.windows.net`,
      clientId,
      from: "AzureWebJobsStorage__accountName",
    };
  }
  return { kind: "memory" };
}

function parseStateValue(from: string, value: string, clientId: string | undefined): StateSetting {
  if (value === "memory") return { kind: "memory" };
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      return { kind: "tableServiceUrl", url: url.origin, clientId, from };
    } catch {
      throw new ConfigError(`${from}: is not a valid table service URL`);
    }
  }
  if (/AccountName=|UseDevelopmentStorage=true|TableEndpoint=/i.test(value)) {
    return { kind: "connectionString", connectionString: value, from };
  }
  throw new ConfigError(`${from}: must be "memory", a storage connection string or https://<account>.table.core.windows.net`);
}

export function readTableName(env: Env): string {
  const name = env[settingNames.stateTable]?.trim() || "routerstate";
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) {
    throw new ConfigError(`${settingNames.stateTable}: must be 3–63 letters or digits, starting with a letter`);
  }
  return name;
}

/**
 * The Blob service of the shared cache: `ROUTER_CACHE_STORE` (`none`, a connection string, or
 * `https://<account>.blob.core.windows.net`), else the state account's — a connection string's
 * `BlobEndpoint` (or its account's default endpoint), or the blob service of a table service URL.
 * A connection string that names a table endpoint but no blob endpoint (an emulator's table alone)
 * gives none: the router never guesses an address that may not be the same account.
 */
export function readCacheStore(env: Env, state: StateSetting): CacheStoreSetting {
  const name = settingNames.cacheStore;
  const explicit = env[settingNames.cacheStore]?.trim();
  if (explicit === "none" || explicit === "memory") return { kind: "none" };
  if (explicit) {
    if (/^https?:\/\//i.test(explicit)) {
      if (!URL.canParse(explicit)) throw new ConfigError(`${name}: is not a valid blob service URL`);
      return { kind: "blobServiceUrl", url: new URL(explicit).origin, clientId: env.AzureWebJobsStorage__clientId?.trim() || undefined };
    }
    if (/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(explicit))
      return { kind: "connectionString", connectionString: explicit };
    throw new ConfigError(`${name}: must be "none", a storage connection string or https://<account>.blob.core.windows.net`);
  }
  return derivedCacheStore(state);
}

/** The state account's Blob service, when it can be told for sure. */
export function derivedCacheStore(state: StateSetting): CacheStoreSetting {
  if (state.kind === "memory") return { kind: "none" };
  if (state.kind === "tableServiceUrl") {
    const url = new URL(state.url);
    const blobHost = url.hostname.replace(/^([a-z0-9]{3,24})\.table\./i, "$1.blob.");
    return blobHost === url.hostname
      ? { kind: "none" }
      : { kind: "blobServiceUrl", url: `${url.protocol}//${blobHost}`, clientId: state.clientId };
  }
  const text = state.connectionString;
  const names = /BlobEndpoint=|UseDevelopmentStorage=true/i.test(text) || !/TableEndpoint=/i.test(text);
  return names ? { kind: "connectionString", connectionString: text } : { kind: "none" };
}

export function readContainerName(env: Env): string {
  const name = env[settingNames.cacheContainer]?.trim() || "routercache";
  if (!/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new ConfigError(
      `${settingNames.cacheContainer}: must be 3–63 lower-case letters, digits or single hyphens, not starting or ending with one`,
    );
  }
  return name;
}
