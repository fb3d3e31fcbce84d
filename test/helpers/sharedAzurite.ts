// The run's Azurite, as a test file sees it: started once by the global setup (globalAzurite.ts).
// Kept apart from azurite.ts, which the benchmark imports outside vitest.

import { inject } from "vitest";
import type { Azurite } from "./azurite";

/**
 * The run's Azurite (Table and Blob), started once by the global setup. It cannot be stopped: a
 * test that plays an outage starts its own with `startAzurite`.
 */
export function sharedAzurite(): Azurite {
  const { connectionString, port, blobPort } = inject("azurite");
  const refuse = async () => {
    throw new Error("the run's Azurite is shared by every file: start one of your own to play an outage");
  };
  return { connectionString, port, blobPort, stop: refuse, start: refuse };
}
