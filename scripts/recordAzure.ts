// `npm run record -- --target https://<resource>.openai.azure.com --out test/fixtures/recorded/<name>.json`
// A recording proxy on 127.0.0.1 (`--port`, default 8089): point an SDK or curl at it with your
// resource's key, make the calls you want as fixtures, then stop it (Ctrl+C). It writes what the
// resource answered — method, path and query without secrets, request body, status, headers without
// secrets, body chunks with their timings — for the simulator to replay (`replay` option). Keys and
// tokens go on to the resource and are never written down. Use prompts you are happy to commit.

import { writeFileSync } from "node:fs";
import { startRecorder } from "../src/simulator/recorder";
import { recordedExchange } from "../src/simulator/replay";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const target = option("target");
  const out = option("out");
  if (!target || !out || !/^https?:\/\//.test(target)) {
    process.stderr.write("usage: npm run record -- --target https://<resource>.openai.azure.com --out <fixture.json> [--port 8089]\n");
    process.exit(2);
  }
  const recorder = await startRecorder({ target, port: Number(option("port") ?? 8089) });
  process.stdout.write(
    `recording ${new URL(target).host} on ${recorder.url}: call it as your resource (same paths, your key); Ctrl+C writes ${out}\n`,
  );
  const finish = async () => {
    await recorder.close();
    const exchanges = recorder.exchanges.map((e) => recordedExchange.parse(e));
    const fixture = { recordedFrom: new URL(target).host, recordedAt: new Date().toISOString(), exchanges };
    writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
    process.stdout.write(`${exchanges.length} exchanges written to ${out}\n`);
    process.exit(0);
  };
  process.once("SIGINT", () => void finish());
  process.once("SIGTERM", () => void finish());
}

void main();
