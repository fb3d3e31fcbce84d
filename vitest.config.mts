import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Unit tests (beside the code) need nothing; the integration tests share one Azurite for the run.
    projects: [
      { extends: true, test: { name: "unit", include: ["src/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["test/**/*.test.ts"], globalSetup: ["./test/helpers/globalAzurite.ts"] } },
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The integration files spend most of their time waiting on sockets, timers and Azurite, not on
    // the CPU: two at once on a two-core machine take the suite from ~80 s to ~45 s (the default here
    // is one at a time). More than two starve the tests that time what instances see of each other.
    maxWorkers: 2,
    reporters: ["default", "./test/helpers/summaryReporter.ts"],
  },
});
