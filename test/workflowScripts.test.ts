// The scripts the forks' workflow runs around the Functions host (.github/workflows/ci.yml), run
// here around the plain Node host: the simulated pool as a process of its own, and the SDK smoke
// test (chat, a stream, a failover) against a router configured from the pool's file.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function started(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, match });
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
  });
}

describe("the workflow's scripts", () => {
  it("serve the SDK smoke test (chat, stream, failover) through a router configured from the simulated pool", async () => {
    const config = join(mkdtempSync(join(tmpdir(), "pool-")), "simulated-pool.json");
    await started(["dist/scripts/simulatedPool.js", "--config", config], {}, /simulated pool ready/);
    const { match } = await started(
      ["dist/src/hosts/node/main.js"],
      { ROUTER_CONFIG: config, ROUTER_CLIENT_KEYS: "smoke-key", PORT: "0", LOG_LEVEL: "info" },
      /router listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const smoke = spawn(process.execPath, ["dist/scripts/smoke.js", "--url", match[1] ?? "", "--key", "smoke-key"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    smoke.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    smoke.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const [code] = await once(smoke, "exit");
    expect(out).toContain("smoke: chat, stream and failover passed");
    expect(out).toMatch(/served by sim-east after 2 attempt\(s\)/);
    expect(code).toBe(0);
  });

  it("the workflow file is valid for GitHub Actions (action-validator, as lint runs it)", () => {
    const run = spawnSync(
      process.execPath,
      [join(__dirname, "../node_modules/@action-validator/cli/cli.mjs"), ".github/workflows/ci.yml"],
      {
        encoding: "utf8",
      },
    );
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
