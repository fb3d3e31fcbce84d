// Allow-lists hold on every path: a client allowed only gpt-4o tries, over real sockets, every way
// around its list that the service would still read as o3-mini — a JSON body labelled text/plain
// or unlabelled with a leading space, multipart bodies with two boundaries or two model parts,
// empty or miscased path segments, a batch whose input file names o3-mini, a blob batch, calls that
// name no deployment — and each is refused before any backend call. Methods the API does not use
// are 405 for everyone; the operators still reach everything.

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientKey, type Harness, startHarness } from "../helpers/harness";

let h: Harness;
const teamKey = "team-key";
beforeAll(async () => {
  h = await startHarness({
    regions: [{ priority: 1 }],
    config: { clients: [{ name: "team", keySetting: "TEAM_KEYS", deployments: ["gpt-4o"] }] },
    env: { TEAM_KEYS: teamKey },
  });
});
afterAll(async () => h.close());

const backendCalls = () => h.sims[0]?.requestCount ?? 0;

async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const response = await fetch(`${h.url}${path}`, {
    method: init.method ?? "POST",
    headers: { "api-key": teamKey, ...init.headers },
    body: init.body,
  });
  const text = await response.text();
  return { status: response.status, code: text ? (JSON.parse(text).error?.code as string | undefined) : undefined, response };
}

function multipart(boundary: string, parts: [string, string, string?][]): Buffer {
  const lines = parts.map(
    ([name, value, filename]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ""}\r\n\r\n${value}\r\n`,
  );
  return Buffer.from(`${lines.join("")}--${boundary}--\r\n`);
}

const chatV1 = "/openai/v1/chat/completions";
const o3 = JSON.stringify({ model: "o3-mini", messages: [{ role: "user", content: "hi" }] });

describe("a client allowed only gpt-4o", () => {
  const refused: [string, () => Promise<{ status: number; code: string | undefined }>, number, string][] = [
    [
      "a JSON body labelled text/plain",
      () => send(chatV1, { headers: { "content-type": "text/plain" }, body: o3 }),
      403,
      "DeploymentNotAllowed",
    ],
    ["an unlabelled JSON body with a leading space", () => send(chatV1, { body: ` ${o3}` }), 403, "DeploymentNotAllowed"],
    [
      "a multipart body with two boundary parameters",
      () =>
        send("/openai/v1/audio/transcriptions", {
          headers: { "content-type": "multipart/form-data; boundary=a; boundary=b" },
          body: multipart("a", [["model", "gpt-4o"]]),
        }),
      400,
      "BadRequest",
    ],
    [
      "a multipart body with two model parts",
      () =>
        send("/openai/v1/audio/transcriptions", {
          headers: { "content-type": "multipart/form-data; boundary=a" },
          body: multipart("a", [
            ["model", "gpt-4o"],
            ["model", "o3-mini"],
          ]),
        }),
      400,
      "BadRequest",
    ],
    [
      "an empty path segment",
      () => send("/openai/deployments//o3-mini/chat/completions?api-version=2024-10-21", { body: "{}" }),
      400,
      "BadRequest",
    ],
    [
      "Deployments capitalised",
      () => send("/openai/Deployments/o3-mini/chat/completions?api-version=2024-10-21", { body: "{}" }),
      400,
      "BadRequest",
    ],
    ["Files capitalised", () => send("/openai/v1/Files", { method: "GET" }), 400, "BadRequest"],
    [
      "a batch input file naming o3-mini",
      () =>
        send("/openai/v1/files", {
          headers: { "content-type": "multipart/form-data; boundary=x" },
          body: multipart("x", [
            ["purpose", "batch"],
            [
              "file",
              `${JSON.stringify({ custom_id: "1", method: "POST", url: "/chat/completions", body: { model: "gpt-4o" } })}\n${JSON.stringify({ custom_id: "2", method: "POST", url: "/chat/completions", body: { model: "o3-mini" } })}\n`,
              "batch.jsonl",
            ],
          ]),
        }),
      403,
      "DeploymentNotAllowed",
    ],
    [
      "a batch from a blob",
      () =>
        send("/openai/v1/batches", {
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ input_blob: "https://x.blob.core.windows.net/in/a.jsonl", endpoint: "/chat/completions" }),
        }),
      403,
      "DeploymentNotAllowed",
    ],
    ["fine-tuning", () => send("/openai/v1/fine_tuning/jobs", { method: "GET" }), 403, "OperationNotAllowed"],
    ["deployment management", () => send("/openai/deployments?api-version=2022-12-01", { method: "GET" }), 403, "OperationNotAllowed"],
    ["assistants", () => send("/openai/assistants?api-version=2024-05-01-preview", { method: "GET" }), 403, "OperationNotAllowed"],
    ["stored chat completions", () => send("/openai/v1/chat/completions", { method: "GET" }), 403, "OperationNotAllowed"],
    ["realtime sessions", () => send("/openai/v1/realtime/sessions", { body: "{}" }), 403, "OperationNotAllowed"],
  ];
  for (const [name, call, status, code] of refused) {
    it(`is refused ${status} ${code} for ${name}, before any backend call`, async () => {
      const before = backendCalls();
      const answer = await call();
      expect({ status: answer.status, code: answer.code }).toEqual({ status, code });
      expect(backendCalls()).toBe(before);
    });
  }

  it("still calls gpt-4o, lists models and uploads a batch file that names only gpt-4o", async () => {
    expect((await send(chatV1, { headers: { "content-type": "text/plain" }, body: o3.replace("o3-mini", "gpt-4o") })).status).toBe(200);
    expect((await send("/openai/v1/models", { method: "GET" })).status).toBe(200);
    const upload = await send("/openai/v1/files", {
      headers: { "content-type": "multipart/form-data; boundary=x" },
      body: multipart("x", [
        ["purpose", "batch"],
        ["file", `${JSON.stringify({ custom_id: "1", method: "POST", url: "/chat/completions", body: { model: "gpt-4o" } })}\n`, "b.jsonl"],
      ]),
    });
    expect(upload.status).toBeLessThan(300);
  });
});

describe("methods", () => {
  for (const method of ["TRACE", "PROPFIND", "OPTIONS", "HEAD"]) {
    it(`answers ${method} with 405 and an Allow header, for every client, before any backend call`, async () => {
      const before = backendCalls();
      // node:http, as fetch refuses to send TRACE.
      const answer = await new Promise<{ status: number; allow: string | undefined; body: string }>((resolve, reject) => {
        const req = request(`${h.url}/openai/v1/models`, { method, headers: { "api-key": clientKey } }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }));
        });
        req.on("error", reject);
        req.end();
      });
      expect(answer.status).toBe(405);
      expect(answer.allow).toBe("GET, POST, PUT, PATCH, DELETE");
      if (method !== "HEAD") expect(JSON.parse(answer.body).error.code).toBe("MethodNotAllowed");
      expect(backendCalls()).toBe(before);
    });
  }
});

describe("the operators", () => {
  it("reach fine-tuning and deployment management, and any deployment", async () => {
    const operators = { "api-key": clientKey };
    const before = backendCalls();
    await send("/openai/v1/fine_tuning/jobs", { method: "GET", headers: operators });
    await send(chatV1, { headers: { ...operators, "content-type": "text/plain" }, body: o3 });
    expect(backendCalls()).toBe(before + 2);
  });
});
