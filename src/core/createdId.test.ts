import { describe, expect, it } from "vitest";
import { findCreatedId, watchCreatedId } from "./createdId";

async function drain(body: unknown): Promise<string> {
  let out = "";
  for await (const chunk of body as AsyncIterable<Uint8Array>) out += Buffer.from(chunk).toString();
  return out;
}
async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

describe("findCreatedId", () => {
  it("finds the first id with the expected prefix, not an item's or a previous response's", () => {
    const json = '{"previous_response_id":"resp_old","output":[{"id":"msg_1"}],"id":"resp_new"}';
    expect(findCreatedId(json, "resp_")).toBe("resp_new");
    expect(findCreatedId('{"id": "file-abc", "object": "file"}', "file-")).toBe("file-abc");
    expect(findCreatedId('{"id":"batch_1"}', "file-")).toBeUndefined();
    expect(findCreatedId('{"id":"resp_a b"}', "resp_")).toBeUndefined();
  });
});

describe("watchCreatedId", () => {
  it("reports the id of a stream's first event even when it is split across chunks, and passes every byte on", async () => {
    const seen: string[] = [];
    const parts = [
      'event: response.created\ndata: {"type":"response.created","response":{"id":"re',
      'sp_xyz","status":"in_progress"}}\n\n',
      "more",
    ];
    const body = watchCreatedId(chunks(...parts), "resp_", (id) => seen.push(id));
    expect(await drain(body)).toBe(parts.join(""));
    expect(seen).toEqual(["resp_xyz"]);
  });

  it("reads a buffered answer too, and reports nothing when the head has no such id", async () => {
    const seen: string[] = [];
    watchCreatedId(Buffer.from('{"id":"conv_1"}'), "conv_", (id) => seen.push(id));
    await drain(watchCreatedId(chunks(`{"pad":"${"x".repeat(20_000)}",`, '"id":"conv_2"}'), "conv_", (id) => seen.push(id)));
    expect(seen).toEqual(["conv_1"]);
  });
});
