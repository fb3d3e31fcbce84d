// The Responses API row: conversations made through the router over three equal backends, then
// follow-ups with previous_response_id. The bare proxy gets the same follow-ups for conversations
// made at its one backend. Follow-ups are not stored (`store: false`), so backends stay small. Then
// backend calls per follow-up, counted exactly over a bounded batch whose every call is awaited.

import { request } from "undici";
import { clientKey, load, type Measure, median, progress, rounds, seconds, smoke, startProcess, startRouter, summarize } from "./measure";

const responsesPath = "/openai/v1/responses";
const none = { type: "none" };

export interface ResponsesRows {
  router: Measure;
  bare: Measure;
  cpuRatio: number;
  backendCallsPerFollowUp: number;
  followUpErrors: number;
}

export async function benchResponses(at: { urls: (string | undefined)[]; backendRequests: () => Promise<number> }): Promise<ResponsesRows> {
  const [respA, respB, respC] = at.urls;
  const backendRequests = at.backendRequests;
  const respRouter = await startRouter({
    backends: [
      { name: "resp-a", url: respA, auth: none },
      { name: "resp-b", url: respB, auth: none },
      { name: "resp-c", url: respC, auth: none },
    ],
  });
  const respBare = await startProcess("bench/bareProxy.js", { BARE_TARGET: respA ?? "" }, /bare proxy listening on (http:\/\/[\d.:]+)/);
  const firstTurns = async (url: string) => {
    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await request(`${url}${responsesPath}`, {
        method: "POST",
        headers: { "api-key": clientKey, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", input: `Conversation ${i}: hello.` }),
      });
      const { id } = (await created.body.json()) as { id: string };
      bodies.push(JSON.stringify({ model: "gpt-4o", input: "And then?", previous_response_id: id, store: false }));
    }
    return bodies;
  };
  const routerTurns = await firstTurns(respRouter.url);
  const bareTurns = await firstTurns(respBare.url);
  const respRuns = { router: [] as Measure[], bare: [] as Measure[] };
  for (let r = -1; r < rounds; r++) {
    const m = await load(respRouter.url, respRouter.proc.pid ?? 0, r < 0 ? 1 : seconds, {
      path: responsesPath,
      body: "",
      bodies: routerTurns,
    });
    if (r < 0) continue; // warm-up
    respRuns.router.push(m);
    respRuns.bare.push(await load(respBare.url, respBare.proc.pid ?? 0, seconds, { path: responsesPath, body: "", bodies: bareTurns }));
    progress(`responses round ${r + 1}/${rounds}: ${Math.round(m.rps)} req/s via router, ${m.errors} errors`);
  }
  // Backend calls per follow-up, counted exactly: a bounded batch whose every call is awaited
  // (autocannon's totals leave out the calls in flight when a round ends).
  const followUps = smoke ? 60 : 600;
  // The calls autocannon left in flight (to these simulators, the bare proxy's included) land first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const callsBefore = await backendRequests();
  let followUpErrors = 0;
  for (let i = 0; i < followUps; i += 10) {
    const batch = routerTurns.slice(0, 10).map(async (body) => {
      const answer = await request(`${respRouter.url}${responsesPath}`, {
        method: "POST",
        headers: { "api-key": clientKey, "content-type": "application/json" },
        body,
      });
      await answer.body.dump();
      if (answer.statusCode !== 200) followUpErrors++;
    });
    await Promise.all(batch);
  }
  const followUpBackendCalls = (await backendRequests()) - callsBefore;
  const responses = {
    router: summarize(respRuns.router),
    bare: summarize(respRuns.bare),
    cpuRatio: median(respRuns.router.map((m, i) => m.cpuUsPerRequest / (respRuns.bare[i]?.cpuUsPerRequest ?? Number.NaN))),
    backendCallsPerFollowUp: followUpBackendCalls / followUps,
    followUpErrors,
  };
  respRouter.proc.kill("SIGTERM");
  respBare.proc.kill("SIGTERM");
  return responses;
}
