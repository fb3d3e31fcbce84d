// The store comes back: the state table deleted under two running instances (as a store restarted
// empty would lose it) is recreated, and owners and client usage are shared again within 5 s; while
// the service answers 409 TableBeingDeleted (a real delete takes 40 s or more) the router backs off,
// /status says sharing is down, and sharing resumes within 5 s of the table being creatable again.

import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TableClient } from "@azure/data-tables";
import { afterEach, describe, expect, it } from "vitest";
import { chatPath, type Harness, until } from "./helpers/harness";
import { useSharedTable } from "./helpers/sharedTable";

const shared = useSharedTable("comeback");
const teamKey = "team-key";
const messages = [{ role: "user" as const, content: "hi" }];

let proxy: Server | undefined;
afterEach(async () => {
  const closing = new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  // Keep-alive connections from the routers would hold close() open: end them first.
  proxy?.closeAllConnections();
  await closing;
  proxy = undefined;
});

function routerOptions(env: Record<string, string> = {}) {
  return () => ({
    config: { clients: [{ name: "team", keySetting: "TEAM_KEYS", limits: { requestsPerMinute: 1000 } }] },
    env: { ROUTER_STATE_REFRESH: "PT0.5S", TEAM_KEYS: teamKey, ...env },
  });
}

function tableClient(table: string): TableClient {
  return TableClient.fromConnectionString(shared.azurite.connectionString, table, { allowInsecureConnection: true });
}

async function ownerFollowsThrough(a: Harness, b: Harness): Promise<void> {
  const made = await a.v1({ apiKey: teamKey }).responses.create({ model: "gpt-4o", input: "after the loss" });
  await until(
    async () => {
      const before = shared.regions.sims.map((s) => s?.requestCount ?? 0);
      const follow = await b
        .v1({ apiKey: teamKey })
        .responses.retrieve(made.id)
        .catch(() => undefined);
      const after = shared.regions.sims.map((s) => s?.requestCount ?? 0);
      return follow?.id === made.id && after.reduce((n, x, i) => n + x - (before[i] ?? 0), 0) === 1;
    },
    5_000,
    "B finds A's new object in one backend call",
  );
}

describe("the store comes back (two instances on Azurite)", () => {
  it("recreates a deleted table: owners and usage are shared again within 5 s", async () => {
    const [a, b] = await shared.routers([{}, {}], routerOptions());
    const table = shared.env().ROUTER_STATE_TABLE as string;
    await tableClient(table).deleteTable();
    const lostAt = Date.now();
    await ownerFollowsThrough(a as Harness, b as Harness);
    expect((await (a as Harness).post(chatPath, { messages }, { "api-key": teamKey })).status).toBe(200);
    await until(async () => ((await (b as Harness).status()).clients?.team?.requests ?? 0) >= 2, 5_000, "usage shared again");
    expect(Date.now() - lostAt).toBeLessThan(10_000);
    // The table is there again, holding the records written since.
    const rows = [];
    for await (const row of tableClient(table).listEntities()) rows.push(row);
    expect(rows.length).toBeGreaterThan(0);
  });

  it("backs off while the table is being deleted, says sharing is down, and resumes within 5 s of it being creatable", async () => {
    let deleting = false;
    const azurite = new URL(/TableEndpoint=([^;]+)/.exec(shared.azurite.connectionString)?.[1] ?? "");
    let creates = 0;
    proxy = createServer((req, res) => {
      if (deleting) {
        const isCreate = req.method === "POST" && /\/Tables$/.test(req.url ?? "");
        if (isCreate) creates++;
        const code = isCreate ? "TableBeingDeleted" : "TableNotFound";
        res.writeHead(isCreate ? 409 : 404, { "content-type": "application/json;odata=minimalmetadata", "x-ms-error-code": code });
        res.end(JSON.stringify({ "odata.error": { code, message: { lang: "en-US", value: `${code}.` } } }));
        req.resume();
        return;
      }
      const upstream = request(
        { host: azurite.hostname, port: azurite.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy?.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    const connectionString = shared.azurite.connectionString.replace(
      /TableEndpoint=[^;]+/,
      `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
    );
    const [a, b] = (await shared.routers([{}, {}], routerOptions({ ROUTER_STATE: connectionString }))) as [Harness, Harness];
    const table = shared.env().ROUTER_STATE_TABLE as string;
    await tableClient(table).deleteTable();
    deleting = true;
    await until(async () => !(await a.status()).sharedState.connected, 5_000, "A says sharing is down");
    const createsSoFar = creates;
    await new Promise((r) => setTimeout(r, 2_000));
    // Backing off: a few attempts to create in 2 s, not one per call or per tick.
    expect(creates - createsSoFar).toBeLessThanOrEqual(8);
    expect((await a.status()).sharedState.connected).toBe(false);
    deleting = false;
    const creatable = Date.now();
    await until(async () => (await a.status()).sharedState.connected && (await b.status()).sharedState.connected, 5_000, "sharing back");
    expect(Date.now() - creatable).toBeLessThan(5_000);
    await ownerFollowsThrough(a, b);
  });
});
