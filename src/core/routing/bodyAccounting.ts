// What happens when a served body ends, as the host reports it: the call's tokens (reported, or
// estimated for a stream without usage) settle the charge admission made, and how the body ended
// decides the call's outcome — a caller that left is never the backend's failure, a stream that
// carried an `error` event was answered, a stream that broke or closed before its terminal event
// counts against the backend that sent it.

import type { FailureReason } from "../breakers/breaker";
import type { BreakerBoard } from "../breakers/breakerBoard";
import type { Charge, ClientLimiter } from "../clients/clientLimiter";
import { estimatedUsage, reportedUsage, type TokenUsage } from "../clients/tokenUsage";
import type { Clock } from "../clock";
import type { CallSummary } from "../events";
import type { BodyEnd, CallerSignal, HandledCall } from "../request/exchange";
import type { ForwardResult } from "./forwarder";

export interface BodyAccountingDeps {
  board: BreakerBoard;
  limiter: ClientLimiter;
  clock: Clock;
}

/** The answer, with `bodyDone` for the host to call once when a streamed body ends. */
export function withBodyAccounting(
  deps: BodyAccountingDeps,
  call: { result: ForwardResult; charge: Charge | undefined; requestBytes: number; signal: CallerSignal | undefined },
): HandledCall {
  const { response, summary, served } = call.result;
  if (!served || response.body === undefined || response.body instanceof Uint8Array) return { response, summary };
  return {
    response,
    summary,
    needsUsage: call.charge !== undefined || served.capacity !== undefined,
    // The summary is this call's own: completed in place, not copied (a copy per call showed in the profile).
    bodyDone: (end: BodyEnd): CallSummary => {
      summary.bytes = end.bytes;
      // Server-sent events or not, as the host decided while it metered the body.
      const sse = end.sse === true;
      // No tail: nobody needs this call's tokens (no charge, no gate, no log line with them), so none are read.
      const usage =
        end.tail === undefined
          ? undefined
          : reportedUsage(end.tail) || (sse ? estimatedUsage(call.requestBytes, end.events ?? 0) : undefined);
      if (usage) {
        summary.promptTokens = usage.promptTokens;
        summary.completionTokens = usage.completionTokens;
        summary.totalTokens = usage.totalTokens;
        if (usage.estimated) summary.tokensEstimated = true;
      }
      // The estimate charged at admission becomes what the backend reported (nothing reported: nothing used).
      deps.limiter.settle(call.charge, usage?.totalTokens ?? 0);
      settleCapacity(served, usage, deps.clock.now());
      const outcome = streamOutcome(end, call.signal, sse);
      summary.outcome = outcome;
      if (outcome === "broken") {
        const reason: FailureReason = end.error !== undefined && isTimeout(end.error) ? "timeout" : "brokenStream";
        deps.board.recordFailure(served.index, served.deployment, { reason }, deps.clock.now());
      }
      return summary;
    },
  };
}

/**
 * The charge of a call whose answer is already known: refunded when the router answered it itself
 * (every candidate out, the owner tripped), nothing used when no backend had the object, the usage
 * of an answer already read (a probe's). A streamed answer settles in `bodyDone`.
 */
export function settleAnsweredCall(limiter: ClientLimiter, charge: Charge | undefined, result: ForwardResult, now: number): void {
  const body = result.response.body;
  const inMemory = body instanceof Uint8Array;
  // A deployment's gate learns what an answer already read (a probe's) used; a stream settles in `bodyDone`.
  const usage =
    inMemory && (charge || result.served?.capacity)
      ? reportedUsage(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"))
      : undefined;
  if (inMemory) settleCapacity(result.served, usage, now);
  if (!charge) return;
  const { outcome } = result.summary;
  if (outcome === "exhausted") limiter.refund(charge);
  else if (outcome === "notFound") limiter.settle(charge, 0);
  else if (inMemory) limiter.settle(charge, usage?.totalTokens ?? 0);
}

/**
 * The served deployment's gate learns what the call really wrote: its charge was the most it could
 * (`max_tokens`), and what it did not write went back to the deployment when it ended.
 */
function settleCapacity(served: ForwardResult["served"], usage: TokenUsage | undefined, now: number): void {
  const { capacity, cost } = served ?? {};
  if (!capacity || !cost) return;
  // The deployment's own prompt count teaches the estimate its scale (what later calls are charged);
  // what the call did not write of its maximum went back to the deployment when it ended. A stream
  // without usage is estimated (a token per event): far nearer than assuming it wrote its maximum.
  if (usage && !usage.estimated) capacity.learnPrompt(cost.prompt, usage.promptTokens);
  capacity.settled(usage ? Math.min(0, usage.completionTokens - cost.maxOutput) : 0, now);
}

/**
 * How a served body ended. A caller that left is never the backend's failure, whatever the body
 * reported after (the Node host's hang-up aborts the upstream body, which then errors); a stream
 * that carried an `error` event was answered; a stream that closed before its terminal event broke.
 */
export function streamOutcome(end: BodyEnd, signal: CallerSignal | undefined, sse: boolean): CallSummary["outcome"] {
  if (end.callerGone || signal?.aborted === true) return "callerGone";
  if (end.error !== undefined) return "broken";
  if (end.streamError) return "streamError";
  if (sse && end.terminated === false) return "broken";
  return "served";
}

/** A body that stalled past the attempt timeout (undici's code: the adapter's vocabulary, read here once). */
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "UND_ERR_BODY_TIMEOUT";
}
