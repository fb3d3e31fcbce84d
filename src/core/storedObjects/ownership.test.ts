import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../../adapters/memoryStateStore";
import { type Client, operatorsClient } from "../clients/clientAuth";
import { OwnerBook } from "./ownerBook";
import { checkOwnership, missingObjectAnswer } from "./ownership";
import { storedObjectCall } from "./storedObject";

const clock = { now: () => 1_700_000_000_000 };
const alice: Client = { name: "alice", deployments: undefined, limits: undefined, seesAllClients: false };
const bob: Client = { name: "bob", deployments: undefined, limits: undefined, seesAllClients: false };
const body = (r: { body: unknown }) => JSON.parse(Buffer.from(r.body as Uint8Array).toString());

function book() {
  const store = new MemoryStateStore(clock, 60_000);
  return { store, owners: new OwnerBook(store) };
}

describe("checkOwnership", () => {
  it("lets the creator and the operators through, with the owner's record", async () => {
    const { owners } = book();
    owners.learn("resp_1", "east", "alice");
    const call = storedObjectCall("GET", "/openai/v1/responses/resp_1", undefined);
    if (!call) throw new Error("a stored-object call");
    expect(await checkOwnership(owners, alice, call)).toEqual({ record: { backend: "east", creator: "alice" } });
    expect(await checkOwnership(owners, operatorsClient, call)).toEqual({ record: { backend: "east", creator: "alice" } });
  });

  it("answers another client's object exactly as a missing one, after one store read either way", async () => {
    const { owners, store } = book();
    owners.learn("resp_1", "east", "alice");
    const theirs = storedObjectCall("GET", "/openai/v1/responses/resp_1", undefined);
    const nowhere = storedObjectCall("GET", "/openai/v1/responses/resp_9", undefined);
    if (!theirs || !nowhere) throw new Error("stored-object calls");
    const readsBefore = store.counts.reads;
    const a = await checkOwnership(owners, bob, theirs);
    expect(store.counts.reads - readsBefore).toBe(1);
    const b = await checkOwnership(owners, bob, nowhere);
    expect(store.counts.reads - readsBefore).toBe(2);
    if (!("refused" in a) || !("refused" in b)) throw new Error("both refused");
    expect(a.refused.status).toBe(404);
    expect(body(a.refused).error.code).toBe(body(b.refused).error.code);
    expect(body(a.refused).error.message).toBe("Response with id 'resp_1' not found.");
  });

  it("checks every object a body names, and answers a previous response as the service does", async () => {
    const { owners } = book();
    owners.learn("resp_1", "east", "bob");
    owners.learn("conv_1", "east", "alice");
    const call = storedObjectCall("POST", "/openai/v1/responses", { previous_response_id: "resp_1", conversation: "conv_1" });
    if (!call) throw new Error("a stored-object call");
    const check = await checkOwnership(owners, bob, call);
    if (!("refused" in check)) throw new Error("refused");
    expect(check.refused.status).toBe(404);
    expect(body(check.refused).error.message).toBe("Conversation with id 'conv_1' not found.");
    const previous = missingObjectAnswer({ id: "resp_1", field: "previous_response_id" }, "responses");
    expect(previous.status).toBe(400);
    expect(body(previous).error).toMatchObject({ code: "previous_response_not_found", param: "previous_response_id" });
  });

  it("keeps an object whose creator is unknown to the operators", async () => {
    const { owners } = book();
    owners.learn("file-1", "east");
    const call = storedObjectCall("GET", "/openai/v1/files/file-1/content", undefined);
    if (!call) throw new Error("a stored-object call");
    expect("refused" in (await checkOwnership(owners, alice, call))).toBe(true);
    expect("refused" in (await checkOwnership(owners, operatorsClient, call))).toBe(false);
  });
});
