// Rows in the shared state table that anyone with access could have written: nulls, foreign
// shapes, backend names that are built-in object members, huge numbers, long strings. A router
// instance on Azurite must ignore what fails the schema (logging it once), never bench a backend
// past maxTripDuration counted from the trip's start, and repair the row on its next write.

import { TableClient } from "@azure/data-tables";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ownerPartitionKey, poolKey, TableStateStore } from "../../src/adapters/tableStateStore";
import { usageKey } from "../../src/adapters/tableUsageRecords";
import { decodeTrips } from "../../src/core/breakers/tripCodec";
import { systemClock } from "../../src/core/clock";
import { parseRouterConfig } from "../../src/core/config/config";
import type { Azurite } from "../helpers/azurite";
import { type Harness, type Regions, routerEnv, sleep, startHarness, startRegions, until } from "../helpers/harness";
import { sharedAzurite } from "../helpers/sharedAzurite";

let azurite: Azurite;
let regions: Regions | undefined;
let h: Harness | undefined;
beforeAll(() => {
  azurite = sharedAzurite();
});
afterEach(async () => {
  await h?.close();
  await regions?.close();
  h = undefined;
  regions = undefined;
});

describe("garbage in the shared state row (Azurite)", () => {
  it("drops usage entries that fail the schema (negative, fractional, huge, not numbers) and keeps the sound ones", async () => {
    const table = `advusage${Date.now() % 100000}`;
    const pool = "pool-garbage";
    const bucket = 345_600_200;
    const client = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
    await client.createTable();
    const garbage = [[bucket, -220, 0], [bucket + 1, 1.5, 2], [bucket + 2, 1e15, 0], [bucket + 3, "lots", 1], "x", [bucket + 4, 3, 30]];
    await client.createEntity({ ...usageKey(pool, "app"), buckets: JSON.stringify(garbage) });
    await client.createEntity({ ...usageKey(pool, "other"), buckets: "not json" });
    const store = new TableStateStore({
      location: { kind: "connectionString", connectionString: azurite.connectionString },
      table,
      pool,
      clock: systemClock,
      maxTripMs: 60_000,
    });
    const signal = new AbortController().signal;
    expect(await store.readUsage("app", signal)).toEqual([{ bucket: bucket + 4, requests: 3, tokens: 30 }]);
    expect(await store.readUsage("other", signal)).toEqual([]);
    expect(await store.addUsage("other", [{ bucket, requests: 2, tokens: 7 }], signal)).toEqual([{ bucket, requests: 2, tokens: 7 }]);
    expect(await store.readUsage("other", signal)).toEqual([{ bucket, requests: 2, tokens: 7 }]);
  });

  it("reads an owner record that fails the schema as no record (the router then asks the backends)", async () => {
    const table = `advowners${Date.now() % 100000}`;
    const pool = "pool-garbage";
    const client = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
    await client.createTable();
    const rows: [string, Record<string, unknown>][] = [
      ["resp_number", { backend: 42 }],
      ["resp_path", { backend: "../eastus" }],
      ["resp_long", { backend: "x".repeat(65) }],
      ["resp_none", { other: "eastus" }],
      ["resp_creator", { backend: "eastus", creator: "../team" }],
      ["resp_good", { backend: "eastus", extra: "ignored" }],
      ["resp_made", { backend: "eastus", creator: "team" }],
    ];
    for (const [id, row] of rows) await client.createEntity({ partitionKey: ownerPartitionKey(pool, id), rowKey: id, ...row });
    const store = new TableStateStore({
      location: { kind: "connectionString", connectionString: azurite.connectionString },
      table,
      pool,
      clock: systemClock,
      maxTripMs: 60_000,
    });
    const signal = new AbortController().signal;
    const read = await Promise.all(rows.map(([id]) => store.readOwner(id, signal)));
    expect(read).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { backend: "eastus", creator: undefined },
      { backend: "eastus", creator: "team" },
    ]);
  });

  it("ignores bad entries with one log line, applies the good ones capped from their start, and repairs the row on the next write", async () => {
    regions = await startRegions([
      { region: "constructor", priority: 1 },
      { region: "__proto__", priority: 2 },
      { region: "toString", priority: 2 },
      { region: "hasOwnProperty", priority: 2 },
    ]);
    const table = `advgarbage${Date.now() % 100000}`;
    const config = { circuitBreaker: { maxTripDuration: "PT2S" } };
    const settingsEnv = routerEnv(regions, { config });
    const backends = parseRouterConfig(JSON.parse(settingsEnv.ROUTER_CONFIG ?? "{}")).backends;
    const client = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
    await client.createTable();
    const now = Date.now();
    const trips = [
      null,
      { constructor: { openUntil: now + 60_000 } },
      ["constructor", "*", now + 60_000, now, "x".repeat(30_000), 429, "attacker"],
      ["toString", "*", now + 60_000, now, "throttled", 429, "y".repeat(30_000)],
      ["hasOwnProperty", "*", "soon", now, "throttled", 429, "x"],
      ["hasOwnProperty", "*", 9e99, now, "throttled", 429, "x"],
      // Valid, but says it lasts for ever (year 255,000): the 2 s cap from its start holds.
      ["__proto__", "*", 8e15, now, "throttled", 429, "other-instance"],
    ];
    // Over 60 KB of text: stored in two properties, as the router itself splits a large row.
    const text = JSON.stringify(trips);
    await client.createEntity({
      partitionKey: poolKey(backends),
      rowKey: "breakers.v2",
      trips: text.slice(0, 30_000),
      trips1: text.slice(30_000),
      updatedBy: "x",
    });

    const ignored: number[] = [];
    h = await startHarness({
      pool: regions,
      config,
      env: { ROUTER_STATE: azurite.connectionString, ROUTER_STATE_TABLE: table },
      syncLog: { lost: () => {}, restored: () => {}, badRow: (dropped) => ignored.push(dropped) },
    });
    const router = h;
    await until(async () => (await router.status()).backends[1]?.state === "open", 2_500, "the valid trip applied");
    const status = await router.status();
    expect(status.backends.map((b) => [b.name, b.state])).toEqual([
      ["constructor", "closed"],
      ["__proto__", "open"],
      ["toString", "closed"],
      ["hasOwnProperty", "closed"],
    ]);
    expect(JSON.stringify(status)).not.toContain("xxxxxxxxxx");
    expect(Date.parse(status.backends[1]?.openUntil ?? "")).toBeLessThanOrEqual(now + 2_000);
    // Back after the cap, though the row still says 9e15 and is re-read every second.
    await until(async () => (await router.status()).backends[1]?.state === "closed", 3_000, "the capped trip over");
    await sleep(1_200);
    expect((await router.status()).backends[1]?.state).toBe("closed");
    expect(ignored).toEqual([6]);

    // A local trip rewrites the row without the bad entries (and without the one past its cap).
    regions.sims[0]?.setFault({ kind: "throttle", retryAfterSeconds: 30 });
    const tripped = await router.post("/openai/deployments/gpt-4o/chat/completions", { messages: [{ role: "user", content: "hi" }] });
    expect(tripped.headers.get("x-router-attempts")).toBe("2");
    const storedRow = async () => {
      const entity = await client.getEntity<Record<string, unknown>>(poolKey(backends), "breakers.v2");
      return decodeTrips(`${entity.trips ?? ""}${entity.trips1 ?? ""}`, Date.now());
    };
    await until(async () => (await storedRow()).trips.some((t) => t.backend === "constructor"), 2_500, "the row rewritten");
    const decoded = await storedRow();
    expect(decoded.dropped).toBe(0);
    expect(decoded.trips.map((t) => [t.backend, t.scope])).toEqual([["constructor", "gpt-4o"]]);
  });
});
