import { describe, expect, it } from "vitest";
import { ConfigError, parseRouterConfig } from "./config";

const backend = { name: "eastus", url: "https://aoai-eastus.openai.azure.com" };

function errorOf(input: unknown): string {
  try {
    parseRouterConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseRouterConfig", () => {
  it("fills the documented defaults", () => {
    const config = parseRouterConfig({ backends: [backend, { ...backend, name: "westus" }] });
    expect(config.backends[0]).toEqual({
      name: "eastus",
      origin: "https://aoai-eastus.openai.azure.com",
      basePath: "",
      priority: 1,
      weight: 1,
      auth: { type: "managedIdentity", clientId: undefined },
    });
    expect(config.circuitBreaker).toEqual({
      failureCount: 1,
      intervalMs: 60_000,
      statusCodeRanges: [
        { min: 429, max: 429 },
        { min: 500, max: 599 },
      ],
      tripDurationMs: 60_000,
      acceptRetryAfter: true,
      maxTripDurationMs: 300_000,
    });
    expect(config.retryCount).toBe(1);
    expect(config.attemptTimeoutMs).toBe(120_000);
    expect(config.maxRequestBytes).toBe(32 * 1024 * 1024);
  });

  it("accepts the contract's example", () => {
    const config = parseRouterConfig({
      backends: [
        { name: "eastus-ptu", url: "https://aoai-eastus.openai.azure.com", priority: 1, weight: 1, auth: { type: "managedIdentity" } },
        {
          name: "westus",
          url: "https://aoai-westus.openai.azure.com",
          priority: 2,
          weight: 3,
          auth: { type: "apiKey", keySetting: "AOAI_WESTUS_KEY" },
        },
        {
          name: "swedencentral",
          url: "https://aoai-sweden.openai.azure.com",
          priority: 2,
          weight: 1,
          auth: { type: "managedIdentity", clientId: "abc" },
        },
      ],
      circuitBreaker: {
        failureCondition: {
          count: 1,
          interval: "PT1M",
          statusCodeRanges: [
            { min: 429, max: 429 },
            { min: 500, max: 599 },
          ],
        },
        tripDuration: "PT1M",
        acceptRetryAfter: true,
        maxTripDuration: "PT5M",
      },
      retry: { count: 2 },
      attemptTimeout: "PT120S",
      maxRequestBytes: 33554432,
    });
    expect(config.retryCount).toBe(2);
    expect(config.backends[2]?.auth).toEqual({ type: "managedIdentity", clientId: "abc" });
  });

  it("keeps a base path from the URL", () => {
    expect(parseRouterConfig({ backends: [{ ...backend, url: "http://127.0.0.1:8080/proxy/" }] }).backends[0]).toMatchObject({
      origin: "http://127.0.0.1:8080",
      basePath: "/proxy",
    });
  });

  it.each([
    [{ backends: [{ ...backend, url: "aoai-eastus" }] }, "ROUTER_CONFIG: backends[0].url must be an absolute http(s) URL"],
    [{ backends: [{ ...backend, url: "ftp://x" }] }, "ROUTER_CONFIG: backends[0].url must be an absolute http(s) URL"],
    [{ backends: [backend, { ...backend, name: "b", priority: 1.5 }] }, "ROUTER_CONFIG: backends[1].priority must be an integer"],
    [{ backends: [backend, { ...backend, name: "b", priority: "1" }] }, "ROUTER_CONFIG: backends[1].priority must be an integer"],
    [{ backends: [{ ...backend, weight: 0 }] }, "ROUTER_CONFIG: backends[0].weight must be a positive integer"],
    [
      { backends: [{ ...backend, name: "has space" }] },
      "ROUTER_CONFIG: backends[0].name must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')",
    ],
    [{ backends: [backend, backend] }, "ROUTER_CONFIG: backends[1].name must be unique"],
    [{ backends: [{ url: backend.url }] }, "ROUTER_CONFIG: backends[0].name is required"],
    [{ backends: [] }, "ROUTER_CONFIG: backends must list at least one backend"],
    [{}, "ROUTER_CONFIG: backends is required"],
    [
      { backends: [{ ...backend, auth: { type: "certificate" } }] },
      'ROUTER_CONFIG: backends[0].auth.type must be "managedIdentity", "apiKey" or "none"',
    ],
    [{ backends: [{ ...backend, auth: { type: "apiKey" } }] }, "ROUTER_CONFIG: backends[0].auth.keySetting is required"],
    [{ backends: [{ ...backend, prority: 1 }] }, 'ROUTER_CONFIG: backends[0] has unknown field "prority"'],
    [
      { backends: [backend], circuitBreaker: { tripDuration: "60s" } },
      "ROUTER_CONFIG: circuitBreaker.tripDuration must be an ISO 8601 duration such as PT30S",
    ],
    [
      { backends: [backend], circuitBreaker: { maxTripDuration: "P1M" } },
      "ROUTER_CONFIG: circuitBreaker.maxTripDuration must be an ISO 8601 duration such as PT30S",
    ],
    [
      { backends: [backend], circuitBreaker: { acceptRetryAfter: "yes" } },
      "ROUTER_CONFIG: circuitBreaker.acceptRetryAfter must be true or false",
    ],
    [
      { backends: [backend], circuitBreaker: { failureCondition: { count: 0 } } },
      "ROUTER_CONFIG: circuitBreaker.failureCondition.count must be a positive integer",
    ],
    [
      { backends: [backend], circuitBreaker: { failureCondition: { interval: 60 } } },
      "ROUTER_CONFIG: circuitBreaker.failureCondition.interval must be an ISO 8601 duration such as PT30S",
    ],
    [
      { backends: [backend], circuitBreaker: { failureCondition: { statusCodeRanges: [{ min: 500, max: 429 }] } } },
      "ROUTER_CONFIG: circuitBreaker.failureCondition.statusCodeRanges[0] must have 100 <= min <= max <= 599",
    ],
    [{ backends: [backend], retry: { count: -1 } }, "ROUTER_CONFIG: retry.count must be a non-negative integer"],
    [{ backends: [backend], attemptTimeout: "PT0S" }, "ROUTER_CONFIG: attemptTimeout must be longer than zero"],
    [{ backends: [backend], maxRequestBytes: 0 }, "ROUTER_CONFIG: maxRequestBytes must be a positive integer"],
    // Settings that would silently switch protection off.
    [
      { backends: [backend], circuitBreaker: { tripDuration: "PT0S" } },
      "ROUTER_CONFIG: circuitBreaker.tripDuration must be longer than zero",
    ],
    [
      { backends: [backend], circuitBreaker: { maxTripDuration: "PT0S" } },
      "ROUTER_CONFIG: circuitBreaker.maxTripDuration must be longer than zero",
    ],
    [
      { backends: [backend], circuitBreaker: { failureCondition: { interval: "PT0S" } } },
      "ROUTER_CONFIG: circuitBreaker.failureCondition.interval must be longer than zero",
    ],
    [
      { backends: [backend], circuitBreaker: { failureCondition: { statusCodeRanges: [{ min: 100, max: 599 }] } } },
      "ROUTER_CONFIG: circuitBreaker.failureCondition.statusCodeRanges[0] must not cover 2xx statuses (a success is never a failure)",
    ],
    [
      { backends: [{ ...backend, url: "https://user:secret@aoai.example" }] },
      "ROUTER_CONFIG: backends[0].url must not carry a user name or password (use auth)",
    ],
    [
      { backends: [backend, { ...backend, name: "b" }], retry: { count: 2 } },
      "ROUTER_CONFIG: retry.count must be at most 1 (backends − 1: each backend is tried at most once per call)",
    ],
    [
      { backends: [backend], maxRequestBytes: 200 * 1024 * 1024 },
      "ROUTER_CONFIG: maxRequestBytes must be at most 104857600 (the Functions host refuses larger bodies)",
    ],
    [
      { backends: [{ ...backend, name: ".." }] },
      "ROUTER_CONFIG: backends[0].name must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')",
    ],
    // Deployments.
    [
      { backends: [{ ...backend, deployments: { "gpt-4o": { nmae: "x" } } }] },
      'ROUTER_CONFIG: backends[0].deployments.gpt-4o has unknown field "nmae"',
    ],
    [
      { backends: [{ ...backend, deployments: { "gpt 4o": "x" } }] },
      "ROUTER_CONFIG: backends[0].deployments.gpt 4o is not a deployment name: must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')",
    ],
    [
      { backends: [{ ...backend, deployments: { "gpt-4o": "../admin" } }] },
      "ROUTER_CONFIG: backends[0].deployments.gpt-4o must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')",
    ],
    [
      { backends: [{ ...backend, deployments: { "gpt-4o": { weight: 0 } } }] },
      "ROUTER_CONFIG: backends[0].deployments.gpt-4o.weight must be a positive integer",
    ],
    [
      { backends: [{ ...backend, deployments: {} }] },
      "ROUTER_CONFIG: backends[0].deployments must list at least one deployment (or be left out)",
    ],
    [
      { backends: [{ ...backend, deployments: ["gpt-4o"] }] },
      `ROUTER_CONFIG: backends[0].deployments must be an object of { "<caller's name>": <name at this backend> }`,
    ],
  ])("names the bad field: %j", (input, message) => {
    expect(errorOf(input)).toBe(message);
  });

  it("maps each caller's deployment name to the name, priority and weight at the backend", () => {
    const config = parseRouterConfig({
      backends: [
        {
          ...backend,
          priority: 2,
          weight: 3,
          deployments: { "gpt-4o": "gpt-4o-ptu", embeddings: { priority: 1 }, o3: { name: "o3-mini", weight: 5 } },
        },
        { ...backend, name: "open" },
      ],
    });
    expect([...(config.backends[0]?.deployments ?? [])]).toEqual([
      ["gpt-4o", { name: "gpt-4o-ptu", priority: 2, weight: 3 }],
      ["embeddings", { name: "embeddings", priority: 1, weight: 3 }],
      ["o3", { name: "o3-mini", priority: 2, weight: 5 }],
    ]);
    expect(config.backends[1]?.deployments).toBeUndefined();
  });

  it("keeps caller names that are built-in object members, such as __proto__ and constructor", () => {
    const config = parseRouterConfig(
      JSON.parse('{"backends":[{"name":"constructor","url":"https://a.example","deployments":{"__proto__":"x","toString":"y"}}]}'),
    );
    expect([...(config.backends[0]?.deployments?.keys() ?? [])]).toEqual(["__proto__", "toString"]);
  });
});
