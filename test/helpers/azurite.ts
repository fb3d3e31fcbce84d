// A real Azure Table Storage (and, when asked, Blob Storage) on loopback: Azurite (npm `azurite`),
// in memory, started by the tests themselves. It can be stopped and started again on the same
// ports to play an outage.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { refusedPort, sleep } from "./harness";

const accountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const dist = join(dirname(require.resolve("azurite/package.json")), "dist", "src");

export interface Azurite {
  connectionString: string;
  port: number;
  /** Set when Blob Storage was asked for: its port (the connection string then names its endpoint). */
  blobPort: number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startAzurite(options: { blob?: boolean } = {}): Promise<Azurite> {
  const port = await refusedPort();
  const blobPort = options.blob ? await refusedPort() : undefined;
  const workspace = mkdtempSync(join(tmpdir(), "azurite-"));
  const services: { name: "table" | "blob"; port: number }[] = [{ name: "table", port }];
  if (blobPort !== undefined) services.push({ name: "blob", port: blobPort });
  let procs: ChildProcess[] = [];
  const start = async () => {
    procs = services.map(({ name, port: servicePort }) =>
      spawn(
        process.execPath,
        [
          join(dist, name, "main.js"),
          "--inMemoryPersistence",
          "--silent",
          "--skipApiVersionCheck",
          "--disableTelemetry",
          `--${name}Host`,
          "127.0.0.1",
          `--${name}Port`,
          String(servicePort),
        ],
        { stdio: "ignore", cwd: workspace },
      ),
    );
    await Promise.all(services.map((service, i) => waitForPort(service.port, 20_000, () => procs[i]?.exitCode !== null)));
  };
  const stop = async () => {
    const running = procs.filter((p) => p.exitCode === null);
    procs = [];
    await Promise.all(
      running.map((p) => {
        const exited = new Promise((resolve) => p.once("exit", resolve));
        p.kill("SIGKILL");
        return exited;
      }),
    );
  };
  await start();
  const blobEndpoint = blobPort === undefined ? "" : `BlobEndpoint=http://127.0.0.1:${blobPort}/devstoreaccount1;`;
  return {
    port,
    blobPort,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${accountKey};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;${blobEndpoint}`,
    start,
    stop,
  };
}

async function waitForPort(port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error("Azurite exited at start-up");
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`Azurite did not listen on ${port} within ${timeoutMs} ms`);
}
