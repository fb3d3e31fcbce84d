// The pool configuration as the router uses it, once validated (config.ts turns ROUTER_CONFIG into
// this): backends, their deployments and credentials, breakers, retries, clients. Names follow
// Azure API Management's backend and circuit-breaker resources.

/** A start-up failure: names the setting and the field, carries no secret. */
export class ConfigError extends Error {
  readonly code = "RouterMisconfigured";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The largest request body a host accepts: the Functions host refuses bodies over 100 MB by default. */
export const hostMaxRequestBytes = 100 * 1024 * 1024;

/** How the router authenticates to one backend. */
export type BackendAuth =
  | { type: "managedIdentity"; clientId: string | undefined }
  | { type: "apiKey"; keySetting: string }
  | { type: "none" };

/** What a deployment is sized for (`capacity`): a starting estimate the router refines from its answers. */
export interface CapacityConfig {
  /** The deployment's published throughput (a PTU's tokens per minute). */
  tokensPerMinute: number | undefined;
  /** How long a call may wait for the deployment to have room before it is sent on. Default: not at all. */
  waitUpToMs: number | undefined;
}

/** One deployment a backend serves: the name callers use, mapped to the name at this backend. */
export interface DeploymentConfig {
  /** The deployment's name at this backend (defaults to the caller's name). */
  name: string;
  /** Defaults to the backend's priority. */
  priority: number;
  /** Defaults to the backend's weight. */
  weight: number;
  /** Defaults to the backend's `capacity`. */
  capacity?: CapacityConfig | undefined;
}

export interface BackendConfig {
  /** Unique name; appears in `x-served-by`, logs and `/status`, never in error bodies. */
  name: string;
  /** Origin of the backend, e.g. `https://aoai-eastus.openai.azure.com`. */
  origin: string;
  /** Path prefix from the configured URL (usually empty), prepended to every forwarded path. */
  basePath: string;
  /** Lower is tried first. Default 1. */
  priority: number;
  /** Share of traffic within its priority group. Default 1. */
  weight: number;
  auth: BackendAuth;
  /** A default for each of its deployments (`capacity`). */
  capacity?: CapacityConfig | undefined;
  /**
   * Caller's deployment name -> this backend's deployment. `undefined`: the backend serves every
   * name unchanged (a pool of identical resources).
   */
  deployments: ReadonlyMap<string, DeploymentConfig> | undefined;
}

export interface StatusCodeRange {
  min: number;
  max: number;
}

export interface CircuitBreakerConfig {
  /** Failures within `intervalMs` that trip the breaker. Default 1. */
  failureCount: number;
  /** Window for counting failures. Default 1 minute. */
  intervalMs: number;
  /** Response statuses that count as failures. Default 429 and 500–599. */
  statusCodeRanges: StatusCodeRange[];
  /** How long a trip lasts when the backend gives no usable Retry-After. Default 1 minute. */
  tripDurationMs: number;
  /** Honour `Retry-After` / `retry-after-ms` for the trip length. Default true. */
  acceptRetryAfter: boolean;
  /** Upper bound of any trip, so a daily-quota `Retry-After: 86400` does not bench a backend for a day. Default 5 minutes. */
  maxTripDurationMs: number;
}

/** Per-minute budgets of one client, for the whole router (every instance in every region). */
export interface ClientLimits {
  tokensPerMinute: number | undefined;
  requestsPerMinute: number | undefined;
}

/** One application calling the router with its own keys (`clients[]`). */
export interface ClientConfig {
  name: string;
  /** App setting holding the client's keys, comma-separated. */
  keySetting: string;
  /** Deployment names (the caller's) it may call; `undefined`: every one. */
  deployments: ReadonlySet<string> | undefined;
  /** `undefined`: no limits. */
  limits: ClientLimits | undefined;
}

/** Answers that may be reused (`cache`): see core/cache. */
export interface CacheConfig {
  /** The caller's deployment names whose answers may be reused. */
  deployments: ReadonlySet<string>;
  /** How long an answer is reused. Default 1 hour. */
  ttlMs: number;
  /** Answer bytes one instance keeps in memory. Default 64 MiB. */
  maxBytes: number;
  /** Reuse one client's answers for another. Default false: a client only gets answers to its own calls. */
  shareAcrossClients: boolean;
}

export interface RouterConfig {
  backends: BackendConfig[];
  /** Empty when the configuration names none: ROUTER_CLIENT_KEYS is then the only client. */
  clients: ClientConfig[];
  circuitBreaker: CircuitBreakerConfig;
  /** Extra backends tried for one call. Default: number of backends − 1. */
  retryCount: number;
  /** Time to wait for a backend's response headers before failing over. Default 120 s. */
  attemptTimeoutMs: number;
  /** Larger request bodies get 413. Default 32 MiB. */
  maxRequestBytes: number;
  /** `undefined`: nothing is cached. */
  cache: CacheConfig | undefined;
}
