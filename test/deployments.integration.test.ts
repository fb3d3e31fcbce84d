// Deployments per backend, end to end with the official SDK: `AzureOpenAI` (deployment paths) and
// `OpenAI` on `<router>/openai/v1/` (the deployment in the body's model) -> router -> simulated
// regions that each hold only some deployments, under their own names.

import { NotFoundError } from "openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Azurite } from "./helpers/azurite";
import { type Harness, type RegionSpec, type Regions, simulatorOf, startHarness, startRegions, until } from "./helpers/harness";
import { sharedAzurite } from "./helpers/sharedAzurite";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const messages = [{ role: "user" as const, content: "Hello" }];

/** The demo's shape: a PTU with the chat model under another name; two regions with chat and embeddings. */
const mixedEstate: RegionSpec[] = [
  { priority: 1, deployments: ["gpt-4o-ptu"], routerDeployments: { "gpt-4o": "gpt-4o-ptu" } },
  {
    priority: 2,
    deployments: ["gpt-4o", "te3-large"],
    routerDeployments: { "gpt-4o": "gpt-4o", "text-embedding-3-large": { name: "te3-large", priority: 1 } },
  },
  {
    priority: 2,
    deployments: ["gpt-4o", "te3-large"],
    routerDeployments: { "gpt-4o": "gpt-4o", "text-embedding-3-large": { name: "te3-large", priority: 1 } },
  },
];

const sim = simulatorOf;

