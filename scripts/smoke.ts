// `node dist/scripts/smoke.js --url <router> --key <client key>`: the official SDK against a running
// router (the Functions host in CI's workflow, or any deployment): a chat call, a stream, and a
// failover (the simulated pool's first backend refuses connections). Exits non-zero on any miss.

import { AzureOpenAI } from "openai";

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : process.argv[i + 1];
  if (!value) {
    process.stderr.write(`smoke: --${name} is required\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const client = new AzureOpenAI({ endpoint: option("url"), apiKey: option("key"), apiVersion: "2024-10-21", maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "Hello" }];
  const { data, response } = await client.chat.completions.create({ model: "gpt-4o", messages }).withResponse();
  const content = data.choices[0]?.message.content ?? "";
  if (!content) throw new Error("chat: no content");
  const attempts = Number(response.headers.get("x-router-attempts"));
  process.stdout.write(`chat: "${content}" served by ${response.headers.get("x-served-by")} after ${attempts} attempt(s)\n`);
  if (attempts < 2) throw new Error("failover: the refused first backend should have been tried first");
  let streamed = "";
  const stream = await client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
  if (!streamed) throw new Error("stream: no content");
  process.stdout.write(`stream: "${streamed.trim()}"\n`);
  process.stdout.write("smoke: chat, stream and failover passed\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`smoke: ${(error as Error).message}\n`);
  process.exit(1);
});
