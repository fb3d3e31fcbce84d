// The one seam to shared state: breaker trips, owner records, client usage and presence, and the
// paces of throttling deployments. Its
// twins are MemoryStateStore (one process, and tests) and TableStateStore (Azure Table Storage);
// one contract suite (test/helpers/stateStoreContract.ts) runs against both.

import type { StateStore } from "../breakers/tripStore";
import type { CapacityStore } from "../capacity/sharedPaces";
import type { UsageStore } from "../clients/usageSharing";
import type { OwnerStore } from "../storedObjects/ownerBook";

export type SharedStore = StateStore & OwnerStore & UsageStore & CapacityStore;
