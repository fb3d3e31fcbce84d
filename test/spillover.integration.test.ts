// Azure's own spillover: a PTU deployment with a spillover deployment answers from the latter and
// says so in its headers; the router's call line names the deployment it spilled from.

import { afterEach, describe, expect, it } from "vitest";
import type { CallSummary } from "../src/core/events";
import { spilledFrom } from "../src/core/routing/spillover";
import { chatPath, type Harness, startHarness, until } from "./helpers/harness";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("Azure's spillover headers", () => {
  it("reads both forms, and nothing from other headers", () => {
    expect(spilledFrom({ "x-ms-spillover-from-gpt-4o-ptu": "true" })).toBe("gpt-4o-ptu");
    expect(spilledFrom({ "x-ms-spillover-from-deployment": "gpt-4o-ptu" })).toBe("gpt-4o-ptu");
    expect(spilledFrom({ "x-ms-region": "East US", "x-ms-spillover-error": "x" })).toBeUndefined();
  });

  it("logs spilledFrom beside the served deployment on the call line", async () => {
    const calls: CallSummary[] = [];
    h = await startHarness({
      regions: [
        { priority: 1, answerHeaders: { "x-ms-spillover-from-gpt-4o-ptu": "true" }, routerDeployments: { "gpt-4o": "gpt-4o-ptu" } },
      ],
      onCall: (s) => calls.push(s),
    });
    expect((await h.post(chatPath, { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
    await until(() => calls.length > 0, 2_000);
    expect(calls[0]).toMatchObject({ spilledFrom: "gpt-4o-ptu", servedDeployment: "gpt-4o-ptu", backend: "region-0" });
  });
});
