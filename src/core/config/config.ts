// The pool configuration (`ROUTER_CONFIG`): the one place it is validated (against the schema in
// configSchema.ts) and compiled into what configTypes.ts declares.

import type { z } from "zod";
import { capacityOf, configSchema, type RawDeployment } from "./configSchema";
import {
  type BackendAuth,
  type BackendConfig,
  type CapacityConfig,
  ConfigError,
  type DeploymentConfig,
  type RouterConfig,
} from "./configTypes";

export { namePattern } from "./configSchema";
export {
  type BackendAuth,
  type BackendConfig,
  type CacheConfig,
  type CapacityConfig,
  type CircuitBreakerConfig,
  type ClientConfig,
  type ClientLimits,
  ConfigError,
  type DeploymentConfig,
  hostMaxRequestBytes,
  type RouterConfig,
  type StatusCodeRange,
} from "./configTypes";

/** A validated, defaulted configuration, or a `ConfigError` naming the first bad field. */
export function parseRouterConfig(input: unknown, settingName = "ROUTER_CONFIG"): RouterConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue ? formatPath(issue.path) : "";
    throw new ConfigError(`${settingName}: ${path ? `${path} ` : ""}${describe(issue)}`);
  }
  const raw = result.data;
  const cb = raw.circuitBreaker;
  return {
    backends: raw.backends.map(compileBackend),
    circuitBreaker: {
      failureCount: cb.failureCondition.count,
      intervalMs: cb.failureCondition.interval,
      statusCodeRanges: cb.failureCondition.statusCodeRanges,
      tripDurationMs: cb.tripDuration,
      acceptRetryAfter: cb.acceptRetryAfter,
      maxTripDurationMs: cb.maxTripDuration,
    },
    clients: (raw.clients ?? []).map((c) => ({
      name: c.name,
      keySetting: c.keySetting,
      deployments: c.deployments === undefined ? undefined : new Set(c.deployments),
      limits:
        c.limits === undefined ? undefined : { tokensPerMinute: c.limits.tokensPerMinute, requestsPerMinute: c.limits.requestsPerMinute },
    })),
    retryCount: raw.retry?.count ?? raw.backends.length - 1,
    attemptTimeoutMs: raw.attemptTimeout,
    maxRequestBytes: raw.maxRequestBytes,
    cache:
      raw.cache === undefined
        ? undefined
        : {
            deployments: new Set(raw.cache.deployments),
            ttlMs: raw.cache.ttl,
            maxBytes: raw.cache.maxBytes,
            shareAcrossClients: raw.cache.shareAcrossClients,
          },
  };
}

function compileBackend(b: z.infer<typeof configSchema>["backends"][number]): BackendConfig {
  const url = new URL(b.url);
  const auth: BackendAuth = b.auth.type === "managedIdentity" ? { type: "managedIdentity", clientId: b.auth.clientId } : b.auth;
  return {
    name: b.name,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ""),
    priority: b.priority,
    weight: b.weight,
    auth,
    capacity: capacityOf(b.capacity),
    deployments: b.deployments === undefined ? undefined : compileDeployments(b.deployments, b, capacityOf(b.capacity)),
  };
}

function compileDeployments(
  raw: ReadonlyMap<string, RawDeployment>,
  backend: { priority: number; weight: number },
  capacity: CapacityConfig | undefined,
): Map<string, DeploymentConfig> {
  const { priority, weight } = backend;
  const out = new Map<string, DeploymentConfig>();
  for (const [callerName, value] of raw) {
    out.set(
      callerName,
      typeof value === "string"
        ? { name: value, priority, weight, capacity }
        : {
            name: value.name ?? callerName,
            priority: value.priority ?? priority,
            weight: value.weight ?? weight,
            capacity: capacityOf(value.capacity) ?? capacity,
          },
    );
  }
  return out;
}

function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "is invalid";
  if (issue.code === "unrecognized_keys") return `has unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return issue.message;
}

/** `["backends", 1, "priority"]` → `backends[1].priority`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
