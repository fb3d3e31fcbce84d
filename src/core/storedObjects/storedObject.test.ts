import { describe, expect, it } from "vitest";
import { storedObjectCall } from "./storedObject";

describe("storedObjectCall", () => {
  it("reads the id from the paths the contract lists, on both the Azure and the v1 forms", () => {
    for (const [method, path, ref] of [
      ["GET", "/openai/responses/resp_abc", "resp_abc"],
      ["GET", "/openai/v1/responses/resp_abc", "resp_abc"],
      ["DELETE", "/openai/v1/responses/resp_abc", "resp_abc"],
      ["POST", "/openai/v1/responses/resp_abc/cancel", "resp_abc"],
      ["GET", "/openai/v1/responses/resp_abc/input_items", "resp_abc"],
      ["GET", "/openai/v1/conversations/conv_1/items", "conv_1"],
      ["GET", "/openai/files/file-Ab_9/content", "file-Ab_9"],
      ["GET", "/openai/v1/files/file-Ab_9", "file-Ab_9"],
      ["POST", "/openai/batches/batch_1/cancel", "batch_1"],
      ["GET", "/openai/v1/batches/batch_1", "batch_1"],
    ] as const) {
      expect(storedObjectCall(method, path, undefined)?.ref, `${method} ${path}`).toBe(ref);
    }
  });

  it("marks creating calls with the prefix of the id they make, and their body's reference", () => {
    expect(storedObjectCall("POST", "/openai/v1/responses", undefined)).toEqual({
      ref: undefined,
      named: [],
      collection: "responses",
      creates: "resp_",
      deletes: false,
    });
    expect(storedObjectCall("POST", "/openai/responses", { previous_response_id: "resp_1" })?.ref).toBe("resp_1");
    expect(storedObjectCall("POST", "/openai/v1/responses", { conversation: "conv_1" })?.ref).toBe("conv_1");
    expect(storedObjectCall("POST", "/openai/files", undefined)?.creates).toBe("file-");
    expect(storedObjectCall("POST", "/openai/v1/batches", { input_file_id: "file-1" })).toEqual({
      ref: "file-1",
      named: [{ id: "file-1", field: "input_file_id" }],
      collection: "batches",
      creates: "batch_",
      deletes: false,
    });
    // Both references of a Responses body are named, so each is checked against the caller.
    expect(storedObjectCall("POST", "/openai/v1/responses", { previous_response_id: "resp_1", conversation: "conv_1" })?.named).toEqual([
      { id: "resp_1", field: "previous_response_id" },
      { id: "conv_1", field: "conversation" },
    ]);
    expect(storedObjectCall("POST", "/openai/v1/conversations", undefined)?.creates).toBe("conv_");
  });

  it("says a DELETE of the object itself deletes it; a DELETE below it does not", () => {
    expect(storedObjectCall("DELETE", "/openai/v1/files/file-1", undefined)?.deletes).toBe(true);
    expect(storedObjectCall("DELETE", "/openai/v1/conversations/conv_1/items/msg_1", undefined)?.deletes).toBe(false);
  });

  it("leaves every other call alone: chat, embeddings, lists, and ids with characters Azure never uses", () => {
    expect(storedObjectCall("POST", "/openai/deployments/gpt-4o/chat/completions", undefined)).toBeUndefined();
    expect(storedObjectCall("POST", "/openai/v1/chat/completions", { previous_response_id: "resp_1" })).toBeUndefined();
    expect(storedObjectCall("GET", "/openai/v1/files", undefined)).toBeUndefined();
    expect(storedObjectCall("GET", "/openai/v1/files/", undefined)).toBeUndefined();
    expect(storedObjectCall("GET", "/openai/v1/files/file%2F1", undefined)).toBeUndefined();
    expect(storedObjectCall("GET", `/openai/v1/files/${"a".repeat(201)}`, undefined)).toBeUndefined();
    expect(storedObjectCall("POST", "/openai/v1/responses", { previous_response_id: "../x" })?.ref).toBeUndefined();
  });
});
