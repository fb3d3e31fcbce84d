// The plain Node host as a user runs it: `node dist/src/hosts/node/main.js` (what `npm start` / `npm run serve` run).
// `npm test` builds first (pretest), so dist/ is current.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { AzureOpenAI } from "openai";
import { afterEach, describe, expect, it } from "vitest";

const entry = "dist/src/hosts/node/main.js";
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

function start(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): {
  proc: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp) => Promise<RegExpMatchArray>;
} {
  const proc = spawn(process.execPath, [...nodeArgs, entry], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let out = "";
  const listeners: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const waitFor = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${out}`)), 15_000);
      const check = () => {
        const m = out.match(re);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      listeners.push(check);
      check();
    });
  return { proc, output: () => out, waitFor };
}

describe("plain Node host", () => {
  it("starts the demo pool without ROUTER_CONFIG, says so, answers an SDK call, and stops cleanly on SIGTERM", async () => {
    const { proc, waitFor, output } = start({});
    const [, url] = await waitFor(/router listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, key] = await waitFor(/default {2}(\S+) {2}the operators' key/);
    expect(output()).toContain("DEMO MODE");
    const client = new AzureOpenAI({ endpoint: url, apiKey: key, apiVersion: "2024-10-21", maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toMatch(/^Hello from /);
    expect(response.headers.get("x-served-by")).toBe("eastus-ptu");
    // A sequential walk-through (the SDK, one call after another) never throttles the demo's PTU.
    for (let i = 0; i < 40; i++) {
      const next = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }).withResponse();
      expect(next.response.headers.get("x-served-by")).toBe("eastus-ptu");
    }
    // The banner's curl line quotes its URL (`?` and `&` are globs in zsh).
    expect(output()).toMatch(/curl -s '[^']+\?api-version=2024-10-21'/);
    proc.kill("SIGTERM");
    const [code] = await once(proc, "exit");
    expect(code).toBe(0);
  });

  it("npm run demo:load sends a bounded mixed load that overflows the demo PTU with zero errors", async () => {
    const { proc, waitFor } = start({});
    const [, url] = await waitFor(/router listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, key] = await waitFor(/default {2}(\S+) {2}the operators' key/);
    const load = spawn(process.execPath, ["dist/scripts/demoLoad.js", "--url", url ?? "", "--key", key ?? "", "--seconds", "3"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    load.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const [code] = await once(load, "exit");
    expect(out).toMatch(/done in .*: \d+ calls, 0 errors/);
    expect(code).toBe(0);
    // The middle second sends 60 calls against a PTU that holds 30: priority-2 regions take the rest.
    expect(out).toMatch(/t= {2}2s {2}60 calls\/s {2}served: .*(westus|swedencentral)/);
    // Repeated embeddings texts are answered from the response cache.
    expect(out).toMatch(/served: [^\n]*\bcache \d+/);
    proc.kill("SIGTERM");
    await once(proc, "exit");
  });

  it("uses ROUTER_CLIENT_KEYS in the demo when set, and stops on SIGINT", async () => {
    const { proc, waitFor } = start({ ROUTER_CLIENT_KEYS: "my-demo-key" });
    const [, url] = await waitFor(/router listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await waitFor(/default {2}my-demo-key {2}the operators' key/);
    const ok = await fetch(`${url}/status`, { headers: { "api-key": "my-demo-key" } });
    expect(ok.status).toBe(200);
    proc.kill("SIGINT");
    const [code] = await once(proc, "exit");
    expect(code).toBe(0);
  });

  it("refuses to start on a bad setting with a non-zero exit and one message naming the field", async () => {
    const { proc, output } = start({
      ROUTER_CONFIG: JSON.stringify({ backends: [{ name: "a", url: "not-a-url" }] }),
      ROUTER_CLIENT_KEYS: "k",
    });
    const [code] = await once(proc, "exit");
    expect(code).toBe(1);
    expect(output().trim()).toBe("ROUTER_CONFIG: backends[0].url must be an absolute http(s) URL");
  });

  it("refuses to start outside the demo without ROUTER_CLIENT_KEYS", async () => {
    const { proc, output } = start({
      ROUTER_CONFIG: JSON.stringify({ backends: [{ name: "a", url: "https://a.example", auth: { type: "none" } }] }),
    });
    const [code] = await once(proc, "exit");
    expect(code).toBe(1);
    expect(output().trim()).toMatch(/^ROUTER_CLIENT_KEYS: is required/);
  });

  it("refuses a bad PORT", async () => {
    const { proc, output } = start({ PORT: "http" });
    const [code] = await once(proc, "exit");
    expect(code).toBe(1);
    expect(output().trim()).toBe('PORT: must be a port number (0–65535), got "http"');
  });

  it("says in one line, naming PORT, that the port is taken, without a stack", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const { proc, output } = start({ PORT: String(port) });
      const [code] = await once(proc, "exit");
      expect(code).toBe(1);
      expect(output().trim().split("\n").at(-1)).toBe(`PORT: port ${port} on 127.0.0.1 is already in use (set PORT to another port)`);
      expect(output()).not.toContain("    at ");
    } finally {
      busy.close();
    }
  });

  it("refuses a HOST that is no address in one line", async () => {
    const { proc, output } = start({ HOST: "not a host!" });
    const [code] = await once(proc, "exit");
    expect(code).toBe(1);
    expect(output().trim()).toBe('HOST: must be an IP address or a host name, got "not a host!"');
  });

  it("on an uncaught exception: logs it, takes no new calls, lets calls in flight finish, and exits non-zero", async () => {
    const { proc, waitFor, output } = start({}, ["--require", "./test/fixtures/crashOnSignal.cjs"]);
    const [, url] = await waitFor(/router listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, key] = await waitFor(/default {2}(\S+) {2}the operators' key/);
    const client = new AzureOpenAI({ endpoint: url, apiKey: key, apiVersion: "2024-10-21", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true });
    proc.kill("SIGUSR2");
    await waitFor(/"event":"uncaughtException"/);
    let chunks = 0;
    for await (const _ of stream) chunks++;
    // Azure's framing: the prompt's filter results, the role, the deltas, the finish, the filter's results.
    expect(chunks).toBe(8);
    const [code] = await once(proc, "exit");
    expect(code).toBe(1);
    expect(output()).toContain("a bug nobody caught");
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
