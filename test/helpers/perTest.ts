// Test lifecycle helpers, apart from the harness: the harness is also loaded by the benchmark
// (through the Azurite helper), where vitest cannot be imported.

import { afterEach } from "vitest";

/** Closes the harness a test started: whatever `current` returns once each test is done. */
export function closeAfterEach(current: () => { close(): Promise<void> } | undefined): void {
  afterEach(async () => {
    await current()?.close();
  });
}
