import { describe, expect, it } from "vitest";
import { batchFilesScan, createdIdScan, findBatchFiles, findCreatedId, watchIds } from "./createdId";

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

  it("finds the files a batch made", () => {
    expect(findBatchFiles('{"id":"batch_1","input_file_id":"file-in","output_file_id":"file-out","error_file_id":null}')).toEqual([
      "file-out",
    ]);
    expect(findBatchFiles('{"output_file_id": "file-o", "error_file_id": "file-e"}')).toEqual(["file-o", "file-e"]);
  });
});

describe("watchIds", () => {
  it("reports the id of a stream's first event even when it is split across chunks, and passes every byte on", async () => {
    const seen: string[] = [];
    const parts = [
      'event: response.created\ndata: {"type":"response.created","response":{"id":"re',
      'sp_xyz","status":"in_progress"}}\n\n',
      "more",
    ];
    const { body } = watchIds(chunks(...parts), createdIdScan("resp_"), async (ids) => void seen.push(...ids));
    expect(await drain(body)).toBe(parts.join(""));
    expect(seen).toEqual(["resp_xyz"]);
  });

  it("holds the chunk that shows an id until its record is written", async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { body } = watchIds(chunks('{"id":"file-1"}'), createdIdScan("file-"), async () => {
      order.push("writing");
      await written;
      order.push("written");
    });
    const reading = (async () => {
      for await (const _chunk of body as AsyncIterable<Uint8Array>) order.push("chunk");
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(["writing"]);
    release();
    await reading;
    expect(order).toEqual(["writing", "written", "chunk"]);
  });

  it("reads a buffered answer too, and reports nothing when the head has no such id", async () => {
    const seen: string[] = [];
    await watchIds(Buffer.from('{"id":"conv_1"}'), createdIdScan("conv_"), async (ids) => void seen.push(...ids)).settled;
    const late = watchIds(
      chunks(`{"pad":"${"x".repeat(20_000)}",`, '"id":"conv_2"}'),
      createdIdScan("conv_"),
      async (ids) => void seen.push(...ids),
    );
    await drain(late.body);
    expect(seen).toEqual(["conv_1"]);
  });

  it("reports each batch file once however many chunks show it", async () => {
    const seen: string[] = [];
    const { body } = watchIds(
      chunks('{"id":"batch_1","output_file_id":"file-o"', ',"error_file_id":"file-e"}'),
      batchFilesScan,
      async (ids) => void seen.push(...ids),
    );
    await drain(body);
    expect(seen).toEqual(["file-o", "file-e"]);
  });
});
