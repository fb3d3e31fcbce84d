import { describe, expect, it } from "vitest";
import { defaultMaxOutputTokens, estimateCallCost } from "./callCost";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("estimateCallCost", () => {
  it("charges the prompt at about four bytes a token plus the most the call may write", () => {
    const b = body({ messages: [{ role: "user", content: "x".repeat(400) }], max_tokens: 50 });
    expect(estimateCallCost("POST", "/openai/deployments/d/chat/completions", b)).toBe(Math.ceil(b.length / 4) + 50);
    const c = body({ input: "hi", max_output_tokens: 7 });
    expect(estimateCallCost("POST", "/openai/v1/responses", c)).toBe(Math.ceil(c.length / 4) + 7);
    const d = body({ messages: [], max_completion_tokens: 9 });
    expect(estimateCallCost("POST", "/openai/v1/chat/completions", d)).toBe(Math.ceil(d.length / 4) + 9);
  });

  it("assumes the stated default when the call names no maximum, and nothing written for embeddings or a GET", () => {
    const b = body({ messages: [] });
    expect(estimateCallCost("POST", "/openai/v1/chat/completions", b)).toBe(Math.ceil(b.length / 4) + defaultMaxOutputTokens);
    const e = body({ input: "abc" });
    expect(estimateCallCost("POST", "/openai/deployments/e/embeddings", e)).toBe(Math.ceil(e.length / 4));
    expect(estimateCallCost("GET", "/openai/v1/files", undefined)).toBe(0);
  });

  it("reads only a top-level maximum (not one nested in a message), and ignores one that is no number", () => {
    const nested = body({ messages: [{ max_tokens: 5 }] });
    expect(estimateCallCost("POST", "/openai/v1/chat/completions", nested)).toBe(Math.ceil(nested.length / 4) + defaultMaxOutputTokens);
    const text = body({ max_tokens: "5" });
    expect(estimateCallCost("POST", "/openai/v1/chat/completions", text)).toBe(Math.ceil(text.length / 4) + defaultMaxOutputTokens);
  });
});
