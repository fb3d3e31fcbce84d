// Owner routing in the router and forwarder, with a fake upstream and a fake clock: exact counts of
// who was asked, and what counts against a breaker.

import { describe, expect, it } from "vitest";
import { answer, coreRouter, fakeUpstream, testClientKey } from "../../../test/helpers/coreRouter";
import type { RouterRequest } from "../request/exchange";
import { isNotFoundAnswer } from "../routing/attemptOutcome";

const three = {
  backends: [
    { name: "a", url: "https://a.example" },
    { name: "b", url: "https://b.example" },
    { name: "c", url: "https://c.example", priority: 2 },
  ],
};
const call = (method: string, url: string, body?: unknown): RouterRequest => ({
  method,
  url,
  headers: { "api-key": testClientKey, "content-type": "application/json" },
  body:
    body === undefined
      ? undefined
      : (async function* () {
          yield Buffer.from(JSON.stringify(body));
        })(),
  signal: undefined,
});
const notFoundHere = () => answer(400, {}, JSON.stringify({ error: { code: "previous_response_not_found", message: "not here" } }));
const text = async (body: unknown): Promise<string> => {
  if (body instanceof Uint8Array) return Buffer.from(body).toString();
  let out = "";
  for await (const chunk of body as AsyncIterable<Uint8Array>) out += Buffer.from(chunk).toString();
  return out;
};

describe("isNotFoundAnswer", () => {
  it("is a 404, or a 400 whose code is previous_response_not_found; nothing else", () => {
    expect(isNotFoundAnswer(404, Buffer.from("anything"))).toBe(true);
    expect(isNotFoundAnswer(400, Buffer.from('{"error":{"code":"previous_response_not_found"}}'))).toBe(true);
    expect(isNotFoundAnswer(400, Buffer.from('{"error":{"code":"invalid_value"}}'))).toBe(false);
    expect(isNotFoundAnswer(400, Buffer.from("not json"))).toBe(false);
    expect(isNotFoundAnswer(410, Buffer.from("{}"))).toBe(false);
  });
});

