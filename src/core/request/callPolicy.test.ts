import { describe, expect, it } from "vitest";
import { type Client, operatorsClient } from "../clients/clientAuth";
import { callFamily, miscasedFixedSegment } from "./callFamily";
import { batchRefusal, methodRefusal, operationRefusal } from "./callPolicy";
import { unsafePathReason } from "./requestPath";

const limited: Client = { name: "team", deployments: new Set(["gpt-4o"]), limits: undefined, seesAllClients: false };
const open: Client = { name: "batch", deployments: undefined, limits: undefined, seesAllClients: false };
const code = (r: { body: unknown } | undefined) => (r ? JSON.parse(Buffer.from(r.body as Uint8Array).toString()).error.code : undefined);

describe("callFamily", () => {
  it("tells deployment calls, models, tracked and untracked stored objects and the rest apart", () => {
    expect(callFamily("POST", "/openai/deployments/d/chat/completions")).toBe("deployment");
    expect(callFamily("GET", "/openai/models")).toBe("models");
    expect(callFamily("GET", "/openai/v1/models")).toBe("models");
    expect(callFamily("GET", "/openai/v1/files/file-1/content")).toBe("files");
    expect(callFamily("POST", "/openai/batches")).toBe("batches");
    expect(callFamily("GET", "/openai/v1/responses/resp_1")).toBe("responses");
    expect(callFamily("GET", "/openai/v1/conversations/conv_1/items")).toBe("conversations");
    for (const path of [
      "/openai/assistants",
      "/openai/threads/t/runs",
      "/openai/v1/vector_stores",
      "/openai/v1/uploads",
      "/openai/v1/fine_tuning/jobs",
    ]) {
      expect(callFamily("GET", path)).toBe("untracked");
    }
    expect(callFamily("GET", "/openai/v1/chat/completions")).toBe("untracked");
    expect(callFamily("POST", "/openai/v1/chat/completions/chatcmpl-1")).toBe("untracked");
    expect(callFamily("POST", "/openai/v1/chat/completions")).toBe("other");
    expect(callFamily("GET", "/openai/deployments")).toBe("other");
  });

  it("finds fixed segments in another case, and leaves deployment names and ids alone", () => {
    expect(miscasedFixedSegment("/OpenAI/deployments/d/chat/completions")).toBe(true);
    expect(miscasedFixedSegment("/openai/Deployments/d/chat/completions")).toBe(true);
    expect(miscasedFixedSegment("/openai/V1/files")).toBe(true);
    expect(miscasedFixedSegment("/openai/v1/Files/file-1")).toBe(true);
    expect(miscasedFixedSegment("/openai/deployments/GPT-4o/chat/completions")).toBe(false);
    expect(miscasedFixedSegment("/openai/v1/files/file-ABC/content")).toBe(false);
  });

  it("refuses empty segments and trailing slashes as unsafe paths", () => {
    expect(unsafePathReason("/openai/deployments//o3-mini/chat/completions")).toMatch(/empty segment/);
    expect(unsafePathReason("/openai/v1/files/")).toMatch(/empty segment/);
    expect(unsafePathReason("/openai/v1/files")).toBeUndefined();
  });
});

describe("methodRefusal", () => {
  it("lets the API's methods through and answers others 405 with an Allow header", () => {
    for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE"]) expect(methodRefusal(m)).toBeUndefined();
    const refusal = methodRefusal("TRACE");
    expect(refusal?.status).toBe(405);
    expect(refusal?.headers.allow).toBe("GET, POST, PUT, PATCH, DELETE");
    expect(code(refusal)).toBe("MethodNotAllowed");
  });
});

describe("operationRefusal", () => {
  it("keeps untracked stored objects to the operators, whatever the client's list", () => {
    expect(code(operationRefusal(open, "untracked", false))).toBe("OperationNotAllowed");
    expect(code(operationRefusal(limited, "untracked", false))).toBe("OperationNotAllowed");
    expect(operationRefusal(operatorsClient, "untracked", false)).toBeUndefined();
  });

  it("lets a client held to some deployments list models and use files, batches and its objects; nothing else without a deployment", () => {
    for (const family of ["models", "files", "batches", "responses", "conversations"] as const) {
      expect(operationRefusal(limited, family, false)).toBeUndefined();
    }
    expect(code(operationRefusal(limited, "other", false))).toBe("OperationNotAllowed");
    expect(operationRefusal(limited, "other", true)).toBeUndefined();
    expect(operationRefusal(open, "other", false)).toBeUndefined();
  });
});

describe("batchRefusal", () => {
  const file = (lines: unknown[]) =>
    Buffer.from(
      `--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n${lines.map((l) => JSON.stringify(l)).join("\n")}\r\n--b--\r\n`,
    );
  const upload = (client: Client, body: Buffer) =>
    batchRefusal(client, { method: "POST", family: "files", contentType: "multipart/form-data; boundary=b", body, refs: undefined });

  it("checks every line's body.model of a batch file against the client's list", () => {
    expect(upload(limited, file([{ body: { model: "gpt-4o" } }, { body: { model: "gpt-4o" } }]))).toBeUndefined();
    expect(code(upload(limited, file([{ body: { model: "gpt-4o" } }, { body: { model: "o3-mini" } }])))).toBe("DeploymentNotAllowed");
    expect(code(upload(limited, file([{ body: {} }])))).toBe("DeploymentNotAllowed");
    expect(upload(open, file([{ body: { model: "o3-mini" } }]))).toBeUndefined();
  });

  it("refuses a batch from a blob for a client held to some deployments", () => {
    const refs = { input_blob: "https://a.blob.core.windows.net/c/b.jsonl" };
    expect(code(batchRefusal(limited, { method: "POST", family: "batches", contentType: "application/json", body: undefined, refs }))).toBe(
      "DeploymentNotAllowed",
    );
    expect(
      batchRefusal(open, { method: "POST", family: "batches", contentType: "application/json", body: undefined, refs }),
    ).toBeUndefined();
  });
});