describe("deployments per backend (AzureOpenAI, deployment paths)", () => {
  it("sends the caller's name to each backend under that backend's own name, and says which served", async () => {
    h = await startHarness({ regions: mixedEstate });
    const { data, response } = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from region-0.");
    expect(response.headers.get("x-served-by")).toBe("region-0");
    expect(response.headers.get("x-served-deployment")).toBe("gpt-4o-ptu");
    expect(sim(h, 0).received.at(-1)?.url).toBe("/openai/deployments/gpt-4o-ptu/chat/completions?api-version=2024-10-21");
  });

  it("routes a deployment only to the backends that have it, by the deployment's own priority", async () => {
    h = await startHarness({ regions: mixedEstate });
    for (let i = 0; i < 6; i++) {
      const { response } = await h.client().embeddings.create({ model: "text-embedding-3-large", input: "x" }).withResponse();
      expect(response.headers.get("x-served-deployment")).toBe("te3-large");
    }
    expect(sim(h, 0).requestCount).toBe(0);
    expect(sim(h, 1).requestCount + sim(h, 2).requestCount).toBe(6);
  });

  it("answers 404 DeploymentNotFound for a name no backend serves (even one that exists only at a backend), calling none", async () => {
    h = await startHarness({ regions: mixedEstate });
    for (const model of ["o3-mini", "gpt-4o-ptu"]) {
      const error = await h
        .client()
        .chat.completions.create({ model, messages })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe("DeploymentNotFound");
    }
    expect(h.sims.reduce((n, s) => n + s.requestCount, 0)).toBe(0);
  });

  it("keeps chat on the PTU while its embeddings deployment is throttled at the same backend", async () => {
    h = await startHarness({
      regions: [
        { priority: 1, routerDeployments: { "gpt-4o": "gpt-4o-ptu", embeddings: "te3" } },
        { priority: 2, routerDeployments: { "gpt-4o": "gpt-4o", embeddings: "te3" } },
      ],
    });
    sim(h, 0).setFault({ kind: "throttle", retryAfterSeconds: 30 }, "te3");
    const embedded = await h.client().embeddings.create({ model: "embeddings", input: "x" }).withResponse();
    expect(embedded.response.headers.get("x-served-by")).toBe("region-1");
    const chat = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(chat.response.headers.get("x-served-by")).toBe("region-0");
    const status = await h.status();
    const ptu = status.backends[0];
    expect(ptu?.state).toBe("closed");
    expect(ptu?.deployments.map((d) => [d.name, d.state, d.reason])).toEqual([
      ["gpt-4o-ptu", "closed", null],
      ["te3", "open", "throttled"],
    ]);
    // Exhaustion is judged over the candidates: with region-1's te3 throttled too, embeddings get 429, chat still 200.
    sim(h, 1).setFault({ kind: "throttle", retryAfterSeconds: 20 }, "te3");
    const refused = await h.post("/openai/deployments/embeddings/embeddings", { input: "x" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(19);
    expect((await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse()).response.status).toBe(200);
  });

  it("trips every deployment of a backend whose connection is refused", async () => {
    h = await startHarness({
      regions: [{ priority: 1, refused: true, routerDeployments: { "gpt-4o": "gpt-4o-ptu", embeddings: "te3" } }, { priority: 2 }],
    });
    const first = await h.client().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(first.response.headers.get("x-router-attempts")).toBe("2");
    const embedded = await h.client().embeddings.create({ model: "embeddings", input: "x" }).withResponse();
    // Straight to region-1: the refused backend is out for every deployment.
    expect(embedded.response.headers.get("x-router-attempts")).toBe("1");
    const status = await h.status();
    expect(status.backends[0]?.backendWide).toMatchObject({ state: "open", reason: "connectionError" });
    expect(status.backends[0]?.state).toBe("open");
  });
});

describe("deployments per backend (OpenAI on /openai/v1/, the deployment in the body)", () => {
  it("rewrites the body's model for each backend and leaves every other byte as sent", async () => {
    h = await startHarness({ regions: mixedEstate });
    const { data, response } = await h.v1().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from region-0.");
    expect(response.headers.get("x-served-deployment")).toBe("gpt-4o-ptu");
    const sent = sim(h, 0).received.at(-1);
    expect(sent?.url).toBe("/openai/v1/chat/completions");
    expect(JSON.parse(sent?.body.toString() ?? "{}")).toEqual({ model: "gpt-4o-ptu", messages });
  });

  it("fails over a throttled v1 call to a backend with another name for it", async () => {
    h = await startHarness({ regions: mixedEstate });
    sim(h, 0).setFault({ kind: "throttle", retryAfterSeconds: 30 }, "gpt-4o-ptu");
    const { response } = await h.v1().chat.completions.create({ model: "gpt-4o", messages }).withResponse();
    expect(response.headers.get("x-served-deployment")).toBe("gpt-4o");
    expect(response.headers.get("x-router-attempts")).toBe("2");
    const second = [sim(h, 1), sim(h, 2)].flatMap((s) => s.received).at(-1);
    expect(JSON.parse(second?.body.toString() ?? "{}").model).toBe("gpt-4o");
  });

  it("answers 404 DeploymentNotFound for a v1 model no backend serves", async () => {
    h = await startHarness({ regions: mixedEstate });
    const error = await h
      .v1()
      .embeddings.create({ model: "text-embedding-ada-002", input: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(h.sims.reduce((n, s) => n + s.requestCount, 0)).toBe(0);
  });

  it("reads and rewrites the model of a multipart upload (v1 audio transcriptions)", async () => {
    h = await startHarness({
      regions: [
        { priority: 1, deployments: ["whisper-eu"], routerDeployments: { whisper: "whisper-eu" } },
        { priority: 2, deployments: ["whisper"] },
      ],
    });
    const file = new File([Buffer.alloc(2048, 1)], "hello.wav", { type: "audio/wav" });
    const result = await h.v1().audio.transcriptions.create({ model: "whisper", file });
    expect(result.text).toBe("Transcribed by region-0 with whisper-eu.");
    const sent = sim(h, 0).received.at(-1);
    expect(sent?.body.includes(Buffer.alloc(2048, 1))).toBe(true);
  });

  it("sends calls that name no deployment to any backend by its own priority", async () => {
    h = await startHarness({ regions: mixedEstate });
    const models = await h.v1().models.list();
    // The priority-1 backend answered, with the deployments it has.
    expect(models.data[0]?.id).toBe("gpt-4o-ptu");
    expect(sim(h, 0).received.at(-1)?.url).toBe("/openai/v1/models");
  });
});

describe("shared per-deployment trips between two instances (Azurite)", () => {
  let azurite: Azurite;
  let regions: Regions;
  let other: Harness | undefined;
  beforeAll(() => {
    azurite = sharedAzurite();
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
    await regions?.close();
  });

  it("a deployment throttled at A is skipped by B within 2.5 s; B's other deployment still uses that backend", async () => {
    regions = await startRegions([
      { priority: 1, routerDeployments: { "gpt-4o": "gpt-4o-ptu", embeddings: "te3" } },
      { priority: 2, routerDeployments: { "gpt-4o": "gpt-4o", embeddings: "te3" } },
    ]);
    const env = { ROUTER_STATE: azurite.connectionString, ROUTER_STATE_TABLE: `deployments${Date.now() % 100000}` };
    h = await startHarness({ pool: regions, instance: "a", env });
    other = await startHarness({ pool: regions, instance: "b", env });
    const ptu = regions.sims[0];
    if (!ptu) throw new Error("no simulator");
    ptu.setFault({ kind: "throttle", retryAfterSeconds: 30 }, "te3");
    await h.post("/openai/deployments/embeddings/embeddings", { input: "x" });
    const b = other;
    const te3AtPtu = async () => (await b.status()).backends[0]?.deployments.find((d) => d.name === "te3");
    await until(async () => (await te3AtPtu())?.state === "open", 2_500, "B learns A's trip");
    ptu.resetCounts();
    const embedded = await b.post("/openai/deployments/embeddings/embeddings", { input: "x" });
    expect(embedded.headers.get("x-served-by")).toBe("region-1");
    expect(ptu.requestCount).toBe(0);
    const chat = await b.post("/openai/deployments/gpt-4o/chat/completions", { messages });
    expect(chat.headers.get("x-served-by")).toBe("region-0");
    expect((await b.status()).backends[0]?.deployments.find((d) => d.name === "te3")?.source).toBe("shared");
  });
});
