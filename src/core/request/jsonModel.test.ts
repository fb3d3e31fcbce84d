import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyBytes } from "../routing/upstream";
import { bodyFor, findCallDeployment } from "./callDeployment";
import { findJsonModel } from "./jsonModel";

const scan = (text: string) => findJsonModel(Buffer.from(text));
const modelOf = (text: string) => {
  const result = scan(text);
  return result.kind === "found" ? result.field.value : result.kind;
};

describe("findJsonModel", () => {
  it.each([
    ['{"model":"gpt-4o"}', "gpt-4o"],
    ['  {\n\t"messages": [{"role":"user","content":"hi"}],\r\n  "model" :  "gpt-4o"  }  ', "gpt-4o"],
    ['{"input":"say \\"model\\":\\"x\\"","model":"real"}', "real"],
    ['{"metadata":{"model":"nested"},"tools":[{"model":"in array"}],"model":"top"}', "top"],
    ['{"metadata":{"model":"nested"}}', "absent"],
    ['{"mo\\u0064el":"escaped-key"}', "escaped-key"],
    ['{"model":"gpt\\u002d4o"}', "gpt-4o"],
    ['{"model":"résumé-ü"}', "résumé-ü"],
    ['{"a":"\\\\","model":"after-backslash"}', "after-backslash"],
    ['{"model":42}', "absent"],
    ['{"model":null,"x":1}', "absent"],
    ["{}", "absent"],
    ['["model","x"]', "absent"],
    ['"model"', "absent"],
    ["not json", "absent"],
    ['{"model":"a"', "absent"],
    ['{"model":"a"} trailing', "absent"],
    ['{"model":"a","model":"b"}', "duplicate"],
    ['{"model":1,"model":"b"}', "duplicate"],
    ['{"model":"a","mo\\u0064el":"b"}', "duplicate"],
  ])("%s -> %s", (text, expected) => {
    expect(modelOf(text)).toBe(expected);
  });

  it("finds what JSON.parse finds, whatever the key order, nesting, whitespace and escapes (property)", () => {
    const key = fc.oneof(fc.constantFrom("messages", "input", "model2", "Model", "stream", "metadata"), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        fc.nat(),
        fc.constantFrom(0, 1, 2, "\t", " \n "),
        (rest, model, position, space) => {
          const entries = Object.entries(rest).filter(([k]) => k !== "model" && k !== "__proto__");
          if (model !== undefined) entries.splice(position % (entries.length + 1), 0, ["model", model]);
          const text = JSON.stringify(Object.fromEntries(entries), null, space);
          const parsed = JSON.parse(text) as { model?: unknown };
          const result = scan(text);
          if (typeof parsed.model === "string") {
            return (
              result.kind === "found" &&
              result.field.value === parsed.model &&
              JSON.parse(text.slice(result.field.start, result.field.end)) === parsed.model
            );
          }
          return result.kind === "absent";
        },
      ),
      { numRuns: 500 },
    );
  });

  it("rewrites only the model value: every other byte stays as sent", () => {
    const text = '{ "messages" : [ {"role":"user","content":"\\"model\\": \\"keep\\""} ],\n "model" : "gpt-4o", "x":{"model":"keep"} }';
    const lookup = findCallDeployment("/openai/v1/chat/completions", "/openai/v1/chat/completions", "application/json", Buffer.from(text));
    if (lookup.kind !== "deployment") throw new Error("no deployment found");
    const rewritten = bodyBytes(bodyFor(Buffer.from(text), lookup.deployment, 'odd"name')).toString();
    expect(rewritten).toBe(text.replace('"model" : "gpt-4o"', '"model" : "odd\\"name"'));
    expect(JSON.parse(rewritten).x.model).toBe("keep");
  });
});

