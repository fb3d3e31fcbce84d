// `npm run demo:load`: a mixed load on the running demo, in three phases — within what the PTU
// admits, well over it, within it again — so the live view shows the PTU overflow to the
// priority-2 regions and come back (the router learns what the PTU admits and sends it that). Chat calls (every fourth streamed) use `gpt-4o`, which the PTU
// holds as `gpt-4o-ptu`; embeddings calls use `text-embedding-3-large`, which only the
// pay-as-you-go regions have, and whose small westus quota trips in the peak while westus chat
// goes on. Before and after the load, a multi-turn Responses conversation: each turn continues the
// previous one (`previous_response_id`) and is served by the backend that holds it, whatever the
// weights say. Two clients call alongside, one call a second each: team-a (600 requests/minute)
// is always served, team-b (10 requests/minute) is held to its budget with 429s that reach no
// backend. Bounded: it stops by itself.
// Options (after `--`: `npm run demo:load -- --seconds 10`): --url <router> --key <client key>
// (default: read from the running demo), --seconds <n> (default 30).

import { readFileSync } from "node:fs";
import { demoDeployments, demoInfoFile } from "../src/demo/demoPool";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (inline) return inline.slice(name.length + 3);
  // `npm run demo:load --seconds 10`: npm takes the flag as its own config (npm_config_seconds=true)
  // and passes the value on as a bare argument.
  const fromNpm = process.env[`npm_config_${name}`];
  if (fromNpm === "true") return process.argv.slice(2).find((a) => /^\d+$/.test(a));
  return fromNpm || undefined;
}

interface DemoClient {
  name: string;
  key: string;
  requestsPerMinute: number;
}

function target(): { url: string; key: string; clients: DemoClient[] } {
  const url = option("url");
  const key = option("key");
  if (url && key) return { url, key, clients: [] };
  try {
    const info = JSON.parse(readFileSync(demoInfoFile, "utf8")) as { url: string; key: string; clients?: DemoClient[] };
    return { url: info.url, key: info.key, clients: info.clients ?? [] };
  } catch {
    process.stderr.write("No running demo found. Start it with `npm start` (without ROUTER_CONFIG), or pass --url and --key.\n");
    process.exit(2);
  }
}

type Kind = "chat" | "stream" | "embeddings";

/** Texts that come back (a RAG job re-embedding the same chunks): after the first time, the cache answers them. */
const repeatedTexts = ["What is a PTU?", "How do I rotate keys?", "Where are my files?", "Which regions serve gpt-4o?"];

/**
 * Every other embeddings call repeats one of a few texts (served from the cache after the first);
 * the rest are new texts, which reach the backends — enough in the peak to exhaust westus' quota.
 */
function embeddingsInput(n: number): string {
  return n % 2 === 0 ? (repeatedTexts[(n / 2) % repeatedTexts.length] ?? "Hello") : `chunk ${n} of the demo corpus`;
}

