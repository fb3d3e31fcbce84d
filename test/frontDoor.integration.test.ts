// ROUTER_FRONT_DOOR_ID: only calls that came through our Front Door (x-azure-fdid) reach a backend.

import { describe, expect, it } from "vitest";
import { chatPath, clientKey, type Harness, startHarness } from "./helpers/harness";
import { closeAfterEach } from "./helpers/perTest";

let h: Harness;
closeAfterEach(() => h);

const fdid = "9f1a2b3c-0000-4d5e-8f90-123456789abc";

describe("Front Door lock (ROUTER_FRONT_DOOR_ID)", () => {
  it("serves a call whose x-azure-fdid matches", async () => {
    h = await startHarness({ regions: [{}], env: { ROUTER_FRONT_DOOR_ID: fdid } });
    const response = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] }, { "x-azure-fdid": fdid });
    expect(response.status).toBe(200);
  });

  it("answers 403 to a missing or wrong x-azure-fdid and sends nothing to a backend", async () => {
    h = await startHarness({ regions: [{}], env: { ROUTER_FRONT_DOOR_ID: fdid } });
    const missing = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] });
    expect(missing.status).toBe(403);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("Forbidden");
    const wrong = await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] }, { "x-azure-fdid": "another-front-door" });
    expect(wrong.status).toBe(403);
    const status = await fetch(`${h.url}/status`, { headers: { "api-key": clientKey } });
    expect(status.status).toBe(403);
    expect(h.sims[0]?.requestCount).toBe(0);
  });

  it("leaves /health open for the probes", async () => {
    h = await startHarness({ regions: [{}], env: { ROUTER_FRONT_DOOR_ID: fdid } });
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    expect((await fetch(`${h.url}/health`, { method: "HEAD" })).status).toBe(200);
  });

  it("does not check the header when the setting is absent", async () => {
    h = await startHarness({ regions: [{}] });
    expect((await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
  });
});