describe("bodyFor", () => {
  it("copies a small body into one buffer, and sends a large one as slices of the caller's bytes (no copy)", () => {
    const large = Buffer.from(JSON.stringify({ input: "x".repeat(100_000), model: "gpt-4o" }));
    const lookup = findCallDeployment("/openai/v1/embeddings", "/openai/v1/embeddings", "application/json", large);
    if (lookup.kind !== "deployment") throw new Error("no deployment found");
    const pieces = bodyFor(large, lookup.deployment, "te3");
    expect(Array.isArray(pieces)).toBe(true);
    const [head] = pieces as Uint8Array[];
    expect(head?.buffer).toBe(large.buffer);
    expect(JSON.parse(bodyBytes(pieces).toString()).model).toBe("te3");
    const small = Buffer.from('{"model":"gpt-4o"}');
    const smallLookup = findCallDeployment("/openai/v1/x", "/openai/v1/x", "application/json", small);
    if (smallLookup.kind !== "deployment") throw new Error("no deployment found");
    expect(bodyFor(small, smallLookup.deployment, "te3")).toBeInstanceOf(Uint8Array);
  });
});

describe("findCallDeployment", () => {
  it("reads the deployment from the path, and leaves a body's model alone there", () => {
    const url = "/openai/deployments/gpt%2D4o/chat/completions?api-version=1";
    const lookup = findCallDeployment(url, url.split("?")[0] ?? "", "application/json", Buffer.from('{"model":"other"}'));
    expect(lookup).toEqual({ kind: "deployment", deployment: { name: "gpt-4o", where: "path", start: 20, end: 28 } });
  });

  it("has no deployment for calls without one (GET /openai/models, a JSON body without model, a body that is no JSON object)", () => {
    expect(findCallDeployment("/openai/models", "/openai/models", undefined, undefined)).toEqual({ kind: "none" });
    expect(findCallDeployment("/openai/v1/files", "/openai/v1/files", "application/json", Buffer.from('{"purpose":"batch"}'))).toEqual({
      kind: "none",
    });
    expect(findCallDeployment("/openai/v1/x", "/openai/v1/x", "text/plain", Buffer.from("model=gpt-4o"))).toEqual({ kind: "none" });
  });

  it("reads a body that parses as a JSON object whatever its content type says (text/plain, none, a leading space)", () => {
    for (const [type, text] of [
      [undefined, '{"model":"gpt-4o"}'],
      ["text/plain", '{"model":"gpt-4o"}'],
      [undefined, ' \n {"model":"gpt-4o"}'],
      ["application/octet-stream", '\t{"model": "gpt-4o"}'],
    ] as const) {
      const lookup = findCallDeployment("/openai/v1/x", "/openai/v1/x", type, Buffer.from(text));
      expect(lookup.kind === "deployment" && lookup.deployment.name).toBe("gpt-4o");
    }
  });

  it("finds a multipart content type with two boundary parameters ambiguous", () => {
    const body = Buffer.from('--a\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-4o\r\n--a--\r\n');
    const lookup = findCallDeployment(
      "/openai/v1/audio/transcriptions",
      "/openai/v1/audio/transcriptions",
      "multipart/form-data; boundary=a; boundary=b",
      body,
    );
    expect(lookup).toEqual({ kind: "ambiguous" });
  });
});

describe("findJsonModel refs", () => {
  it("reads the top-level previous_response_id, conversation (string or {id}) and input_file_id beside the model", () => {
    const scan = findJsonModel(
      Buffer.from('{"model":"m","previous_response_id":"resp_1","conversation":{"id":"conv_2"},"input_file_id":"file-3"}'),
    );
    expect(scan).toMatchObject({
      kind: "found",
      refs: { previous_response_id: "resp_1", conversation: "conv_2", input_file_id: "file-3" },
    });
    expect(findJsonModel(Buffer.from('{"conversation":"conv_9"}'))).toEqual({ kind: "absent", refs: { conversation: "conv_9" } });
  });

  it("ignores nested and non-string refs, and calls without any carry none", () => {
    expect(findJsonModel(Buffer.from('{"model":"m","metadata":{"previous_response_id":"resp_1"},"conversation":7}'))).toEqual({
      kind: "found",
      field: { value: "m", start: 9, end: 12 },
    });
  });
});
