// Router instances sharing one Azurite table, in front of the same simulated regions: the setup
// of every test about state shared between instances. The run's Azurite serves every file; each
// test gets a fresh table (and container), and its routers and regions are closed after it. A file
// that plays outages (`outages: true`) starts an Azurite of its own, restarted after each test
// that stopped it.

import { afterAll, afterEach, beforeAll } from "vitest";
import { type Azurite, startAzurite } from "./azurite";
import { type Harness, type HarnessOptions, type RegionSpec, type Regions, startHarness, startRegions, until } from "./harness";
import { sharedAzurite } from "./sharedAzurite";

export interface SharedTable {
  readonly azurite: Azurite;
  /** The regions of the current test. */
  readonly regions: Regions;
  /** The state settings that point a router at the current test's table. */
  env(): Record<string, string>;
  /**
   * Starts `specs` as regions and one router per name on a fresh table, each connected to it.
   * `each` adds options per router (its `env` is merged over the table's).
   */
  routers(
    specs: RegionSpec[],
    each?: (instance: string, i: number) => Omit<HarnessOptions, "pool" | "instance">,
    names?: string[],
  ): Promise<Harness[]>;
  /** One more router on the same table and regions, closed after the test. */
  another(instance: string): Promise<Harness>;
  /** Stops Azurite (an outage); it is started again after the test. */
  outage(): Promise<void>;
}

/**
 * `blob`: Blob Storage too (the shared response cache), a fresh container per test. `outages`:
 * the file stops Azurite (`outage()`), so it gets one of its own.
 */
export function useSharedTable(prefix: string, options: { blob?: boolean; outages?: boolean } = {}): SharedTable {
  let azurite: Azurite | undefined;
  let regions: Regions | undefined;
  let routers: Harness[] = [];
  let table = "";
  let counter = 0;
  let stopped = false;

  beforeAll(async () => {
    azurite = options.outages ? await startAzurite(options) : sharedAzurite();
  });
  afterAll(async () => {
    if (options.outages) await azurite?.stop();
  });
  afterEach(async () => {
    await Promise.all(routers.map((r) => r.close()));
    routers = [];
    await regions?.close();
    regions = undefined;
    if (stopped) await azurite?.start();
    stopped = false;
  });

  const started = (): Azurite => {
    if (!azurite) throw new Error("Azurite is not running");
    return azurite;
  };
  const env = (): Record<string, string> => ({
    ROUTER_STATE: started().connectionString,
    ROUTER_STATE_TABLE: table,
    ...(options.blob ? { ROUTER_CACHE_CONTAINER: table.toLowerCase() } : {}),
  });
  const connected = async (h: Harness) => {
    await until(async () => (await h.status()).sharedState.connected, 5_000, `${h.app.instance} connected to the table`);
    return h;
  };

  return {
    get azurite() {
      return started();
    },
    get regions() {
      if (!regions) throw new Error("no regions: call routers() first");
      return regions;
    },
    env,
    async routers(specs, each = () => ({}), names = ["instance-a", "instance-b"]) {
      regions = await startRegions(specs);
      // A fresh table per test keeps tests independent.
      table = `${prefix}${++counter}${Date.now() % 100000}`;
      for (const [i, instance] of names.entries()) {
        const options = each(instance, i);
        routers.push(await startHarness({ ...options, pool: regions, instance, env: { ...env(), ...options.env } }));
      }
      for (const r of routers) await connected(r);
      return [...routers];
    },
    async another(instance) {
      if (!regions) throw new Error("no regions: call routers() first");
      const h = await startHarness({ pool: regions, instance, env: env() });
      routers.push(h);
      return connected(h);
    },
    async outage() {
      if (!options.outages) throw new Error("useSharedTable(…, { outages: true }) for a file that stops Azurite");
      stopped = true;
      await started().stop();
    },
  };
}
