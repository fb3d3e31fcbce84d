// A real Azure Table Storage on loopback: Azurite (npm `azurite`), in memory, started by the tests
// themselves. It can be stopped and started again on the same port to play an outage.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { refusedPort, sleep } from "./harness";

const accountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const bin = join(dirname(require.resolve("azurite/package.json")), "dist", "src", "table", "main.js");

export interface Azurite {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const port = await refusedPort();
  const workspace = mkdtempSync(join(tmpdir(), "azurite-"));
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      process.execPath,
      [
        bin,
        "--inMemoryPersistence",
        "--silent",
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        String(port),
      ],
      { stdio: "ignore", cwd: workspace },
    );
    await waitForPort(port, 20_000, () => proc?.exitCode !== null);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${accountKey};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
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
