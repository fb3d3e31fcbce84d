// One Azurite (Table and Blob Storage) for the whole integration run, started before the first
// test file and stopped after the last: each test takes a table (and a container) of its own.
// Files that play a storage outage start their own (`useSharedTable(…, { outages: true })`).

import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { type Azurite, startAzurite } from "./azurite";

declare module "vitest" {
  export interface ProvidedContext {
    azurite: { connectionString: string; port: number; blobPort: number | undefined };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite: Azurite = await startAzurite({ blob: true });
  project.provide("azurite", { connectionString: azurite.connectionString, port: azurite.port, blobPort: azurite.blobPort });
  return () => azurite.stop();
}
