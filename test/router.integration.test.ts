// The contract, end to end over real HTTP on loopback: the official SDK -> router (Node host) -> simulated regions.

import { describe, expect, it } from "vitest";
import { chatPath, clientKey, type Harness, helloMessages, simulatorOf, sleep, startHarness } from "./helpers/harness";
import { closeAfterEach } from "./helpers/perTest";

let h: Harness;
closeAfterEach(() => h);

const messages = helloMessages;

const sim = (i: number) => simulatorOf(h, i);

describe("forwarding with the official SDK", () => {
  it("answers a chat completion and says who served it", async () => {
    h = await startHarness({ regions: [{}] });
    const { data, response } = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from region-0.");
    expect(response.headers.get("x-served-by")).toBe("region-0");
    expect(response.headers.get("x-router-attempts")).toBe("1");
    expect(response.headers.get("x-ms-region")).toBe("region-0");
    // The backend's own budget passes through (the simulator counts as Azure does).
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("6000");
    expect(Number(response.headers.get("x-ratelimit-remaining-requests"))).toBeLessThan(6000);
    expect(response.headers.get("apim-request-id")).toBeTruthy();
  });

  it("streams a chat completion chunk by chunk as the backend sends it", async () => {
    h = await startHarness({ regions: [{ streamChunks: 6, streamChunkDelayMs: 80 }] });
    const stream = await h.client().chat.completions.create({ model: "gpt-4o", messages, stream: true });
    const arrivals: number[] = [];
    let text = "";
    for await (const chunk of stream) {
      arrivals.push(Date.now());
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("region-0-1 region-0-2 region-0-3 region-0-4 region-0-5 ");
    // Azure's framing: a first chunk of prompt filter results, the role, five deltas, the finish,
    // and the content filter's results after it.
    expect(arrivals.length).toBe(9);
    // Buffering would deliver everything at once; streamed chunks arrive ~80 ms apart.
    const first = arrivals[0] ?? 0;
    const last = arrivals[arrivals.length - 1] ?? 0;
    expect(last - first).toBeGreaterThan(300);
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? 0));
    expect(gaps.filter((g) => g >= 40).length).toBeGreaterThanOrEqual(4);
  });

  it("answers embeddings", async () => {
    h = await startHarness({ regions: [{}] });
    const result = await h.client().embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding[0]).toBeCloseTo(0.1);
  });

  it("forwards /openai/v1 paths and the Responses API with path and query unchanged", async () => {
    h = await startHarness({ regions: [{}] });
    const v1 = await h.post("/openai/v1/chat/completions?foo=bar%20baz&x=1", { model: "gpt-4o", messages });
    expect(v1.status).toBe(200);
    expect(sim(0).received.at(-1)?.url).toBe("/openai/v1/chat/completions?foo=bar%20baz&x=1");
    const responses = await h.post("/openai/v1/responses", { model: "gpt-4o", input: "hi" });
    expect(((await responses.json()) as { object: string }).object).toBe("response");
    const get = await fetch(`${h.url}/openai/v1/models`, { headers: { "api-key": clientKey } });
    expect(get.status).toBe(200);
    expect(sim(0).received.at(-1)?.method).toBe("GET");
  });
});

describe("credentials", () => {
  it("never forwards the caller's key; each backend gets its own", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "error", status: 500 });
    await h.post(chatPath, { messages }, { authorization: `Bearer ${clientKey}`, "api-key": clientKey });
    const seen = [sim(0).received[0], sim(1).received[0]];
    expect(seen[0]?.headers["api-key"]).toBe(h.backendKeys[0]);
    expect(seen[1]?.headers["api-key"]).toBe(h.backendKeys[1]);
    for (const request of seen) {
      expect(request?.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request?.headers)).not.toContain(clientKey);
    }
  });

  it("sends no credential to an auth.type none backend, and still not the caller's", async () => {
    h = await startHarness({ regions: [{ auth: { type: "none" }, apiKey: undefined }] });
    const response = await h.post(chatPath, { messages }, { authorization: `Bearer ${clientKey}` });
    expect(response.status).toBe(200);
    const headers = sim(0).received[0]?.headers ?? {};
    expect(headers["api-key"]).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
  });

  it("serves callers without a key when ROUTER_ALLOW_ANONYMOUS=true and no keys are set", async () => {
    h = await startHarness({ regions: [{}], env: { ROUTER_CLIENT_KEYS: "", ROUTER_ALLOW_ANONYMOUS: "true" } });
    const response = await fetch(`${h.url}${chatPath}`, { method: "POST", body: JSON.stringify({ messages }) });
    expect(response.status).toBe(200);
    expect(sim(0).received[0]?.headers["api-key"]).toBe(h.backendKeys[0]);
  });

  it("accepts the client key as Authorization: Bearer", async () => {
    h = await startHarness({ regions: [{}] });
    const response = await fetch(`${h.url}${chatPath}`, {
      method: "POST",
      headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ messages }),
    });
    expect(response.status).toBe(200);
  });

  it("answers 401 for a missing or wrong key before any backend traffic", async () => {
    h = await startHarness({ regions: [{}] });
    const missing = await fetch(`${h.url}${chatPath}`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("Unauthorized");
    await expect(h.client({ apiKey: "wrong" }).chat.completions.create({ model: "gpt-4o", messages })).rejects.toMatchObject({
      status: 401,
    });
    const status = await fetch(`${h.url}/status`);
    expect(status.status).toBe(401);
    expect(sim(0).requestCount).toBe(0);
  });
});

