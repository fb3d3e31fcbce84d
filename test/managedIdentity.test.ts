// Managed identity to backends through the real @azure/identity code, against a token endpoint on
// loopback that imitates the App Service / Functions managed-identity endpoint
// (IDENTITY_ENDPOINT + IDENTITY_HEADER).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AttemptFailed } from "../src/core/events";
import { chatPath, type Harness, sleep, startHarness } from "./helpers/harness";

const identityHeader = "identity-header-secret";
const token = "mi-token-for-cognitive-services";
let server: Server;
const endpoint = { calls: 0, lifetimeSeconds: 3600, fail: false, lastQuery: "" };
const savedEnv = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

beforeAll(async () => {
  server = createServer((req, res) => {
    endpoint.calls++;
    endpoint.lastQuery = req.url ?? "";
    if (endpoint.fail || req.headers["x-identity-header"] !== identityHeader) {
      res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "identity unavailable" }));
      return;
    }
    const expiresOn = Math.floor(Date.now() / 1000) + endpoint.lifetimeSeconds;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        access_token: token,
        expires_on: String(expiresOn),
        resource: "https://cognitiveservices.azure.com",
        token_type: "Bearer",
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  process.env.IDENTITY_HEADER = identityHeader;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  process.env.IDENTITY_ENDPOINT = savedEnv.endpoint;
  process.env.IDENTITY_HEADER = savedEnv.header;
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  Object.assign(endpoint, { calls: 0, lifetimeSeconds: 3600, fail: false, lastQuery: "" });
});

describe("managed identity (real @azure/identity, local token endpoint)", () => {
  it("sends Authorization: Bearer <token> and fetches the token once for many calls", async () => {
    h = await startHarness({ regions: [{ auth: { type: "managedIdentity" }, bearerToken: token }] });
    for (let i = 0; i < 20; i++) {
      const response = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
      expect(response.status).toBe(200);
    }
    const received = h.sims[0]?.received.at(-1);
    expect(received?.headers.authorization).toBe(`Bearer ${token}`);
    expect(received?.headers["api-key"]).toBeUndefined();
    expect(endpoint.calls).toBe(1);
    expect(endpoint.lastQuery).toContain("resource=https%3A%2F%2Fcognitiveservices.azure.com");
  });

  it("asks for the user-assigned identity named by auth.clientId", async () => {
    h = await startHarness({
      regions: [{ auth: { type: "managedIdentity", clientId: "11111111-2222-3333-4444-555555555555" }, bearerToken: token }],
    });
    expect((await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
    expect(endpoint.lastQuery).toContain("11111111-2222-3333-4444-555555555555");
  });

  // @azure/identity (MSAL) caches tokens per process and identity: each test below uses an identity of its own.
  it("fetches a new token only near expiry", async () => {
    endpoint.lifetimeSeconds = 4;
    h = await startHarness({ regions: [{ auth: { type: "managedIdentity", clientId: "identity-short-lived" }, bearerToken: token }] });
    for (let i = 0; i < 10; i++) await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(endpoint.calls).toBe(1);
    // Half of a short token's life: the provider refreshes.
    await sleep(2_300);
    for (let i = 0; i < 10; i++) expect((await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
    expect(endpoint.calls).toBe(2);
  });

  it("fails over like a backend failure when the token cannot be had, and says why", async () => {
    endpoint.fail = true;
    const failures: AttemptFailed[] = [];
    h = await startHarness({
      regions: [{ priority: 1, auth: { type: "managedIdentity", clientId: "identity-failing" }, bearerToken: token }, { priority: 2 }],
      events: { attemptFailed: (e) => failures.push(e) },
    });
    const response = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("region-1");
    expect(h.sims[0]?.requestCount).toBe(0);
    expect(failures[0]).toMatchObject({ backend: "region-0", reason: "credentialError" });
    expect(failures[0]?.detail).toMatch(/managed identity token/);
  });
});
