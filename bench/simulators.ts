// Simulated regions in a process of their own, so their CPU is not charged to the proxies.
// Controlled by the benchmark over IPC.

import { AzureOpenAISimulator, type SimulatorOptions } from "../src/simulator/simulator";

type Command =
  | { id: number; op: "start"; regions: ({ region: string } & Partial<SimulatorOptions>)[] }
  | { id: number; op: "counts" }
  | { id: number; op: "reset" };

const sims: AzureOpenAISimulator[] = [];

process.on("message", async (command: Command) => {
  let result: unknown;
  if (command.op === "start") {
    for (const spec of command.regions) sims.push(await AzureOpenAISimulator.start({ ...spec, streamChunks: 5 }));
    result = sims.map((s) => s.url);
  } else if (command.op === "counts") {
    result = sims.map((s) => ({ region: s.region, requests: s.requestCount, served: s.servedCount, work: s.capacities.work("gpt-4o") }));
  } else {
    for (const s of sims) s.resetCounts();
    result = true;
  }
  process.send?.({ id: command.id, result });
});
process.on("disconnect", () => process.exit(0));