describe("failover", () => {
  it("moves to the next backend at once on a 429 and keeps the throttled one out for its Retry-After", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "throttle", retryAfterSeconds: 30 });
    const started = Date.now();
    const { response } = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(response.headers.get("x-served-by")).toBe("region-1");
    expect(response.headers.get("x-router-attempts")).toBe("2");
    for (let i = 0; i < 5; i++) await h.client().chat.completions.create({ model: "gpt-4o", messages });
    expect(sim(0).requestCount).toBe(1);
    expect(sim(1).requestCount).toBe(6);
    const status = (await (await fetch(`${h.url}/status`, { headers: { "api-key": clientKey } })).json()) as {
      backends: { name: string; state: string; reason: string; lastStatus: number; openUntil: string }[];
    };
    expect(status.backends[0]).toMatchObject({ name: "region-0", state: "open", reason: "throttled", lastStatus: 429 });
    const openFor = Date.parse(status.backends[0]?.openUntil ?? "") - Date.now();
    expect(openFor).toBeGreaterThan(25_000);
    expect(openFor).toBeLessThanOrEqual(30_000);
    expect(JSON.stringify(status)).not.toContain("127.0.0.1");
  });

  it("fails over on a 5xx", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "error", status: 503 });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("region-1");
  });

  it("fails over on a refused connection", async () => {
    h = await startHarness({ regions: [{ priority: 1, refused: true }, { priority: 2 }] });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("region-1");
    expect(response.headers.get("x-router-attempts")).toBe("2");
  });

  it("fails over on a connection reset", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "reset" });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("region-1");
  });

  it("fails over when a backend hangs past attemptTimeout", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }], config: { attemptTimeout: "PT0.5S" } });
    sim(0).setFault({ kind: "hang" });
    const started = Date.now();
    const response = await h.post(chatPath, { messages });
    const took = Date.now() - started;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-served-by")).toBe("region-1");
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2500);
  });

  it("gives a tripped backend no traffic until its Retry-After passes, then traffic again", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    sim(0).setFault({ kind: "throttle", retryAfterMs: 1_200 });
    await h.post(chatPath, { messages });
    sim(0).setFault(undefined);
    for (let i = 0; i < 5; i++) expect((await h.post(chatPath, { messages })).headers.get("x-served-by")).toBe("region-1");
    expect(sim(0).requestCount).toBe(1);
    await sleep(1_300);
    const back = await h.post(chatPath, { messages });
    expect(back.headers.get("x-served-by")).toBe("region-0");
    expect(sim(0).requestCount).toBe(2);
  });

  it("sends the request body byte-for-byte the same to every backend tried", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }, { priority: 3 }] });
    sim(0).setFault({ kind: "error", status: 500 });
    sim(1).setFault({ kind: "throttle", retryAfterSeconds: 5 });
    const body = Buffer.from(`{"messages":[{"role":"user","content":"héllo ✓ ${"x".repeat(70_000)}"}],  "temperature" : 0.5 }`);
    const response = await h.post(chatPath, body);
    expect(response.headers.get("x-router-attempts")).toBe("3");
    for (const i of [0, 1, 2]) expect(Buffer.compare(sim(i).received[0]?.body ?? Buffer.alloc(0), body)).toBe(0);
  });

  it("tries at most retry.count + 1 backends", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }, { priority: 3 }], config: { retry: { count: 1 } } });
    sim(0).setFault({ kind: "error", status: 500 });
    sim(1).setFault({ kind: "error", status: 500 });
    const response = await h.post(chatPath, { messages });
    expect(response.status).toBe(503);
    expect(sim(2).requestCount).toBe(0);
  });

  it("passes through a backend's non-failure error (400) without failover", async () => {
    h = await startHarness({ regions: [{ priority: 1 }, { priority: 2 }] });
    const response = await h.post(chatPath, "{not json");
    expect(response.status).toBe(400);
    expect(response.headers.get("x-served-by")).toBe("region-0");
    expect(sim(1).requestCount).toBe(0);
  });
});
