import { describe, expect, it } from "vitest";
import { renderDemoView } from "./demoView";

const now = Date.parse("2026-01-02T10:00:00Z");

describe("renderDemoView", () => {
  it("shows each backend's breaker, calls served and failures", () => {
    const text = renderDemoView(
      [
        {
          name: "eastus-ptu",
          priority: 1,
          state: "open",
          openUntil: "2026-01-02T10:00:01.000Z",
          reason: "throttled",
          lastStatus: 429,
          source: "local",
          served: 12,
          failed: 3,
        },
        {
          name: "westus",
          priority: 2,
          state: "closed",
          openUntil: null,
          reason: null,
          lastStatus: 200,
          source: "local",
          served: 40,
          failed: 0,
        },
      ],
      now,
    );
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toContain("10:00:00");
    expect(lines[2]).toMatch(/^eastus-ptu\s+1\s+OPEN until 10:00:01 \(throttled\)\s+12\s+3\s+429$/);
    expect(lines[3]).toMatch(/^westus\s+2\s+closed\s+40\s+0\s+200$/);
  });
});
