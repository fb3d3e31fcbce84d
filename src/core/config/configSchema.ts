// The schema of `ROUTER_CONFIG`: every field, its default and its rule, read entry by entry where
// names from the configuration become keys. config.ts parses with it and compiles the result.

import { z } from "zod";
import { type CapacityConfig, hostMaxRequestBytes } from "./configTypes";
import { durationToMs } from "./duration";

const isHttpUrl = (text: string): boolean => {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.search === "" && url.hash === "";
  } catch {
    return false;
  }
};

// Credentials in a URL would be dropped silently by the HTTP client; refuse them instead.
const hasUserInfo = (text: string): boolean => {
  try {
    const url = new URL(text);
    return url.username !== "" || url.password !== "";
  } catch {
    return false;
  }
};

/** Names of backends, deployments and clients: what Azure allows in a deployment name, never a dot segment. */
export const namePattern = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/;
const nameRule = "must be 1–64 letters, digits, '.', '_' or '-' (not '.' or '..')";

const required = (what: string) => (issue: { input: unknown }) => (issue.input === undefined ? "is required" : `must be ${what}`);

const duration = z.string({ error: required("an ISO 8601 duration such as PT30S") }).transform((text, ctx) => {
  const ms = durationToMs(text);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 duration such as PT30S" });
    return z.NEVER;
  }
  return ms;
});

const integer = (min: number, what: string) =>
  z
    .number({ error: required(what) })
    .int({ error: `must be ${what}` })
    .min(min, { error: `must be ${what}` });

const authSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("managedIdentity"), clientId: z.string().min(1).optional() }),
    z.strictObject({
      type: z.literal("apiKey"),
      keySetting: z.string({ error: required("the name of an app setting") }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        error: "must be the name of an app setting",
      }),
    }),
    z.strictObject({ type: z.literal("none") }),
  ],
  { error: 'must be "managedIdentity", "apiKey" or "none"' },
);

const name = (what: string) => z.string({ error: required(what) }).regex(namePattern, { error: nameRule });

const capacitySchema = z.strictObject({
  tokensPerMinute: integer(1, "a positive integer").optional(),
  waitUpTo: duration.optional(),
});

type RawCapacity = z.infer<typeof capacitySchema>;

export const capacityOf = (raw: RawCapacity | undefined): CapacityConfig | undefined =>
  raw === undefined ? undefined : { tokensPerMinute: raw.tokensPerMinute, waitUpToMs: raw.waitUpTo };

const deploymentSchema = z.union(
  [
    name("a deployment name"),
    z.strictObject({
      name: name("a deployment name").optional(),
      priority: integer(0, "an integer").optional(),
      weight: integer(1, "a positive integer").optional(),
      capacity: capacitySchema.optional(),
    }),
  ],
  { error: 'must be the deployment\'s name at this backend, or { "name", "priority", "weight", "capacity" }' },
);

export type RawDeployment = z.infer<typeof deploymentSchema>;

// Read entry by entry into a Map, not through an object schema: a caller's name such as
// "__proto__" would be lost (or worse) on its way through a plain object.
const deploymentsSchema = z.unknown().transform((raw, ctx): Map<string, RawDeployment> => {
  const out = new Map<string, RawDeployment>();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    ctx.addIssue({ code: "custom", message: 'must be an object of { "<caller\'s name>": <name at this backend> }' });
    return out;
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) ctx.addIssue({ code: "custom", message: "must list at least one deployment (or be left out)" });
  for (const [callerName, value] of entries) {
    if (!namePattern.test(callerName)) {
      ctx.addIssue({ code: "custom", path: [callerName], message: `is not a deployment name: ${nameRule}` });
      continue;
    }
    const parsed = deploymentSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [callerName, ...issue.path] } as z.core.$ZodRawIssue);
      continue;
    }
    out.set(callerName, parsed.data);
  }
  return out;
});

const backendSchema = z.strictObject({
  name: name("a name"),
  url: z
    .string({ error: required("an absolute http(s) URL") })
    .refine(isHttpUrl, { error: "must be an absolute http(s) URL" })
    .refine((url) => !hasUserInfo(url), { error: "must not carry a user name or password (use auth)" }),
  priority: integer(0, "an integer").default(1),
  weight: integer(1, "a positive integer").default(1),
  auth: authSchema.default({ type: "managedIdentity" }),
  deployments: deploymentsSchema.optional(),
  capacity: capacitySchema.optional(),
});

