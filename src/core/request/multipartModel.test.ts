import { describe, expect, it } from "vitest";
import { bodyBytes } from "../routing/upstream";
import { bodyFor, findCallDeployment } from "./callDeployment";
import { findMultipartModel, multipartBoundary } from "./multipartModel";

const boundary = "----form7MA4YWxk";
const form = (parts: [string, string][], b = boundary) =>
  Buffer.concat([...parts.map(([headers, value]) => Buffer.from(`--${b}\r\n${headers}\r\n\r\n${value}\r\n`)), Buffer.from(`--${b}--\r\n`)]);

describe("multipart model", () => {
  it("reads the boundary, quoted or not", () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b;c"')).toBe("a b;c");
    expect(multipartBoundary("application/json")).toBeUndefined();
  });

  it("finds the model field among file parts and rewrites it alone", () => {
    const audio = Buffer.alloc(4096, 0x41).toString("latin1");
    const body = form([
      ['Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav', audio],
      ['Content-Disposition: form-data; name="model"', "whisper"],
      ['Content-Disposition: form-data; name="language"', "en"],
    ]);
    const contentType = `multipart/form-data; boundary=${boundary}`;
    const lookup = findCallDeployment("/openai/v1/audio/transcriptions", "/openai/v1/audio/transcriptions", contentType, body);
    expect(lookup.kind === "deployment" && lookup.deployment).toMatchObject({ name: "whisper", where: "multipart" });
    if (lookup.kind !== "deployment") return;
    const rewritten = bodyBytes(bodyFor(body, lookup.deployment, "whisper-eu"));
    expect(rewritten.toString("latin1")).toBe(body.toString("latin1").replace("\r\n\r\nwhisper\r\n", "\r\n\r\nwhisper-eu\r\n"));
  });

  it("does not take a field whose name merely contains model, and refuses two model fields", () => {
    const other = form([['Content-Disposition: form-data; name="model_version"', "x"]]);
    expect(findMultipartModel(other, boundary)).toEqual({ kind: "absent" });
    const twice = form([
      ['Content-Disposition: form-data; name="model"', "a"],
      ['Content-Disposition: form-data; name="model"', "b"],
    ]);
    expect(findMultipartModel(twice, boundary)).toEqual({ kind: "duplicate" });
  });
});
