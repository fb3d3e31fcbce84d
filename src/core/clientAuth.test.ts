import { describe, expect, it } from "vitest";
import { createClientAuthenticator } from "./clientAuth";

describe("createClientAuthenticator", () => {
  const check = createClientAuthenticator(["first-key", "second-key"], false);

  it("accepts any configured key as api-key or Authorization: Bearer", () => {
    expect(check({ "api-key": "first-key" })).toBe(true);
    expect(check({ "api-key": "second-key" })).toBe(true);
    expect(check({ authorization: "Bearer second-key" })).toBe(true);
    expect(check({ authorization: "bearer first-key" })).toBe(true);
  });

  it("refuses a missing, wrong, prefixed or differently-cased key, and other schemes", () => {
    expect(check({})).toBe(false);
    expect(check({ "api-key": "" })).toBe(false);
    expect(check({ "api-key": "first-ke" })).toBe(false);
    expect(check({ "api-key": "first-key-and-more" })).toBe(false);
    expect(check({ "api-key": "FIRST-KEY" })).toBe(false);
    expect(check({ authorization: "Basic first-key" })).toBe(false);
    expect(check({ authorization: "first-key" })).toBe(false);
  });

  it("lets every call through only when anonymous access is on and no keys are set", () => {
    expect(createClientAuthenticator([], true)({})).toBe(true);
    expect(createClientAuthenticator(["k"], true)({})).toBe(false);
  });
});
