// App settings (environment variables) to typed settings, validated once at start-up.
// Every failure is a ConfigError whose message starts with the setting's name.

import { type Client, defaultClientName, operatorsClient } from "../clients/clientAuth";
import { ConfigError, parseRouterConfig, type RouterConfig } from "./config";
import { durationToMs } from "./duration";
import type { Env } from "./settingNames";
import { settingNames } from "./settingNames";
import {
  type CacheStoreSetting,
  readCacheStore,
  readContainerName,
  readStateSetting,
  readTableName,
  type StateSetting,
} from "./storageSettings";

export { type Env, settingNames } from "./settingNames";
export type { CacheStoreSetting, StateSetting } from "./storageSettings";

export interface Settings {
  config: RouterConfig;
  /**
   * Every client with its keys: `default` (ROUTER_CLIENT_KEYS, when set) and those of `clients[]`.
   * Empty only when `allowAnonymous`.
   */
  clients: { client: Client; keys: string[] }[];
  allowAnonymous: boolean;
  /** API key per backend name, for `auth.type = apiKey` backends. */
  backendKeys: ReadonlyMap<string, string>;
  state: StateSetting;
  /** Table holding shared state. Default `routerstate`. */
  stateTable: string;
  /** Background refresh of shared state. Default 1 s (`ROUTER_STATE_REFRESH`). */
  stateRefreshMs: number;
  /** When set, calls must carry this `x-azure-fdid`. */
  frontDoorId: string | undefined;
  /** Request bodies an instance may hold at once (`ROUTER_BODY_MEMORY`); unset: a quarter of the instance's memory. */
  bodyMemoryBytes: number | undefined;
  /** The shared response cache's Blob service: `ROUTER_CACHE_STORE`, else derived from the state setting. */
  cacheStore: CacheStoreSetting;
  /** Blob container of the shared response cache. Default `routercache` (`ROUTER_CACHE_CONTAINER`). */
  cacheContainer: string;
}

/** Reads the router's settings. `readConfigFile` loads `ROUTER_CONFIG` when it is a path. */
export function readSettings(env: Env, readConfigFile: (path: string) => string): Settings {
  // A setting that still holds a Key Vault reference means the reference did not resolve, whichever setting it is.
  for (const name of Object.values(settingNames)) {
    const value = env[name];
    if (value !== undefined) rejectUnresolvedReference(name, value.trim());
  }
  const config = parseRouterConfig(readConfigJson(env, readConfigFile));
  const allowAnonymous = readBoolean(env, settingNames.allowAnonymous);
  const clientKeys = splitKeys(env[settingNames.clientKeys]);
  if (clientKeys.length === 0 && !allowAnonymous && config.clients.length === 0) {
    throw new ConfigError(
      `${settingNames.clientKeys}: is required (comma-separated client keys) unless ROUTER_CONFIG lists clients, or set ${settingNames.allowAnonymous}=true when callers are authenticated elsewhere`,
    );
  }
  for (const key of clientKeys) rejectUnresolvedReference(settingNames.clientKeys, key);
  const state = readStateSetting(env);
  return {
    config,
    clients: readClients(env, config, clientKeys),
    allowAnonymous,
    backendKeys: readBackendKeys(env, config),
    state,
    stateTable: readTableName(env),
    stateRefreshMs: readDuration(env, settingNames.stateRefresh, 1000),
    frontDoorId: env[settingNames.frontDoorId]?.trim() || undefined,
    bodyMemoryBytes: readBodyMemory(env, config.maxRequestBytes),
    cacheStore: readCacheStore(env, state),
    cacheContainer: readContainerName(env),
  };
}

function readBodyMemory(env: Env, maxRequestBytes: number): number | undefined {
  const name = settingNames.bodyMemory;
  const value = env[settingNames.bodyMemory]?.trim();
  if (!value) return undefined;
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(bytes) || bytes < maxRequestBytes) {
    throw new ConfigError(`${name}: must be a number of bytes, at least maxRequestBytes (${maxRequestBytes})`);
  }
  return bytes;
}

