// Chooses the state store the settings name.

import type { Settings } from "../core/settings";
import type { StateStore } from "../core/stateStore";
import { MemoryStateStore } from "./memoryStateStore";

export function createStateStore(settings: Settings): StateStore {
  switch (settings.state.kind) {
    case "memory":
      return new MemoryStateStore();
    default:
      throw new Error("Table Storage state is not available yet");
  }
}
