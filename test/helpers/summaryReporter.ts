// Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary, so
// any CI log reader sees at a glance how many tests ran.

// The few members of vitest's TestModule used here (vitest/node is ESM-only; this file is CommonJS).
interface TestModuleLike {
  children: { allTests(): Iterable<{ result(): { state: string } }> };
}

export default class SummaryReporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModuleLike>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
