// The admission steps one by one, as the router runs them: each refuses the call with its answer
// or lets it go on with what it found.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../../../test/helpers/random";
import { estimateCallParts } from "../clients/callCost";
import { type Client, createClientIdentifier } from "../clients/clientAuth";
import { ClientLimiter } from "../clients/clientLimiter";
import { admitToLimits, gateClient, permissionRefusal, readCallBody } from "./admissionSteps";
import { BodyBudget } from "./bodyBudget";
import { callFamily } from "./callFamily";
import type { RouterRequest, RouterResponse } from "./exchange";
import { StallWatch } from "./stallWatch";

const app: Client = { name: "app", deployments: new Set(["gpt-4o"]), limits: undefined, seesAllClients: false };
const identify = createClientIdentifier([{ client: app, keys: ["app-key"] }], undefined);
const chatPath = "/openai/deployments/gpt-4o/chat/completions";

function request(headers: Record<string, string>, chunks: Uint8Array[] = [], fails = false): RouterRequest {
  return {
    method: "POST",
    url: chatPath,
    headers,
    body: (async function* () {
      for (const chunk of chunks) yield chunk;
      if (fails) throw new Error("socket hang up");
    })(),
    signal: undefined,
  };
}

const status = (answer: Client | RouterResponse | undefined) => (answer && "status" in answer ? answer.status : undefined);

describe("gateClient", () => {
  it("refuses a call that did not come through the configured Front Door (403) before it looks at the key", () => {
    const deps = { frontDoorId: "fd-1", identify };
    expect(status(gateClient(request({ "api-key": "app-key" }), deps))).toBe(403);
    expect(status(gateClient(request({ "api-key": "app-key", "x-azure-fdid": "fd-2" }), deps))).toBe(403);
    expect(gateClient(request({ "api-key": "app-key", "x-azure-fdid": "fd-1" }), deps)).toBe(app);
  });

  it("answers 401 with a Bearer challenge to a missing or unknown key, and names the client of a known one", () => {
    const deps = { frontDoorId: undefined, identify };
    const refused = gateClient(request({ "api-key": "wrong" }), deps);
    expect(status(refused)).toBe(401);
    expect("status" in refused && refused.headers["www-authenticate"]).toBe("Bearer");
    expect(status(gateClient(request({}), deps))).toBe(401);
    expect(gateClient(request({ authorization: "Bearer app-key" }), deps)).toBe(app);
  });
});

describe("readCallBody", () => {
  const within = (maxRequestBytes = 1_000) => ({
    maxRequestBytes,
    watch: new StallWatch({ stallMs: 5_000, clock: fakeClock() }),
    hold: { budget: new BodyBudget(1_000_000), bytes: 0 },
  });

  it("gives the body's bytes, whole", async () => {
    const body = await readCallBody(request({}, [Buffer.from('{"messages":'), Buffer.from("[]}")]), within());
    expect(Buffer.isBuffer(body) && body.toString()).toBe('{"messages":[]}');
  });

  it("refuses a body over the limit with 413, declared or as it arrives", async () => {
    const declared = await readCallBody(request({ "content-length": "5000" }), within());
    expect("response" in declared && declared.response.status).toBe(413);
    const arriving = await readCallBody(request({}, [Buffer.alloc(600), Buffer.alloc(600)]), within());
    expect("response" in arriving && arriving.response.status).toBe(413);
  });

  it("counts a body cut off mid-upload as the caller gone, not as a refusal", async () => {
    const cut = await readCallBody(request({}, [Buffer.from("{")], true), within());
    expect("outcome" in cut && cut.outcome).toBe("callerGone");
  });
});

describe("permissionRefusal", () => {
  const call = (deployment: string | undefined) => ({ family: callFamily("POST", chatPath), deployment, body: undefined, refs: undefined });

  it("lets a client call the deployments it is held to, and refuses others with 403 DeploymentNotAllowed", () => {
    expect(permissionRefusal(request({}), app, call("gpt-4o"))).toBeUndefined();
    const refused = permissionRefusal(request({}), app, call("gpt-4o-mini"));
    expect(refused?.status).toBe(403);
    expect(Buffer.from(refused?.body as Uint8Array).toString()).toContain("DeploymentNotAllowed");
  });
});

describe("admitToLimits", () => {
  const body = Buffer.from(JSON.stringify({ messages: [{ role: "user", content: "hello" }], max_tokens: 40 }));
  const call = { method: "POST", path: chatPath, body };

  it("charges a client with a token limit the call's estimate, and hands the estimate on (estimated once per call)", () => {
    const limited: Client = { ...app, limits: { tokensPerMinute: 10_000, requestsPerMinute: undefined } };
    const limiter = new ClientLimiter({ clock: fakeClock(), clients: [limited] });
    const admitted = admitToLimits(limiter, limited, call);
    const parts = estimateCallParts(call.method, call.path, call.body);
    expect("cost" in admitted && admitted.cost).toEqual(parts);
    expect(limiter.view(limited).app?.tokens).toBe(parts.prompt + parts.maxOutput);
  });

  it("estimates nothing for a client with a request limit only", () => {
    const counted: Client = { ...app, limits: { tokensPerMinute: undefined, requestsPerMinute: 100 } };
    const limiter = new ClientLimiter({ clock: fakeClock(), clients: [counted] });
    const admitted = admitToLimits(limiter, counted, call);
    expect("cost" in admitted ? admitted.cost : "refused").toBeUndefined();
    expect(limiter.view(counted).app).toMatchObject({ requests: 1, tokens: 0 });
  });

  it("answers 429 with Retry-After once the client's limit is used", () => {
    const one: Client = { ...app, limits: { tokensPerMinute: undefined, requestsPerMinute: 1 } };
    const limiter = new ClientLimiter({ clock: fakeClock(), clients: [one] });
    admitToLimits(limiter, one, call);
    const refused = admitToLimits(limiter, one, call);
    expect("refused" in refused && refused.refused.status).toBe(429);
    expect("refused" in refused && Number(refused.refused.headers["retry-after"])).toBeGreaterThan(0);
  });
});
