import { describe, expect, it } from "vitest";
import { BreakerBoard } from "../core/breakers/breakerBoard";
import { parseRouterConfig } from "../core/config/config";
import { demoRows, renderDemoView } from "./demoView";

const now = Date.parse("2026-01-02T10:00:00Z");

describe("demo view", () => {
  it("shows a row per backend and deployment: its breaker, calls served and failures", () => {
    const config = parseRouterConfig({
      backends: [
        { name: "eastus-ptu", url: "https://a.example", priority: 1, deployments: { "gpt-4o": "gpt-4o-ptu" } },
        {
          name: "westus",
          url: "https://b.example",
          priority: 2,
          deployments: { "gpt-4o": "gpt-4o", "text-embedding-3-large": { name: "embeddings", priority: 1 } },
        },
      ],
    });
    const board = new BreakerBoard(config.backends, config.circuitBreaker, "demo");
    for (let i = 0; i < 12; i++) board.recordSuccess(0, "gpt-4o-ptu", 200);
    board.recordFailure(0, "gpt-4o-ptu", { reason: "throttled", status: 429, retryAfterMs: 1_000 }, now);
    for (let i = 0; i < 40; i++) board.recordSuccess(1, "gpt-4o", 200);
    board.recordSuccess(1, "embeddings", 200);
    const lines = renderDemoView(demoRows(board.view(now), config.backends), now)
      .trimEnd()
      .split("\n");
    expect(lines[0]).toContain("10:00:00");
    expect(lines[2]).toMatch(/^eastus-ptu\s+gpt-4o-ptu\s+1\s+OPEN until 10:00:01 \(throttled\)\s+12\s+1\s+429$/);
    expect(lines[3]).toMatch(/^westus\s+gpt-4o\s+2\s+closed\s+40\s+0\s+200$/);
    expect(lines[4]).toMatch(/^westus\s+embeddings\s+1\s+closed\s+1\s+0\s+200$/);
  });

  it("shows what the router expects a throttling deployment to admit, and the share it sent on", () => {
    const config = parseRouterConfig({
      backends: [{ name: "eastus-ptu", url: "https://a.example", deployments: { "gpt-4o": "gpt-4o-ptu" } }],
    });
    const board = new BreakerBoard(config.backends, config.circuitBreaker, "demo");
    board.recordSuccess(0, "gpt-4o-ptu", 200);
    const capacity = [
      {
        backend: "eastus-ptu",
        deployment: "gpt-4o-ptu",
        tokensPerMinute: 108_400,
        burstTokens: 500,
        utilization: 80,
        sent: 60,
        skipped: 40,
        refused: 2,
        spillShare: 0.4,
      },
    ];
    const lines = renderDemoView(demoRows(board.view(now), config.backends, capacity), now)
      .trimEnd()
      .split("\n");
    expect(lines[1]).toMatch(/admits$/);
    expect(lines[2]).toMatch(/200\s+~108k tok\/min, 40% sent on$/);
  });

  it("shows a whole-backend trip on every row of that backend", () => {
    const config = parseRouterConfig({ backends: [{ name: "eastus", url: "https://a.example" }] });
    const board = new BreakerBoard(config.backends, config.circuitBreaker, "demo");
    board.recordSuccess(0, "gpt-4o", 200);
    board.recordSuccess(0, "embeddings", 200);
    board.recordFailure(0, "gpt-4o", { reason: "connectionError" }, now);
    const rows = demoRows(board.view(now), config.backends);
    expect(rows.map((r) => [r.deployment, r.state, r.reason])).toEqual([
      ["gpt-4o", "open", "connectionError"],
      ["embeddings", "open", "connectionError"],
    ]);
  });
});
