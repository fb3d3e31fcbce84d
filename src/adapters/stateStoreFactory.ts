// Chooses the state store the settings name.

import type { Settings } from "../core/settings";
import type { StateStore } from "../core/stateStore";
import { MemoryStateStore } from "./memoryStateStore";
import { poolKey, TableStateStore } from "./tableStateStore";

export function createStateStore(settings: Settings): StateStore {
  const state = settings.state;
  if (state.kind === "memory") return new MemoryStateStore();
  return new TableStateStore({
    location:
      state.kind === "connectionString"
        ? { kind: "connectionString", connectionString: state.connectionString }
        : { kind: "tableServiceUrl", url: state.url, clientId: state.clientId },
    table: settings.stateTable,
    pool: poolKey(settings.config.backends),
  });
}
