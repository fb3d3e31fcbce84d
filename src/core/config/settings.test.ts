import { describe, expect, it } from "vitest";
import { operatorsClient } from "../clients/clientAuth";
import { readSettings } from "./settings";

const config = JSON.stringify({ backends: [{ name: "a", url: "https://a.example", auth: { type: "apiKey", keySetting: "A_KEY" } }] });
const base = { ROUTER_CONFIG: config, ROUTER_CLIENT_KEYS: "k1, k2", A_KEY: "secret-a" };
const noFile = (): string => {
  throw Object.assign(new Error("missing"), { code: "ENOENT" });
};

function errorOf(env: Record<string, string>, readFile = noFile): string {
  try {
    readSettings(env, readFile);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("readSettings", () => {
  it("reads inline JSON, client keys, backend keys and defaults", () => {
    const settings = readSettings(base, noFile);
    expect(settings.clients).toEqual([{ client: operatorsClient, keys: ["k1", "k2"] }]);
    expect(settings.backendKeys.get("a")).toBe("secret-a");
    expect(settings.state).toEqual({ kind: "memory" });
    expect(settings.stateTable).toBe("routerstate");
    expect(settings.stateRefreshMs).toBe(1000);
    expect(settings.frontDoorId).toBeUndefined();
  });

  it("reads ROUTER_CONFIG from a file path", () => {
    const settings = readSettings({ ...base, ROUTER_CONFIG: "/etc/router.json" }, (path) => (path === "/etc/router.json" ? config : ""));
    expect(settings.config.backends[0]?.name).toBe("a");
  });

  it("refuses to start without client keys unless anonymous access is on purpose", () => {
    expect(errorOf({ ...base, ROUTER_CLIENT_KEYS: "" })).toMatch(/^ROUTER_CLIENT_KEYS: is required/);
    expect(readSettings({ ...base, ROUTER_CLIENT_KEYS: "", ROUTER_ALLOW_ANONYMOUS: "true" }, noFile).allowAnonymous).toBe(true);
    expect(errorOf({ ...base, ROUTER_ALLOW_ANONYMOUS: "yes" })).toBe("ROUTER_ALLOW_ANONYMOUS: must be true or false");
  });

  it("names the setting and field for each bad value", () => {
    expect(errorOf({ ...base, ROUTER_CONFIG: "" })).toMatch(/^ROUTER_CONFIG: is required/);
    expect(errorOf({ ...base, ROUTER_CONFIG: "{not json" })).toMatch(/^ROUTER_CONFIG: is not valid JSON/);
    expect(errorOf({ ...base, ROUTER_CONFIG: "/nope.json" })).toBe("ROUTER_CONFIG: cannot read file /nope.json: ENOENT");
    // A relative path is named as the host resolved it, and from where.
    const resolved = () => {
      throw Object.assign(new Error("missing"), { code: "ENOENT", resolvedPath: "/srv/app/router.config.json", baseDir: "/srv/app" });
    };
    expect(errorOf({ ...base, ROUTER_CONFIG: "router.config.json" }, resolved)).toBe(
      "ROUTER_CONFIG: cannot read file router.config.json (resolved to /srv/app/router.config.json, relative to /srv/app): ENOENT",
    );
    // A syntax error in a file says where, as an editor counts: line and column.
    const broken = () => '{\n  "backends": [],\n  }';
    expect(errorOf({ ...base, ROUTER_CONFIG: "router.json" }, broken)).toBe(
      "ROUTER_CONFIG: is not valid JSON (file router.json): Expected double-quoted property name at line 3, column 3",
    );
    expect(errorOf({ ...base, A_KEY: "" })).toBe("ROUTER_CONFIG: backends[0].auth.keySetting names app setting A_KEY, which is not set");
    expect(errorOf({ ...base, A_KEY: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/a)" })).toMatch(
      /^A_KEY: is an unresolved Key Vault reference/,
    );
    expect(errorOf({ ...base, ROUTER_STATE: "redis://x" })).toMatch(/^ROUTER_STATE: must be "memory"/);
    expect(errorOf({ ...base, ROUTER_STATE_TABLE: "a-b" })).toMatch(/^ROUTER_STATE_TABLE: must be/);
    expect(errorOf({ ...base, ROUTER_STATE_REFRESH: "1s" })).toMatch(/^ROUTER_STATE_REFRESH: must be/);
  });

  it("refuses an unresolved Key Vault reference in any setting, in any letter case", () => {
    const reference = "@microsoft.keyvault(SecretUri=https://kv.vault.azure.net/secrets/a)";
    expect(errorOf({ ...base, A_KEY: reference })).toMatch(/^A_KEY: is an unresolved Key Vault reference/);
    expect(errorOf({ ...base, ROUTER_CLIENT_KEYS: `k1,${reference.toUpperCase()}` })).toMatch(/^ROUTER_CLIENT_KEYS: is an unresolved/);
    expect(errorOf({ ...base, ROUTER_FRONT_DOOR_ID: reference })).toMatch(/^ROUTER_FRONT_DOOR_ID: is an unresolved/);
    expect(errorOf({ ...base, ROUTER_CONFIG: ` ${reference}` })).toMatch(/^ROUTER_CONFIG: is an unresolved/);
    expect(errorOf({ ...base, ROUTER_STATE: "@Microsoft.KeyVault(VaultName=kv;SecretName=state)" })).toMatch(
      /^ROUTER_STATE: is an unresolved/,
    );
  });

  it("says what ROUTER_CONFIG holds when it is JSON but not an object, instead of looking for a file", () => {
    expect(errorOf({ ...base, ROUTER_CONFIG: "[]" })).toBe('ROUTER_CONFIG: must be a JSON object with "backends", got an array');
    expect(errorOf({ ...base, ROUTER_CONFIG: "null" })).toBe('ROUTER_CONFIG: must be a JSON object with "backends", got null');
    expect(errorOf({ ...base, ROUTER_CONFIG: "42" })).toBe('ROUTER_CONFIG: must be a JSON object with "backends", got a number');
    expect(errorOf({ ...base, ROUTER_CONFIG: "/etc/r.json" }, () => "[1]")).toBe(
      'ROUTER_CONFIG: must be a JSON object with "backends" (file /etc/r.json), got an array',
    );
  });

  it("chooses the state store: ROUTER_STATE, else AzureWebJobsStorage (key or identity based), else memory", () => {
    const cs =
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";
    expect(readSettings({ ...base, ROUTER_STATE: cs }, noFile).state).toEqual({
      kind: "connectionString",
      connectionString: cs,
      from: "ROUTER_STATE",
    });
    expect(readSettings({ ...base, ROUTER_STATE: "https://acct.table.core.windows.net/" }, noFile).state).toEqual({
      kind: "tableServiceUrl",
      url: "https://acct.table.core.windows.net",
      clientId: undefined,
      from: "ROUTER_STATE",
    });
    expect(readSettings({ ...base, AzureWebJobsStorage: "UseDevelopmentStorage=true" }, noFile).state).toMatchObject({
      kind: "connectionString",
      from: "AzureWebJobsStorage",
    });
    expect(readSettings({ ...base, AzureWebJobsStorage__accountName: "acct", AzureWebJobsStorage__clientId: "cid" }, noFile).state).toEqual(
      {
        kind: "tableServiceUrl",
        url: "https://acct.table.core.windows.net",
        clientId: "cid",
        from: "AzureWebJobsStorage__accountName",
      },
    );
    expect(readSettings({ ...base, ROUTER_STATE: "memory", AzureWebJobsStorage: "UseDevelopmentStorage=true" }, noFile).state).toEqual({
      kind: "memory",
    });
  });

  it("reads the Front Door id", () => {
    expect(readSettings({ ...base, ROUTER_FRONT_DOOR_ID: " fd-123 " }, noFile).frontDoorId).toBe("fd-123");
  });
});

// Clients in ROUTER_CONFIG and their keys in app settings: what starts, and the one clear message when it does not.
const noneBackends = [{ name: "a", url: "https://a.example", auth: { type: "none" } }];
const withClients = (clients: unknown, extra: Record<string, string> = {}) => ({
  ROUTER_CONFIG: JSON.stringify({ backends: noneBackends, clients }),
  ...extra,
});

describe("clients in settings", () => {
  it("reads each client's keys (comma-separated, for rotation); ROUTER_CLIENT_KEYS becomes optional, and is the default client when set", () => {
    const clients = [
      { name: "chat-app", keySetting: "CHAT_KEYS", deployments: ["gpt-4o"], limits: { tokensPerMinute: 1000, requestsPerMinute: 10 } },
      { name: "batch", keySetting: "BATCH_KEYS" },
    ];
    const settings = readSettings(withClients(clients, { CHAT_KEYS: "old, new", BATCH_KEYS: "b1" }), noFile);
    expect(settings.clients.map((c) => [c.client.name, c.keys])).toEqual([
      ["chat-app", ["old", "new"]],
      ["batch", ["b1"]],
    ]);
    const chat = settings.clients[0]?.client;
    expect([...(chat?.deployments ?? [])]).toEqual(["gpt-4o"]);
    expect(chat?.limits).toEqual({ tokensPerMinute: 1000, requestsPerMinute: 10 });
    expect(chat?.seesAllClients).toBe(false);
    const withOps = readSettings(withClients(clients, { CHAT_KEYS: "c", BATCH_KEYS: "b", ROUTER_CLIENT_KEYS: "ops" }), noFile);
    expect(withOps.clients[0]).toMatchObject({ client: { name: "default", seesAllClients: true, limits: undefined }, keys: ["ops"] });
  });

  it("stops start-up on a key listed for two clients, naming both clients and never the key", () => {
    const clients = [
      { name: "chat-app", keySetting: "CHAT_KEYS" },
      { name: "batch", keySetting: "BATCH_KEYS" },
    ];
    const message = errorOf(withClients(clients, { CHAT_KEYS: "a, shared-secret-key", BATCH_KEYS: "shared-secret-key" }));
    expect(message).toBe('ROUTER_CONFIG: clients "chat-app" and "batch" share a key; each key must belong to one client');
    expect(errorOf(withClients([{ name: "batch", keySetting: "BATCH_KEYS" }], { BATCH_KEYS: "ops", ROUTER_CLIENT_KEYS: "ops" }))).toContain(
      'clients "default" and "batch" share a key',
    );
  });

  it("names the field for an unset key setting, an unresolved Key Vault reference, bad limits, duplicate names", () => {
    expect(errorOf(withClients([{ name: "x", keySetting: "X_KEYS" }]))).toBe(
      "ROUTER_CONFIG: clients[0].keySetting names app setting X_KEYS, which is not set",
    );
    expect(
      errorOf(withClients([{ name: "x", keySetting: "X_KEYS" }], { X_KEYS: "@Microsoft.KeyVault(SecretUri=https://v/secrets/k)" })),
    ).toContain("X_KEYS: is an unresolved Key Vault reference");
    expect(errorOf(withClients([{ name: "x", keySetting: "X_KEYS", limits: { requestsPerMinute: 0 } }], { X_KEYS: "k" }))).toBe(
      "ROUTER_CONFIG: clients[0].limits.requestsPerMinute must be a positive integer",
    );
    expect(errorOf(withClients([{ name: "x", keySetting: "X_KEYS", limits: { tokensPerHour: 5 } }], { X_KEYS: "k" }))).toBe(
      'ROUTER_CONFIG: clients[0].limits has unknown field "tokensPerHour"',
    );
    expect(
      errorOf(
        withClients(
          [
            { name: "x", keySetting: "X_KEYS" },
            { name: "X", keySetting: "Y_KEYS" },
          ],
          { X_KEYS: "k", Y_KEYS: "j" },
        ),
      ),
    ).toBe("ROUTER_CONFIG: clients[1].name must be unique");
    expect(errorOf(withClients([{ name: "x", keySetting: "X_KEYS", deployments: ["../up"] }], { X_KEYS: "k" }))).toContain(
      "clients[0].deployments[0]",
    );
    expect(errorOf(withClients([{ name: "default", keySetting: "X_KEYS" }], { X_KEYS: "k", ROUTER_CLIENT_KEYS: "ops" }))).toContain(
      'clients[0].name: "default" is the client of ROUTER_CLIENT_KEYS',
    );
  });

  it("still requires ROUTER_CLIENT_KEYS when no clients are configured", () => {
    expect(errorOf({ ROUTER_CONFIG: JSON.stringify({ backends: noneBackends }) })).toContain("ROUTER_CLIENT_KEYS: is required");
  });
});