function readConfigJson(env: Env, readConfigFile: (path: string) => string): unknown {
  const name = settingNames.config;
  const value = env[settingNames.config]?.trim();
  if (!value) throw new ConfigError(`${name}: is required (the pool configuration as JSON, or a path to a JSON file)`);
  // JSON of any kind is taken as JSON (and refused below unless it is an object); anything else is a path.
  const looksLikeJson = /^[{["]/.test(value) || /^(null|true|false|-?\d[\d.eE+-]*)$/.test(value);
  let text = value;
  let from = "";
  if (!looksLikeJson) {
    try {
      text = readConfigFile(value);
      from = ` (file ${value})`;
    } catch (error) {
      const { code, resolvedPath, baseDir } = error as NodeJS.ErrnoException & { resolvedPath?: string; baseDir?: string };
      const where =
        resolvedPath && resolvedPath !== value ? ` (resolved to ${resolvedPath}${baseDir ? `, relative to ${baseDir}` : ""})` : "";
      throw new ConfigError(`${name}: cannot read file ${value}${where}: ${code ?? (error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${name}: is not valid JSON${from}: ${jsonErrorAt(text, (error as Error).message)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    throw new ConfigError(`${name}: must be a JSON object with "backends"${from}, got ${kind}`);
  }
  return parsed;
}

/** A JSON.parse message with the line and column of its byte position, which an editor can go to. */
export function jsonErrorAt(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position) return message;
  const at = Number(position[1]);
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - before.lastIndexOf("\n");
  return `${message.replace(/ in JSON at position \d+.*$/, "")} at line ${line}, column ${column}`;
}

function splitKeys(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/** The `default` client (ROUTER_CLIENT_KEYS) and each of `clients[]` with the keys its setting holds. */
function readClients(env: Env, config: RouterConfig, defaultKeys: string[]): { client: Client; keys: string[] }[] {
  const out: { client: Client; keys: string[] }[] = [];
  if (defaultKeys.length > 0) {
    out.push({ client: operatorsClient, keys: defaultKeys });
  }
  const owner = new Map<string, string>();
  for (const key of defaultKeys) owner.set(key, defaultClientName);
  config.clients.forEach((c, i) => {
    const field = `${settingNames.config}: clients[${i}]`;
    if (c.name.toLowerCase() === defaultClientName && defaultKeys.length > 0) {
      throw new ConfigError(`${field}.name: "${defaultClientName}" is the client of ${settingNames.clientKeys}; choose another name`);
    }
    const keys = splitKeys(env[c.keySetting]);
    if (keys.length === 0) throw new ConfigError(`${field}.keySetting names app setting ${c.keySetting}, which is not set`);
    for (const key of keys) {
      rejectUnresolvedReference(c.keySetting, key);
      const other = owner.get(key);
      // Name both clients, never the key.
      if (other !== undefined)
        throw new ConfigError(`${settingNames.config}: clients "${other}" and "${c.name}" share a key; each key must belong to one client`);
      owner.set(key, c.name);
    }
    out.push({ client: { name: c.name, deployments: c.deployments, limits: c.limits, seesAllClients: false }, keys });
  });
  return out;
}

function readBackendKeys(env: Env, config: RouterConfig): Map<string, string> {
  const keys = new Map<string, string>();
  config.backends.forEach((backend, i) => {
    if (backend.auth.type !== "apiKey") return;
    const setting = backend.auth.keySetting;
    const key = env[setting]?.trim();
    if (!key) {
      throw new ConfigError(`${settingNames.config}: backends[${i}].auth.keySetting names app setting ${setting}, which is not set`);
    }
    rejectUnresolvedReference(setting, key);
    keys.set(backend.name, key);
  });
  return keys;
}

// App Service replaces `@Microsoft.KeyVault(...)` before the process starts; a value still in that form
// means the reference failed (identity or network), and sending it as a key would only yield 401s.
function rejectUnresolvedReference(setting: string, value: string): void {
  if (/^@microsoft\.keyvault\s*\(/i.test(value)) {
    throw new ConfigError(`${setting}: is an unresolved Key Vault reference (check the app's identity and Key Vault access)`);
  }
}

function readBoolean(env: Env, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw new ConfigError(`${name}: must be true or false`);
}

function readDuration(env: Env, name: string, fallbackMs: number): number {
  const value = env[name]?.trim();
  if (!value) return fallbackMs;
  const ms = durationToMs(value);
  if (ms === undefined || ms < 100) throw new ConfigError(`${name}: must be an ISO 8601 duration of at least PT0.1S`);
  return ms;
}
