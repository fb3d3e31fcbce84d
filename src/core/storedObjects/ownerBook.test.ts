import { describe, expect, it } from "vitest";
import { OwnerBook, type OwnerChange, type OwnerRecord, type OwnerStore } from "./ownerBook";

class FakeOwnerStore implements OwnerStore {
  readonly rows = new Map<string, string>();
  readonly creators = new Map<string, string>();
  readonly writes: OwnerChange[][] = [];
  fail = false;
  hang = false;
  reads = 0;
  async writeOwners(changes: readonly OwnerChange[]): Promise<void> {
    if (this.fail) throw new Error("store down");
    this.writes.push([...changes]);
    for (const c of changes) {
      if (c.backend === undefined) this.rows.delete(c.id);
      else this.rows.set(c.id, c.backend);
      if (c.creator !== undefined) this.creators.set(c.id, c.creator);
    }
  }
  readonly created = new Map<string, Set<string>>();
  createdReads = 0;
  async writeCreated(client: string, ids: readonly string[]): Promise<void> {
    if (this.fail) throw new Error("store down");
    const index = this.created.get(client) ?? new Set<string>();
    for (const id of ids) index.add(id);
    this.created.set(client, index);
  }
  async readCreated(client: string): Promise<ReadonlySet<string>> {
    this.createdReads++;
    if (this.fail) throw new Error("store down");
    return new Set(this.created.get(client) ?? []);
  }
  readOwner(id: string, signal: AbortSignal): Promise<OwnerRecord | undefined> {
    this.reads++;
    if (this.fail) return Promise.reject(new Error("store down"));
    if (this.hang) return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
    const backend = this.rows.get(id);
    return Promise.resolve(backend === undefined ? undefined : { backend, creator: this.creators.get(id) });
  }
}

describe("OwnerBook", () => {
  it("knows what it learned at once, asks the loop for a round within the flush interval, and writes one batch then", async () => {
    const store = new FakeOwnerStore();
    const wakes: number[] = [];
    const book = new OwnerBook(store, { flushMs: 500, wake: (withinMs) => wakes.push(withinMs) });
    book.learn("resp_1", "a");
    book.learn("resp_2", "b");
    book.learn("resp_2", "b");
    expect((await book.find("resp_1"))?.backend).toBe("a");
    expect(store.writes).toHaveLength(0);
    expect(wakes).toEqual([500, 500]);
    expect(await book.round()).toBe("ok");
    expect(store.writes).toEqual([
      [
        { id: "resp_1", backend: "a" },
        { id: "resp_2", backend: "b" },
      ],
    ]);
    expect(await book.round()).toBe("idle");
    expect(store.reads).toBe(0);
  });

  it("asks the store once for an id it has not seen, and remembers the answer", async () => {
    const store = new FakeOwnerStore();
    store.rows.set("file-1", "c");
    const book = new OwnerBook(store);
    expect((await book.find("file-1"))?.backend).toBe("c");
    expect((await book.find("file-1"))?.backend).toBe("c");
    expect(store.reads).toBe(1);
    expect(await book.find("file-2")).toBeUndefined();
  });

  it("treats a failing or slow store as 'owner unknown', within the read timeout", async () => {
    const store = new FakeOwnerStore();
    store.fail = true;
    expect(await new OwnerBook(store).find("resp_1")).toBeUndefined();
    store.fail = false;
    store.hang = true;
    const started = Date.now();
    expect(await new OwnerBook(store, { readTimeoutMs: 50 }).find("resp_1")).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("keeps changes while the store fails, logs the outage once, and writes them when it answers again", async () => {
    const store = new FakeOwnerStore();
    const log = { failed: 0, restored: 0 };
    const book = new OwnerBook(store, { log: { writeFailed: () => void log.failed++, writeRestored: () => void log.restored++ } });
    store.fail = true;
    book.learn("resp_1", "a");
    expect(await book.round()).toBe("failed");
    book.learn("resp_2", "a");
    expect(await book.round()).toBe("failed");
    expect(log).toEqual({ failed: 1, restored: 0 });
    expect(book.status().pending).toBe(2);
    store.fail = false;
    expect(await book.round()).toBe("ok");
    expect(log).toEqual({ failed: 1, restored: 1 });
    expect([...store.rows.keys()].sort()).toEqual(["resp_1", "resp_2"]);
    expect(book.status()).toMatchObject({ pending: 0, failedWrites: 2 });
  });

  it("deletes the shared record of a deleted object but keeps the former owner locally", async () => {
    const store = new FakeOwnerStore();
    const book = new OwnerBook(store);
    book.learn("file-1", "a");
    book.forget("file-1");
    await book.stop();
    expect(store.rows.has("file-1")).toBe(false);
    expect((await book.find("file-1"))?.backend).toBe("a");
  });

  it("holds at most maxKnown owners in memory, dropping the oldest", async () => {
    const store = new FakeOwnerStore();
    const book = new OwnerBook(store, { maxKnown: 2 });
    book.learn("a1", "a");
    book.learn("a2", "a");
    book.learn("a3", "a");
    expect(book.status().known).toBe(2);
    await book.stop();
    store.rows.clear();
    expect(await book.find("a1")).toBeUndefined();
    expect((await book.find("a3"))?.backend).toBe("a");
  });

  it("records a new object's owner and creator in the store before it returns, and reads creators back", async () => {
    const store = new FakeOwnerStore();
    const book = new OwnerBook(store);
    await book.record("resp_1", "a", "team");
    expect(store.writes).toEqual([[{ id: "resp_1", backend: "a", creator: "team" }]]);
    const other = new OwnerBook(store);
    expect(await other.find("resp_1")).toEqual({ backend: "a", creator: "team" });
    expect(book.status().recordedBeforeAnswer).toBe(1);
  });

  it("keeps a record the store could not take for the next round, and never throws", async () => {
    const store = new FakeOwnerStore();
    const book = new OwnerBook(store);
    store.fail = true;
    await book.record("file-1", "a", "team");
    expect(await book.find("file-1")).toEqual({ backend: "a", creator: "team" });
    store.fail = false;
    await book.round();
    expect(store.creators.get("file-1")).toBe("team");
  });

  it("tells which ids of a list page a client created: memory first, the rest from its index in one read", async () => {
    const store = new FakeOwnerStore();
    const maker = new OwnerBook(store);
    await maker.record("file-1", "a", "team");
    await maker.record("file-2", "a", "other");
    expect([...(store.created.get("team") ?? [])]).toEqual(["file-1"]);
    const reader = new OwnerBook(store);
    reader.learn("file-3", "b", "team");
    const mine = await reader.createdBy("team", ["file-1", "file-2", "file-3", "file-9"]);
    expect([...mine].sort()).toEqual(["file-1", "file-3"]);
    expect(store.createdReads).toBe(1);
    // The next page of the same list call reads nothing more.
    await reader.createdBy("team", ["file-4", "file-5"]);
    expect(store.createdReads).toBe(1);
  });

  it("re-reads a record from the store, replacing a remembered one that proved wrong", async () => {
    const store = new FakeOwnerStore();
    const book = new OwnerBook(store);
    book.learn("resp_1", "a", "team");
    store.rows.set("resp_1", "b");
    expect((await book.reread("resp_1"))?.backend).toBe("b");
    book.drop("resp_1");
    store.rows.delete("resp_1");
    expect(await book.find("resp_1")).toBeUndefined();
  });
});
