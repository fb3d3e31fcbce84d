import { describe, expect, it } from "vitest";
import { type CachedAnswer, decodeCachedAnswer, encodeCachedAnswer } from "./cachedAnswer";

const key = "a".repeat(64);
const answer: CachedAnswer = {
  body: Buffer.from('{"data":[{"embedding":[0.1]}],"usage":{"prompt_tokens":3,"total_tokens":3}}'),
  contentType: "application/json",
  servedBy: "eastus",
  servedDeployment: "emb",
  totalTokens: 3,
  expiresAt: 10_000,
};

describe("the stored form of a cached answer", () => {
  it("reads back what was written, before it expires", () => {
    const decoded = decodeCachedAnswer(key, encodeCachedAnswer(key, answer), 9_999);
    expect(decoded).toEqual({ ...answer, body: new Uint8Array(answer.body) });
    expect(decodeCachedAnswer(key, encodeCachedAnswer(key, answer), 10_000)).toBeUndefined();
  });

  it("ignores an entry for another key (a foreign entry under this name)", () => {
    expect(decodeCachedAnswer("b".repeat(64), encodeCachedAnswer(key, answer), 0)).toBeUndefined();
  });

  it("ignores a corrupt entry: a changed body byte, a cut body, garbage, a line that fails the schema", () => {
    const stored = Buffer.from(encodeCachedAnswer(key, answer));
    const flipped = Buffer.from(stored);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 1, flipped.length - 3);
    expect(decodeCachedAnswer(key, flipped, 0)).toBeUndefined();
    expect(decodeCachedAnswer(key, stored.subarray(0, stored.length - 1), 0)).toBeUndefined();
    expect(decodeCachedAnswer(key, Buffer.from("not an entry"), 0)).toBeUndefined();
    expect(decodeCachedAnswer(key, new Uint8Array(0), 0)).toBeUndefined();
    const line = JSON.stringify({ v: 1, key, expiresAt: "never", contentType: "x", bytes: 0, sha256: "0".repeat(64) });
    expect(decodeCachedAnswer(key, Buffer.from(`${line}\n`), 0)).toBeUndefined();
    const extra = JSON.stringify({ v: 1, key, expiresAt: 10, contentType: "x", bytes: 0, sha256: "0".repeat(64), evil: true });
    expect(decodeCachedAnswer(key, Buffer.from(`${extra}\n`), 0)).toBeUndefined();
  });
});
