// The one seam to shared state: breaker trips, owner records, client usage and presence. Its
// twins are MemoryStateStore (one process, and tests) and TableStateStore (Azure Table Storage);
// one contract suite (test/helpers/stateStoreContract.ts) runs against both.

import type { OwnerStore } from "./ownerBook";
import type { StateStore } from "./stateStore";
import type { UsageStore } from "./usageSharing";

export type SharedStore = StateStore & OwnerStore & UsageStore;
