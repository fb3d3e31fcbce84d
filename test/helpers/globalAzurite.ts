// One Azurite (Table and Blob Storage) for the whole integration run, started before the first
// test file and stopped after the last: each test takes a table (and a container) of its own.
// Files that play a storage outage start their own (`useSharedTable(…, { outages: true })`).

import { type Azurite, startAzurite } from "./azurite";

type ProvidedAzurite = { connectionString: string; port: number; blobPort: number | undefined };

declare module "vitest" {
  export interface ProvidedContext {
    azurite: ProvidedAzurite;
  }
}

/** `project`: vitest's TestProject (only its `provide` is used; its type lives in an ES module this CommonJS project cannot import). */
export default async function setup(project: { provide(key: "azurite", value: ProvidedAzurite): void }): Promise<() => Promise<void>> {
  const azurite: Azurite = await startAzurite({ blob: true });
  project.provide("azurite", { connectionString: azurite.connectionString, port: azurite.port, blobPort: azurite.blobPort });
  return () => azurite.stop();
}
