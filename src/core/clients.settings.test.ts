// Clients in ROUTER_CONFIG and their keys in app settings: what starts, and the one clear message when it does not.

import { describe, expect, it } from "vitest";
import { readSettings } from "./settings";

const backends = [{ name: "a", url: "https://a.example", auth: { type: "none" } }];
const env = (clients: unknown, extra: Record<string, string> = {}) => ({
  ROUTER_CONFIG: JSON.stringify({ backends, clients }),
  ...extra,
});
const noFile = (): string => {
  throw new Error("no file");
};
const errorOf = (e: Record<string, string>): string => {
  try {
    readSettings(e, noFile);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
};

describe("clients in settings", () => {
  it("reads each client's keys (comma-separated, for rotation); ROUTER_CLIENT_KEYS becomes optional, and is the default client when set", () => {
    const clients = [
      { name: "chat-app", keySetting: "CHAT_KEYS", deployments: ["gpt-4o"], limits: { tokensPerMinute: 1000, requestsPerMinute: 10 } },
      { name: "batch", keySetting: "BATCH_KEYS" },
    ];
    const settings = readSettings(env(clients, { CHAT_KEYS: "old, new", BATCH_KEYS: "b1" }), noFile);
    expect(settings.clients.map((c) => [c.client.name, c.keys])).toEqual([
      ["chat-app", ["old", "new"]],
      ["batch", ["b1"]],
    ]);
    const chat = settings.clients[0]?.client;
    expect([...(chat?.deployments ?? [])]).toEqual(["gpt-4o"]);
    expect(chat?.limits).toEqual({ tokensPerMinute: 1000, requestsPerMinute: 10 });
    expect(chat?.seesAllClients).toBe(false);
    const withOps = readSettings(env(clients, { CHAT_KEYS: "c", BATCH_KEYS: "b", ROUTER_CLIENT_KEYS: "ops" }), noFile);
    expect(withOps.clients[0]).toMatchObject({ client: { name: "default", seesAllClients: true, limits: undefined }, keys: ["ops"] });
  });

  it("stops start-up on a key listed for two clients, naming both clients and never the key", () => {
    const clients = [
      { name: "chat-app", keySetting: "CHAT_KEYS" },
      { name: "batch", keySetting: "BATCH_KEYS" },
    ];
    const message = errorOf(env(clients, { CHAT_KEYS: "a, shared-secret-key", BATCH_KEYS: "shared-secret-key" }));
    expect(message).toBe('ROUTER_CONFIG: clients "chat-app" and "batch" share a key; each key must belong to one client');
    expect(errorOf(env([{ name: "batch", keySetting: "BATCH_KEYS" }], { BATCH_KEYS: "ops", ROUTER_CLIENT_KEYS: "ops" }))).toContain(
      'clients "default" and "batch" share a key',
    );
  });

  it("names the field for an unset key setting, an unresolved Key Vault reference, bad limits, duplicate names", () => {
    expect(errorOf(env([{ name: "x", keySetting: "X_KEYS" }]))).toBe(
      "ROUTER_CONFIG: clients[0].keySetting names app setting X_KEYS, which is not set",
    );
    expect(errorOf(env([{ name: "x", keySetting: "X_KEYS" }], { X_KEYS: "@Microsoft.KeyVault(SecretUri=https://v/secrets/k)" }))).toContain(
      "X_KEYS: is an unresolved Key Vault reference",
    );
    expect(errorOf(env([{ name: "x", keySetting: "X_KEYS", limits: { requestsPerMinute: 0 } }], { X_KEYS: "k" }))).toBe(
      "ROUTER_CONFIG: clients[0].limits.requestsPerMinute must be a positive integer",
    );
    expect(errorOf(env([{ name: "x", keySetting: "X_KEYS", limits: { tokensPerHour: 5 } }], { X_KEYS: "k" }))).toBe(
      'ROUTER_CONFIG: clients[0].limits has unknown field "tokensPerHour"',
    );
    expect(
      errorOf(
        env(
          [
            { name: "x", keySetting: "X_KEYS" },
            { name: "X", keySetting: "Y_KEYS" },
          ],
          { X_KEYS: "k", Y_KEYS: "j" },
        ),
      ),
    ).toBe("ROUTER_CONFIG: clients[1].name must be unique");
    expect(errorOf(env([{ name: "x", keySetting: "X_KEYS", deployments: ["../up"] }], { X_KEYS: "k" }))).toContain(
      "clients[0].deployments[0]",
    );
    expect(errorOf(env([{ name: "default", keySetting: "X_KEYS" }], { X_KEYS: "k", ROUTER_CLIENT_KEYS: "ops" }))).toContain(
      'clients[0].name: "default" is the client of ROUTER_CLIENT_KEYS',
    );
  });

  it("still requires ROUTER_CLIENT_KEYS when no clients are configured (part 1)", () => {
    expect(errorOf({ ROUTER_CONFIG: JSON.stringify({ backends }) })).toContain("ROUTER_CLIENT_KEYS: is required");
  });
});