describe("owner routing", () => {
  it("sends a follow-up to the known owner only, whatever the weights", async () => {
    const upstream = fakeUpstream(() => answer(200, {}, '{"id":"resp_2"}'));
    const { router, owners } = coreRouter(three, upstream);
    owners.learn("resp_1", "c");
    const { response, summary } = await router.handle(
      call("POST", "/openai/v1/responses", { model: "gpt-4o", input: "hi", previous_response_id: "resp_1" }),
    );
    expect(response.status).toBe(200);
    expect(summary).toMatchObject({ backend: "c", attempts: 1 });
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://c.example"]);
  });

  it("answers 429 with the owner's Retry-After when the owner is throttled, and tries no other backend", async () => {
    const upstream = fakeUpstream(() => answer(429, { "retry-after": "17" }));
    const { router, owners, board, clock } = coreRouter(three, upstream);
    owners.learn("resp_1", "a");
    const first = await router.handle(call("GET", "/openai/responses/resp_1?api-version=preview"));
    expect(first.response.status).toBe(429);
    expect(first.response.headers["retry-after"]).toBe("17");
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://a.example"]);
    // Tripped: the next call is answered without a backend call.
    clock.advance(2_000);
    const second = await router.handle(call("GET", "/openai/responses/resp_1/input_items"));
    expect(second.response.status).toBe(429);
    expect(second.response.headers["retry-after"]).toBe("15");
    // Worded for what it is: one resource holds the object, not "every backend".
    expect(await text(second.response.body)).toContain("The backend that holds this object is throttled");
    expect(upstream.sent).toHaveLength(1);
    expect(board.isOpen(0, undefined, clock.now())).toBe(true);
  });

  it("answers 503 when the owner is failing (a 5xx, not a throttle)", async () => {
    const upstream = fakeUpstream(() => answer(500));
    const { router, owners } = coreRouter(three, upstream);
    owners.learn("file-1", "b");
    const { response } = await router.handle(call("GET", "/openai/files/file-1"));
    expect(response.status).toBe(503);
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://b.example"]);
  });

  it("asks each candidate once, in priority order, when the owner is unknown; not-found trips nothing; the finder is remembered", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://c.example" ? answer(200, {}, '{"id":"resp_9"}') : notFoundHere()));
    const { router, board, clock } = coreRouter(three, upstream);
    const body = { model: "gpt-4o", input: "hi", previous_response_id: "resp_x" };
    const { response, summary } = await router.handle(call("POST", "/openai/v1/responses", body));
    expect(response.status).toBe(200);
    expect(summary).toMatchObject({ backend: "c", attempts: 3 });
    expect(upstream.sent.map((s) => s.origin).slice(2)).toEqual(["https://c.example"]);
    expect(new Set(upstream.sent.slice(0, 2).map((s) => s.origin))).toEqual(new Set(["https://a.example", "https://b.example"]));
    for (const i of [0, 1, 2]) expect(board.isOpen(i, "gpt-4o", clock.now())).toBe(false);
    upstream.sent.length = 0;
    await router.handle(call("POST", "/openai/v1/responses", body));
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://c.example"]);
  });

  it("asks every candidate even past retry.count, and passes on the last not-found when none has the object", async () => {
    const upstream = fakeUpstream(() => answer(404, {}, '{"error":{"code":"not_found","message":"nope"}}'));
    const { router } = coreRouter({ ...three, retry: { count: 0 } }, upstream);
    const { response, summary } = await router.handle(call("GET", "/openai/v1/files/file-zz"));
    expect(response.status).toBe(404);
    expect(await text(response.body)).toContain("nope");
    expect(response.headers["x-router-attempts"]).toBe("3");
    expect(summary).toMatchObject({ outcome: "notFound", attempts: 3 });
    expect(upstream.sent).toHaveLength(3);
  });

  it("while asking, a throttled candidate may be the owner: 429 with its Retry-After, not a 404", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://b.example" ? answer(429, { "retry-after": "9" }) : answer(404)));
    const { router } = coreRouter(three, upstream);
    const { response } = await router.handle(call("GET", "/openai/v1/responses/resp_q"));
    expect(response.status).toBe(429);
    expect(response.headers["retry-after"]).toBe("9");
    expect(upstream.sent).toHaveLength(3);
  });

  it("treats an owner no longer in the pool as unknown: the backends are asked", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://b.example" ? answer(200) : answer(404)));
    const { router, owners } = coreRouter(three, upstream);
    owners.learn("resp_1", "removed-backend");
    const { summary } = await router.handle(call("GET", "/openai/v1/responses/resp_1"));
    expect(summary).toMatchObject({ backend: "b", outcome: "served" });
    expect((await owners.find("resp_1"))?.backend).toBe("b");
  });

  it("passes on a 400 that is not a not-found at once, body intact", async () => {
    const upstream = fakeUpstream(() => answer(400, {}, '{"error":{"code":"invalid_value","message":"bad input"}}'));
    const { router } = coreRouter(three, upstream);
    const { response } = await router.handle(call("POST", "/openai/v1/responses", { model: "m", previous_response_id: "resp_1" }));
    expect(response.status).toBe(400);
    expect(await text(response.body)).toContain("bad input");
    expect(upstream.sent).toHaveLength(1);
  });

  it("learns the owner of a created object from the answer, and forgets the shared record on a delete", async () => {
    const upstream = fakeUpstream((origin) => answer(200, {}, origin === "https://a.example" ? '{"id":"file-new","object":"file"}' : "{}"));
    const { router, owners, store } = coreRouter({ backends: [{ name: "a", url: "https://a.example" }] }, upstream);
    const created = await router.handle(call("POST", "/openai/files", { purpose: "batch" }));
    expect(await text(created.response.body)).toContain("file-new");
    expect(await owners.find("file-new")).toEqual({ backend: "a", creator: "default" });
    // Written before the answer went on: nothing pending, the store has it already.
    expect(owners.status()).toMatchObject({ pending: 0, recordedBeforeAnswer: 1 });
    expect(await store.readOwner("file-new")).toEqual({ backend: "a", creator: "default" });
    const deleted = await router.handle(call("DELETE", "/openai/files/file-new"));
    expect(deleted.response.status).toBe(200);
    await owners.stop();
    expect(await store.readOwner("file-new")).toBeUndefined();
  });

  it("sends a Responses call naming a conversation (string or {id}) to the conversation's owner", async () => {
    const upstream = fakeUpstream(() => answer(200, {}, '{"id":"resp_9"}'));
    const { router, owners } = coreRouter(three, upstream);
    owners.learn("conv_1", "b");
    await router.handle(call("POST", "/openai/v1/responses", { model: "gpt-4o", input: "hi", conversation: "conv_1" }));
    await router.handle(call("POST", "/openai/v1/responses", { model: "gpt-4o", input: "hi", conversation: { id: "conv_1" } }));
    await router.handle(call("GET", "/openai/v1/conversations/conv_1/items"));
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://b.example", "https://b.example", "https://b.example"]);
  });

  it("holds back a call on an id path only for a whole-backend or no-deployment trip at the owner, not a deployment's", async () => {
    const upstream = fakeUpstream(() => answer(200, {}, "{}"));
    const { router, owners, board, clock } = coreRouter(three, upstream);
    owners.learn("resp_1", "a");
    board.recordFailure(0, "gpt-4o", { reason: "throttled", status: 429, retryAfterMs: 30_000 }, clock.now());
    expect((await router.handle(call("GET", "/openai/v1/responses/resp_1"))).response.status).toBe(200);
    // A follow-up naming that deployment is held back by its trip at the owner.
    const follow = await router.handle(call("POST", "/openai/v1/responses", { model: "gpt-4o", previous_response_id: "resp_1" }));
    expect(follow.response.status).toBe(429);
    board.recordFailure(0, undefined, { reason: "serverError", status: 500 }, clock.now());
    expect((await router.handle(call("GET", "/openai/v1/responses/resp_1"))).response.status).toBe(503);
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://a.example"]);
  });

  it("never looks up owners for calls that refer to nothing stored", async () => {
    const upstream = fakeUpstream(() => answer(200));
    const { router, owners } = coreRouter(three, upstream);
    await router.handle(call("POST", "/openai/deployments/gpt-4o/chat/completions", { messages: [] }));
    await router.handle(call("POST", "/openai/v1/embeddings", { model: "e", input: "x" }));
    await router.handle(call("GET", "/openai/v1/files"));
    expect(owners.status()).toMatchObject({ reads: 0, known: 0, pending: 0 });
  });

  it("recovers from an owner row naming the wrong backend: after its 404 the others are asked, each once, the owner not again", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://c.example" ? answer(200, {}, '{"id":"resp_1"}') : answer(404)));
    const { router, owners, store } = coreRouter(three, upstream);
    await store.writeOwners([{ id: "resp_1", backend: "a", creator: "default" }]);
    const first = await router.handle(call("GET", "/openai/v1/responses/resp_1"));
    expect(first.response.status).toBe(200);
    expect(first.response.headers["x-served-by"]).toBe("c");
    expect(upstream.sent.map((s) => s.origin).filter((o) => o === "https://a.example")).toHaveLength(1);
    expect(first.response.headers["x-router-attempts"]).toBe("3");
    // Learned where it really is, creator kept: the next call goes there alone.
    expect(await owners.find("resp_1")).toMatchObject({ backend: "c", creator: "default" });
    upstream.sent.length = 0;
    expect((await router.handle(call("GET", "/openai/v1/responses/resp_1"))).response.status).toBe(200);
    expect(upstream.sent.map((s) => s.origin)).toEqual(["https://c.example"]);
  });

  it("keeps a deleted object's former owner: its 404 is the answer, in one attempt", async () => {
    const upstream = fakeUpstream(() => answer(404));
    const { router, owners } = coreRouter(three, upstream);
    owners.learn("resp_2", "a", "default");
    owners.forget("resp_2");
    const { response } = await router.handle(call("GET", "/openai/v1/responses/resp_2"));
    expect(response.status).toBe(404);
    expect(upstream.sent).toHaveLength(1);
  });

  it("treats a wrong owner's 400 previous_response_not_found like its 404: the others are asked", async () => {
    const upstream = fakeUpstream((origin) => (origin === "https://b.example" ? answer(200, {}, '{"id":"resp_9"}') : notFoundHere()));
    const { router, store } = coreRouter(three, upstream);
    await store.writeOwners([{ id: "resp_1", backend: "a", creator: "default" }]);
    const { response } = await router.handle(call("POST", "/openai/v1/responses", { model: "m", previous_response_id: "resp_1" }));
    expect(response.status).toBe(200);
    expect(response.headers["x-served-by"]).toBe("b");
  });

  it("drops a record no candidate confirms, so the next call reads the store again", async () => {
    const upstream = fakeUpstream(() => answer(404));
    const { router, owners, store } = coreRouter(three, upstream);
    await store.writeOwners([{ id: "resp_7", backend: "a", creator: "default" }]);
    const { response, summary } = await router.handle(call("GET", "/openai/v1/responses/resp_7"));
    expect(response.status).toBe(404);
    expect(summary?.outcome).toBe("notFound");
    expect(upstream.sent).toHaveLength(3);
    const reads = owners.status().reads;
    await router.handle(call("GET", "/openai/v1/responses/resp_7"));
    expect(owners.status().reads).toBe(reads + 1);
  });

  it("refunds a client's call the router answered itself because the owner is throttled", async () => {
    const team = {
      name: "team",
      deployments: undefined,
      limits: { requestsPerMinute: 10, tokensPerMinute: undefined },
      seesAllClients: false,
    };
    const upstream = fakeUpstream(() => answer(429, { "retry-after": "30" }));
    const { router, owners, limiter } = coreRouter(three, upstream, { clients: [{ client: team, keys: ["team-key"] }] });
    owners.learn("resp_1", "a", "team");
    const asTeam = { ...call("GET", "/openai/v1/responses/resp_1"), headers: { "api-key": "team-key" } };
    const { response, summary } = await router.handle(asTeam);
    expect(response.status).toBe(429);
    expect(summary?.outcome).toBe("exhausted");
    expect(limiter.view(team).team?.requests).toBe(0);
  });
});
