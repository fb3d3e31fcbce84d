import { describe, expect, it } from "vitest";
import { estimatedUsage, reportedUsage } from "./tokenUsage";

describe("reportedUsage", () => {
  it("reads a chat answer's usage, details included", () => {
    const tail =
      '..."system_fingerprint":"fp","usage":{"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":13}}';
    expect(reportedUsage(tail)).toEqual({ promptTokens: 9, completionTokens: 4, totalTokens: 13, estimated: false });
  });

  it("reads the Responses API's input/output tokens, and embeddings' prompt-only usage", () => {
    expect(
      reportedUsage('"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,"total_tokens":9}'),
    ).toMatchObject({
      promptTokens: 5,
      completionTokens: 4,
      totalTokens: 9,
    });
    expect(reportedUsage('{"data":[],"usage":{"prompt_tokens":4,"total_tokens":4}}')).toMatchObject({
      promptTokens: 4,
      completionTokens: 0,
      totalTokens: 4,
    });
  });

  it("takes a stream's last usage (the final chunk), and none when the last says null", () => {
    const stream =
      'data: {"choices":[],"usage":null}\n\ndata: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":20,"total_tokens":27}}\n\ndata: [DONE]\n\n';
    expect(reportedUsage(stream)?.totalTokens).toBe(27);
    expect(reportedUsage('data: {"choices":[{"delta":{}}],"usage":null}\n\ndata: [DONE]\n\n')).toBeUndefined();
    expect(reportedUsage('{"id":"file-1"}')).toBeUndefined();
  });
});

describe("estimatedUsage", () => {
  it("estimates from the request's size and the events streamed, and says so", () => {
    expect(estimatedUsage(400, 25)).toEqual({ promptTokens: 100, completionTokens: 25, totalTokens: 125, estimated: true });
  });
});
