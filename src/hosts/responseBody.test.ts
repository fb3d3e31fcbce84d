import { describe, expect, it } from "vitest";
import type { CallSummary } from "../core/events";
import type { BodyEnd, HandledCall } from "../core/request/exchange";
import { BodyReporter } from "./responseBody";

function call(contentType: string): { handled: HandledCall; ends: BodyEnd[]; lines: CallSummary[] } {
  const ends: BodyEnd[] = [];
  const lines: CallSummary[] = [];
  const summary = {
    method: "POST",
    path: "/x",
    status: 200,
    deployment: undefined,
    backend: "a",
    servedDeployment: undefined,
    attempts: 1,
    latencyMs: 1,
    outcome: "served",
  } as CallSummary;
  const handled: HandledCall = {
    response: { status: 200, headers: { "content-type": contentType }, body: undefined },
    summary,
    bodyDone: (end) => {
      ends.push(end);
      return summary;
    },
  };
  return { handled, ends, lines };
}

describe("BodyReporter", () => {
  it("hands over the answer's tail (where its usage is) only when someone needs the call's tokens", () => {
    const usage = Buffer.from('{"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}');
    const tails = (tokensLogged: boolean, needsUsage: boolean) => {
      const { handled, ends } = call("application/json");
      handled.needsUsage = needsUsage;
      const reporter = new BodyReporter(handled, undefined, tokensLogged);
      reporter.chunk(usage);
      reporter.ended();
      return ends[0]?.tail;
    };
    // Nobody needs them (no charge, no gate, no line with tokens): no tail is decoded, nothing parsed.
    expect(tails(false, false)).toBeUndefined();
    expect(tails(false, true)).toBe(usage.toString());
    expect(tails(true, false)).toBe(usage.toString());
  });

  it("reports a body's end exactly once, whatever follows (a close after a cut, a caller gone after an end)", () => {
    const { handled, ends } = call("text/event-stream");
    const lines: CallSummary[] = [];
    const reporter = new BodyReporter(handled, (s) => lines.push(s));
    reporter.chunk(Buffer.from('data: {"x":1}\n\n'));
    expect(reporter.ended()).toBe(true); // no [DONE]: the caller must see a break
    reporter.callerGone();
    reporter.failed(new Error("late"));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ error: undefined, callerGone: false, terminated: false, bytes: 15 });
    expect(lines).toHaveLength(1);
    expect(reporter.breakEvent()?.toString()).toContain("BackendStreamBroken");
  });

  it("lets a whole stream end cleanly, and reads no SSE rules into other bodies", () => {
    const sse = call("text/event-stream");
    const whole = new BodyReporter(sse.handled, undefined);
    whole.chunk(Buffer.from("data: [DONE]\n\n"));
    expect(whole.ended()).toBe(false);
    const json = call("application/json");
    const plain = new BodyReporter(json.handled, undefined);
    plain.chunk(Buffer.from('{"a":1'));
    expect(plain.ended()).toBe(false);
    expect(plain.breakEvent()).toBeUndefined();
  });

  it("books a caller that left as the caller's doing", () => {
    const { handled, ends } = call("text/event-stream");
    new BodyReporter(handled, undefined).callerGone();
    expect(ends[0]).toMatchObject({ callerGone: true });
  });
});