const settingName = z.string({ error: required("the name of an app setting") }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "must be the name of an app setting",
});

const clientSchema = z.strictObject({
  name: name("a name"),
  keySetting: settingName,
  deployments: z.array(name("a deployment name"), { error: "must be an array of deployment names" }).optional(),
  limits: z
    .strictObject({
      tokensPerMinute: integer(1, "a positive integer").optional(),
      requestsPerMinute: integer(1, "a positive integer").optional(),
    })
    .optional(),
});

const cacheSchema = z.strictObject({
  deployments: z
    .array(name("a deployment name"), { error: required("an array of deployment names") })
    .min(1, { error: "must list at least one deployment (or leave cache out)" }),
  ttl: duration.prefault("PT1H"),
  maxBytes: integer(1, "a positive integer").default(64 * 1024 * 1024),
  shareAcrossClients: z.boolean({ error: "must be true or false" }).default(false),
});

const rangeSchema = z
  .strictObject({ min: integer(100, "an HTTP status code"), max: integer(100, "an HTTP status code") })
  .refine((r) => r.min <= r.max && r.max <= 599, { error: "must have 100 <= min <= max <= 599" })
  // A success counted as a failure would trip every backend on its first answer.
  .refine((r) => r.max < 200 || r.min >= 300, { error: "must not cover 2xx statuses (a success is never a failure)" });

const circuitBreakerSchema = z.strictObject({
  failureCondition: z
    .strictObject({
      count: integer(1, "a positive integer").default(1),
      interval: duration.prefault("PT1M"),
      statusCodeRanges: z
        .array(rangeSchema, { error: "must be an array of {min,max}" })
        .min(1, { error: "must not be empty" })
        .default([
          { min: 429, max: 429 },
          { min: 500, max: 599 },
        ]),
    })
    .prefault({}),
  tripDuration: duration.prefault("PT1M"),
  acceptRetryAfter: z.boolean({ error: "must be true or false" }).default(true),
  maxTripDuration: duration.prefault("PT5M"),
});

export const configSchema = z
  .strictObject({
    backends: z.array(backendSchema, { error: required("an array of backends") }).min(1, { error: "must list at least one backend" }),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    retry: z.strictObject({ count: integer(0, "a non-negative integer").optional() }).optional(),
    attemptTimeout: duration.prefault("PT120S"),
    maxRequestBytes: integer(1, "a positive integer").default(32 * 1024 * 1024),
    clients: z.array(clientSchema, { error: "must be an array of clients" }).optional(),
    cache: cacheSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.backends.forEach((backend, i) => {
      const key = backend.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["backends", i, "name"], message: "must be unique" });
      seen.add(key);
    });
    const clientNames = new Set<string>();
    config.clients?.forEach((client, i) => {
      const key = client.name.toLowerCase();
      if (clientNames.has(key)) ctx.addIssue({ code: "custom", path: ["clients", i, "name"], message: "must be unique" });
      clientNames.add(key);
    });
    if (config.cache && config.cache.ttl <= 0)
      ctx.addIssue({ code: "custom", path: ["cache", "ttl"], message: "must be longer than zero" });
    if (config.attemptTimeout <= 0) ctx.addIssue({ code: "custom", path: ["attemptTimeout"], message: "must be longer than zero" });
    // A zero duration means the breaker never opens (or never counts): protection off without a word.
    const cb = config.circuitBreaker;
    const positive: [PropertyKey[], number][] = [
      [["circuitBreaker", "failureCondition", "interval"], cb.failureCondition.interval],
      [["circuitBreaker", "tripDuration"], cb.tripDuration],
      [["circuitBreaker", "maxTripDuration"], cb.maxTripDuration],
    ];
    for (const [path, ms] of positive) if (ms <= 0) ctx.addIssue({ code: "custom", path, message: "must be longer than zero" });
    const retries = config.retry?.count;
    if (retries !== undefined && retries > config.backends.length - 1) {
      ctx.addIssue({
        code: "custom",
        path: ["retry", "count"],
        message: `must be at most ${config.backends.length - 1} (backends − 1: each backend is tried at most once per call)`,
      });
    }
    if (config.maxRequestBytes > hostMaxRequestBytes) {
      ctx.addIssue({
        code: "custom",
        path: ["maxRequestBytes"],
        message: `must be at most ${hostMaxRequestBytes} (the Functions host refuses larger bodies)`,
      });
    }
  });
