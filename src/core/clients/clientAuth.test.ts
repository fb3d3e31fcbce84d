import { describe, expect, it } from "vitest";
import { type Client, createClientIdentifier, operatorsClient } from "./clientAuth";

const client = (name: string): Client => ({ name, deployments: undefined, limits: undefined, seesAllClients: name === "default" });
const ops = operatorsClient;
const app = client("chat-app");

describe("createClientIdentifier", () => {
  const identify = createClientIdentifier(
    [
      { client: ops, keys: ["first-key", "second-key"] },
      { client: app, keys: ["app-key-old", "app-key-new"] },
    ],
    undefined,
  );

  it("finds the client of any of its keys, as api-key or Authorization: Bearer (rotation: both keys work)", () => {
    expect(identify({ "api-key": "first-key" })).toBe(ops);
    expect(identify({ authorization: "Bearer second-key" })).toBe(ops);
    expect(identify({ "api-key": "app-key-old" })).toBe(app);
    expect(identify({ authorization: "bearer app-key-new" })).toBe(app);
  });

  it("refuses a missing, wrong, prefixed or differently-cased key, and other schemes", () => {
    for (const headers of [
      {},
      { "api-key": "" },
      { "api-key": "first-ke" },
      { "api-key": "first-key-and-more" },
      { "api-key": "FIRST-KEY" },
      { authorization: "Basic first-key" },
      { authorization: "first-key" },
    ]) {
      expect(identify(headers)).toBeUndefined();
    }
  });

  it("looks a key up in one hashed Map: the time does not grow with the number of keys", () => {
    const many = createClientIdentifier([{ client: app, keys: Array.from({ length: 20_000 }, (_, i) => `key-${i}`) }], undefined);
    const few = createClientIdentifier([{ client: app, keys: ["key-0"] }], undefined);
    const time = (f: () => unknown) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 20_000; i++) f();
      return Number(process.hrtime.bigint() - start);
    };
    time(() => many({ "api-key": "nope" }));
    time(() => few({ "api-key": "nope" }));
    // A linear scan over 20,000 keys would be thousands of times slower; a Map lookup is not.
    expect(time(() => many({ "api-key": "key-19999" }))).toBeLessThan(time(() => few({ "api-key": "key-0" })) * 5);
  });

  it("lets every call through as the anonymous client only when anonymous access is on and no keys are set", () => {
    expect(createClientIdentifier([], ops)({})).toBe(ops);
    expect(createClientIdentifier([{ client: app, keys: ["k"] }], ops)({})).toBeUndefined();
  });
});
