// `node dist/scripts/simulatedPool.js`: simulated Azure OpenAI regions as a process of their own, for
// running a real host (`func start`) against them. It starts two regions on loopback, writes a
// ROUTER_CONFIG for them — a first backend at a port that refuses connections (so every call shows a
// failover) and the two regions behind it — to the file named by --config (default
// simulated-pool.json), prints it, and runs until stopped.

import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { AzureOpenAISimulator } from "../src/simulator/simulator";

async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--config");
  const file = i === -1 ? "simulated-pool.json" : (process.argv[i + 1] ?? "simulated-pool.json");
  const regions = await Promise.all(["sim-east", "sim-west"].map((region) => AzureOpenAISimulator.start({ region })));
  const config = {
    backends: [
      { name: "gone", url: `http://127.0.0.1:${await refusedPort()}`, priority: 1, auth: { type: "none" } },
      ...regions.map((r, n) => ({ name: r.region, url: r.url, priority: 2 + n, auth: { type: "none" } })),
    ],
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  process.stdout.write(`simulated pool ready: ${file}\n${JSON.stringify(config)}\n`);
  const stop = () => void Promise.all(regions.map((r) => r.close())).then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