async function call(url: string, key: string, kind: Kind, n: number): Promise<string> {
  const embeddings = kind === "embeddings";
  const deployment = embeddings ? demoDeployments.embeddings : demoDeployments.chat;
  const operation = embeddings ? "embeddings" : "chat/completions";
  const body = embeddings
    ? { input: embeddingsInput(Math.floor(n / 3)) }
    : { messages: [{ role: "user", content: "Hello" }], stream: kind === "stream" };
  const response = await fetch(`${url}/openai/deployments/${deployment}/${operation}?api-version=2024-10-21`, {
    method: "POST",
    headers: { "api-key": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  if (!response.ok) return `error ${response.status}`;
  if (response.headers.get("x-cache") === "HIT") return "cache";
  return `${response.headers.get("x-served-by") ?? "?"}/${response.headers.get("x-served-deployment") ?? "?"}`;
}

/** One chat call with a client's own key: 200, or 429 once the client has used its budget. */
async function clientCall(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/openai/deployments/${demoDeployments.chat}/chat/completions?api-version=2024-10-21`, {
    method: "POST",
    headers: { "api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hello" }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** A Responses conversation of `turns` turns; each follow-up must reach the backend that holds the previous turn. */
async function conversation(url: string, key: string, turns: number): Promise<number> {
  let previous: string | undefined;
  let failures = 0;
  for (let turn = 1; turn <= turns; turn++) {
    const send = () =>
      fetch(`${url}/openai/v1/responses`, {
        method: "POST",
        headers: { "api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ model: demoDeployments.chat, input: `Turn ${turn}, please.`, previous_response_id: previous }),
      });
    let response = await send();
    // The owner is throttled: no other backend has the conversation, so wait as told, like the SDK does.
    for (let retry = 0; retry < 10 && response.status === 429; retry++) {
      const wait = Number(response.headers.get("retry-after") ?? "1");
      process.stdout.write(`  turn ${turn}: the owner is throttled (429), retrying after ${wait} s\n`);
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      response = await send();
    }
    const body = (await response.json()) as { id?: string; output?: { content?: { text?: string }[] }[] };
    const text = body.output?.[0]?.content?.[0]?.text ?? `error ${response.status}`;
    if (!response.ok || !body.id) failures++;
    process.stdout.write(
      `  turn ${turn}: ${previous ? `previous_response_id ${previous.slice(0, 14)}… ` : "new conversation "}-> ${response.headers.get("x-served-by") ?? "?"}: ${text}\n`,
    );
    previous = body.id;
  }
  return failures;
}

/** Every third call is embeddings; of the chat calls, every fourth is streamed. */
function kindOf(n: number): Kind {
  if (n % 3 === 2) return "embeddings";
  return n % 4 === 3 ? "stream" : "chat";
}

async function main(): Promise<void> {
  const { url, key, clients } = target();
  const byClient = new Map(clients.map((c) => [c.name, { served: 0, held: 0 }]));
  const seconds = Math.max(3, Number(option("seconds") ?? 30));
  const phases = [
    { until: seconds / 3, rate: 3 },
    { until: (2 * seconds) / 3, rate: 60 },
    { until: seconds, rate: 3 },
  ];
  process.stdout.write(
    `demo load on ${url} for ${seconds} s: 3 calls/s, then 60 calls/s (over what the PTU admits and westus' embeddings quota), then 3 calls/s;\n` +
      '"cache" counts embeddings answered from the response cache (no backend called)\n',
  );
  if (clients.length > 0) {
    process.stdout.write(
      `alongside, one call a second from each demo client: ${clients.map((c) => `${c.name} (${c.requestsPerMinute} requests/minute)`).join(", ")};\n` +
        '"held" counts the calls the router answered 429 itself because the client had used its budget (no backend was called)\n',
    );
  }
  process.stdout.write("a Responses conversation (each turn goes to the backend that holds the one before):\n");
  let errors = await conversation(url, key, 4);
  const started = Date.now();
  const inflight: Promise<void>[] = [];
  let sent = 0;
  let peakConversation: Promise<number> | undefined;
  for (let second = 0; second < seconds; second++) {
    const rate = phases.find((p) => second < p.until)?.rate ?? 3;
    if (rate > 30 && !peakConversation) {
      // In the peak the PTU overflows: a conversation may start elsewhere, and then stays there.
      process.stdout.write("a conversation started in the peak (its follow-ups stay with the backend that holds it):\n");
      peakConversation = conversation(url, key, 4);
    }
    const served: Record<string, number> = {};
    const thisSecond: Promise<void>[] = [];
    for (let i = 0; i < rate; i++) {
      const n = sent++;
      const p = call(url, key, kindOf(n), n)
        .then((by) => {
          if (by.startsWith("error")) errors++;
          served[by] = (served[by] ?? 0) + 1;
        })
        .catch(() => {
          errors++;
        });
      thisSecond.push(p);
      inflight.push(p);
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
    }
    for (const c of clients) {
      const tally = byClient.get(c.name);
      const p = clientCall(url, c.key).then((status) => {
        if (!tally) return;
        if (status === 200) tally.served++;
        else if (status === 429) tally.held++;
        else errors++;
      });
      thisSecond.push(p);
      inflight.push(p);
    }
    await Promise.all(thisSecond);
    const summary = Object.entries(served)
      .sort()
      .map(([by, n]) => `${by} ${n}`)
      .join(", ");
    const teams = [...byClient].map(([name, t]) => `${name} ${t.served} served/${t.held} held`).join(", ");
    process.stdout.write(
      `t=${String(second + 1).padStart(3)}s  ${String(rate).padStart(2)} calls/s  served: ${summary}  errors ${errors}${teams ? `  | ${teams}` : ""}\n`,
    );
  }
  await Promise.all(inflight);
  errors += (await peakConversation) ?? 0;
  process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${sent} calls, ${errors} errors\n`);
  process.exit(errors === 0 ? 0 : 1);
}

void main();
