import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { maxWriteTries, writeMerged } from "./conditionalWrite";

/** A table whose row another writer changes under us `conflicts` times before a write lands. */
function contendedTable(conflicts: number) {
  const calls: string[] = [];
  const client = {
    createEntity: async () => {
      calls.push("create");
      if (calls.length <= conflicts) throw new RestError("exists", { statusCode: 409 });
      return { etag: `v${calls.length}` };
    },
    updateEntity: async (_entity: unknown, _mode: string, options: { etag: string }) => {
      calls.push(`update@${options.etag}`);
      if (calls.length <= conflicts) throw new RestError("changed", { statusCode: 412 });
      return { etag: `v${calls.length}` };
    },
  } as unknown as TableClient;
  return { client, calls };
}

function write(client: TableClient, counts = { writes: 0, conflicts: 0 }) {
  let reads = 0;
  return {
    counts,
    reads: () => reads,
    run: (nothing = false) =>
      writeMerged({
        client,
        seen: { etag: undefined as string | undefined, n: 0 },
        merge: (seen) => (nothing ? undefined : { entity: { partitionKey: "p", rowKey: "r", n: seen.n + 1 }, holds: seen.n + 1 }),
        reread: async () => ({ etag: `seen${++reads}`, n: reads * 10 }),
        counts,
        failed: () => {},
        signal: new AbortController().signal,
      }),
  };
}

describe("writeMerged", () => {
  it("on a conflict reads the row again and merges onto what it now holds, from its new version", async () => {
    const { client, calls } = contendedTable(2);
    const w = write(client);
    expect(await w.run()).toEqual({ holds: 21, etag: "v3" });
    expect(calls).toEqual(["create", "update@seen1", "update@seen2"]);
    expect(w.counts).toEqual({ writes: 3, conflicts: 2 });
  });

  it("writes nothing when the merge says nothing needs writing", async () => {
    const { client, calls } = contendedTable(0);
    expect(await write(client).run(true)).toBe("unchanged");
    expect(calls).toEqual([]);
  });

  it("says contended after every try met another writer, and leaves the meaning to the caller", async () => {
    const { client, calls } = contendedTable(Number.POSITIVE_INFINITY);
    expect(await write(client).run()).toBe("contended");
    expect(calls).toHaveLength(maxWriteTries);
  });

  it("passes any other failure on, told to the caller first", async () => {
    const client = {
      createEntity: async () => {
        throw new RestError("busy", { statusCode: 503 });
      },
    } as unknown as TableClient;
    const told: unknown[] = [];
    const attempt = writeMerged({
      client,
      seen: { etag: undefined },
      merge: () => ({ entity: { partitionKey: "p", rowKey: "r" }, holds: 1 }),
      reread: async () => ({ etag: undefined }),
      counts: { writes: 0, conflicts: 0 },
      failed: (error) => told.push(error),
      signal: new AbortController().signal,
    });
    await expect(attempt).rejects.toThrow("busy");
    expect(told).toHaveLength(1);
  });
});
