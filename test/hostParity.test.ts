// One table of contract cases, run against both hosts — the plain Node server over real HTTP and the
// Azure Functions handler with real HttpRequest objects — with identical expectations.

import { afterEach, describe, expect, it } from "vitest";
import { bodyText, callFunction } from "./helpers/functionsHost";
import { chatPath, clientKey, type Harness, startHarness } from "./helpers/harness";

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Answer {
  status: number;
  headers: Headers;
  body: string;
}
type Host = (h: Harness, call: Call) => Promise<Answer>;

const hosts: [string, Host][] = [
  [
    "Node host",
    async (h, call) => {
      const response = await fetch(`${h.url}${call.path}`, { method: call.method, headers: call.headers, body: call.body });
      return { status: response.status, headers: response.headers, body: await response.text() };
    },
  ],
  [
    "Functions handler",
    async (h, call) => {
      const { response, headers } = await callFunction(h.app.router, call);
      return { status: response.status ?? 200, headers, body: await bodyText(response) };
    },
  ],
];

interface Case {
  name: string;
  call: Call;
  arrange?: (h: Harness) => void;
  expect: (answer: Answer, h: Harness) => void;
}

const withKey = { "api-key": clientKey, "content-type": "application/json" };
const chatBody = JSON.stringify({ messages: [{ role: "user", content: "hi" }] });
const errorCode = (a: Answer) => JSON.parse(a.body).error.code;

const cases: Case[] = [
  {
    name: "a chat call is served by the priority-1 backend",
    call: { method: "POST", path: chatPath, headers: withKey, body: chatBody },
    expect: (a) => {
      expect(a.status).toBe(200);
      expect(a.headers.get("x-served-by")).toBe("region-0");
      expect(a.headers.get("x-router-attempts")).toBe("1");
      expect(a.headers.get("x-ms-region")).toBe("region-0");
    },
  },
  {
    name: "path and query reach the backend unchanged",
    call: {
      method: "POST",
      path: "/openai/deployments/my-embedding-dep/embeddings?api-version=2024-10-21&x=a%2Fb",
      headers: withKey,
      body: '{"input":"a"}',
    },
    expect: (a, h) => {
      expect(a.status).toBe(200);
      expect(h.sims[0]?.received.at(-1)?.url).toBe("/openai/deployments/my-embedding-dep/embeddings?api-version=2024-10-21&x=a%2Fb");
    },
  },
  {
    name: "a 429 fails over at once to the next backend",
    arrange: (h) => h.sims[0]?.setFault({ kind: "throttle", retryAfterSeconds: 10 }),
    call: { method: "POST", path: chatPath, headers: withKey, body: chatBody },
    expect: (a) => {
      expect(a.status).toBe(200);
      expect(a.headers.get("x-served-by")).toBe("region-1");
      expect(a.headers.get("x-router-attempts")).toBe("2");
    },
  },
  {
    name: "every backend throttled gives 429 with Retry-After and no backend name",
    arrange: (h) => {
      h.sims[0]?.setFault({ kind: "throttle", retryAfterSeconds: 10 });
      h.sims[1]?.setFault({ kind: "throttle", retryAfterSeconds: 20 });
    },
    call: { method: "POST", path: chatPath, headers: withKey, body: chatBody },
    expect: (a) => {
      expect(a.status).toBe(429);
      expect(a.headers.get("retry-after")).toBe("10");
      expect(errorCode(a)).toBe("TooManyRequests");
      expect(a.body).not.toContain("region-");
    },
  },
  {
    name: "5xx everywhere gives 503 NoBackendAvailable",
    arrange: (h) => {
      h.sims[0]?.setFault({ kind: "error", status: 500 });
      h.sims[1]?.setFault({ kind: "error", status: 502 });
    },
    call: { method: "POST", path: chatPath, headers: withKey, body: chatBody },
    expect: (a) => {
      expect(a.status).toBe(503);
      expect(errorCode(a)).toBe("NoBackendAvailable");
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    },
  },
  {
    name: "a missing key gives 401",
    call: { method: "POST", path: chatPath, body: chatBody },
    expect: (a, h) => {
      expect(a.status).toBe(401);
      expect(errorCode(a)).toBe("Unauthorized");
      expect(h.sims[0]?.requestCount).toBe(0);
    },
  },
  {
    name: "a wrong bearer key gives 401",
    call: { method: "POST", path: chatPath, headers: { authorization: "Bearer nope" }, body: chatBody },
    expect: (a) => expect(a.status).toBe(401),
  },
  {
    name: "the right bearer key is accepted",
    call: { method: "POST", path: chatPath, headers: { authorization: `Bearer ${clientKey}` }, body: chatBody },
    expect: (a) => expect(a.status).toBe(200),
  },
  {
    name: "an unknown route gives 404 NotFound",
    call: { method: "GET", path: "/nothing/here", headers: withKey },
    expect: (a) => {
      expect(a.status).toBe(404);
      expect(errorCode(a)).toBe("NotFound");
    },
  },
  {
    name: "a body over maxRequestBytes gives 413 and reaches no backend",
    call: { method: "POST", path: chatPath, headers: withKey, body: "x".repeat(5000) },
    expect: (a, h) => {
      expect(a.status).toBe(413);
      expect(errorCode(a)).toBe("RequestTooLarge");
      expect(h.sims[0]?.requestCount).toBe(0);
    },
  },
  {
    name: "GET /health is 200 with JSON, without a key",
    call: { method: "GET", path: "/health" },
    expect: (a) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toEqual({ status: "healthy", backends: { available: 2, total: 2 } });
    },
  },
  {
    name: "HEAD /health is 200 with no body",
    call: { method: "HEAD", path: "/health" },
    expect: (a) => {
      expect(a.status).toBe(200);
      expect(a.body).toBe("");
    },
  },
  {
    name: "GET /status needs a key",
    call: { method: "GET", path: "/status" },
    expect: (a) => expect(a.status).toBe(401),
  },
  {
    name: "GET /status with a key lists breakers without URLs or keys",
    call: { method: "GET", path: "/status", headers: withKey },
    expect: (a, h) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body).backends.map((b: { name: string; state: string }) => [b.name, b.state])).toEqual([
        ["region-0", "closed"],
        ["region-1", "closed"],
      ]);
      expect(a.body).not.toContain("127.0.0.1");
      for (const key of h.backendKeys) expect(a.body).not.toContain(key);
    },
  },
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(hosts)("%s", (_, host) => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }], config: { maxRequestBytes: 4096 } });
    c.arrange?.(h);
    c.expect(await host(h, c.call), h);
  });
});
