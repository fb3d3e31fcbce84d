// The simulator's deployments with Azure's admission: provisioned ones (a bucket, ProvisionedBucket)
// and standard ones (a tokens-per-minute quota, StandardQuota). A call is charged what the
// deployment counts — its own prompt count, not the router's estimate — plus its maximum output;
// the charge is corrected when the answer is complete. Answers carry the headers Azure sends.

import { ProvisionedBucket, type ProvisionedCapacity } from "./provisionedBucket";
import { type StandardCapacity, StandardQuota } from "./standardQuota";

/** Output tokens a deployment assumes for a call that states no maximum (Azure's own estimate; not the router's). */
export const simulatorDefaultMaxTokens = 500;

export type CapacityAnswer =
  | { admitted: true; headers: Record<string, string>; maxTokens: number; promptTokens: number; settle(completionTokens: number): void }
  | { admitted: false; headers: Record<string, string> };

/** Prompt tokens as the deployment counts them: about four characters of message text per token, plus a few per message. */
export function countPromptTokens(json: Record<string, unknown>): number {
  let chars = 0;
  let parts = 0;
  const add = (value: unknown): void => {
    if (typeof value === "string") {
      chars += value.length;
      parts++;
    } else if (Array.isArray(value)) for (const item of value) add(item);
    else if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      add(record.content ?? record.text ?? record.input);
    }
  };
  add(json.messages ?? json.input ?? json.prompt);
  return Math.ceil(chars / 4) + 4 * parts;
}

function maxTokensOf(json: Record<string, unknown>): number {
  for (const key of ["max_tokens", "max_completion_tokens", "max_output_tokens"]) {
    const value = json[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  }
  return simulatorDefaultMaxTokens;
}

/** What a deployment without a configured quota reports: a standard quota it counts against but never enforces. */
const reportedQuota: StandardCapacity = { tokensPerMinute: 1_000_000, requestsPerMinute: 6_000 };

/** What admission reads of a call: its body, and whether it writes nothing (embeddings) or reports -1 for tokens (Responses). */
export interface CapacityCall {
  json: Record<string, unknown>;
  embeddings: boolean;
  responses: boolean;
}

export class DeploymentCapacities {
  private readonly provisioned = new Map<string, ProvisionedBucket>();
  private readonly standard = new Map<string, StandardQuota>();
  private readonly reported = new Map<string, StandardQuota>();

  constructor(options: { provisioned?: Record<string, ProvisionedCapacity>; standard?: Record<string, StandardCapacity> }) {
    for (const [name, capacity] of Object.entries(options.provisioned ?? {})) this.provisioned.set(name, new ProvisionedBucket(capacity));
    for (const [name, capacity] of Object.entries(options.standard ?? {})) this.standard.set(name, new StandardQuota(capacity));
  }

  /** Tokens the deployment did (as corrected), for tests and the benchmark. */
  work(deployment: string): number {
    return this.provisioned.get(deployment)?.work ?? this.standard.get(deployment)?.work ?? 0;
  }

  /**
   * The `x-ratelimit-*` headers of an answer from a deployment with no configured model: real counts
   * of what this minute used against a standard quota (1M tokens, 6,000 requests), not enforced.
   * The Responses API reports `-1` for tokens, as Azure's does.
   */
  reportedHeaders(
    deployment: string,
    call: { json: Record<string, unknown>; embeddings: boolean; responses: boolean },
    now: number,
  ): Record<string, string> {
    let quota = this.reported.get(deployment);
    if (!quota) {
      quota = new StandardQuota(reportedQuota);
      this.reported.set(deployment, quota);
    }
    const answer = quota.admit(countPromptTokens(call.json) + (call.embeddings ? 0 : maxTokensOf(call.json)), now);
    return {
      "x-ratelimit-limit-requests": String(quota.requestsPerMinute),
      "x-ratelimit-remaining-requests": String(answer.remainingRequests),
      "x-ratelimit-limit-tokens": call.responses ? "-1" : String(quota.tokensPerMinute),
      "x-ratelimit-remaining-tokens": call.responses ? "-1" : String(answer.remainingTokens),
    };
  }

  /**
   * Azure's spillover: a call `from` refused is served by the deployment `to` of the same resource
   * (which says so in `x-ms-spillover-from-<from>`), or not, with the reason in `x-ms-spillover-error`.
   */
  spill(
    where: { from: string; to: string | undefined; known: readonly string[] | undefined },
    call: CapacityCall,
    now: number,
  ): { served: boolean; headers: Record<string, string> } {
    const { from, to, known } = where;
    if (to === undefined) return { served: false, headers: {} };
    if (to === from || (known && !known.includes(to)))
      return { served: false, headers: { "x-ms-spillover-error": "SpilloverDeploymentNotFound" } };
    const admission = this.admit(to, call, now);
    if (admission && !admission.admitted) return { served: false, headers: { "x-ms-spillover-error": "SpilloverDeploymentThrottled" } };
    return { served: true, headers: { [`x-ms-spillover-from-${from}`]: "true", ...this.reportedHeaders(to, call, now) } };
  }

  /** Admission of a call to `deployment` (`undefined`: the deployment has no capacity model). */
  admit(deployment: string, call: Omit<CapacityCall, "responses">, now: number): CapacityAnswer | undefined {
    const bucket = this.provisioned.get(deployment);
    const quota = this.standard.get(deployment);
    if (!bucket && !quota) return undefined;
    const { json } = call;
    const maxTokens = call.embeddings ? 0 : maxTokensOf(json);
    const promptTokens = countPromptTokens(json);
    const charge = promptTokens + maxTokens;
    if (bucket) {
      const answer = bucket.admit(charge, now);
      const utilization = `${Math.round(bucket.utilization(now))}%`;
      if (!answer.admitted)
        return { admitted: false, headers: retryHeaders(answer.retryAfterMs, { "azure-openai-deployment-utilization": utilization }) };
      return {
        admitted: true,
        maxTokens,
        promptTokens,
        headers: { "azure-openai-deployment-utilization": utilization },
        settle: (completion) => bucket.correct(Math.min(completion, maxTokens) - maxTokens, Date.now()),
      };
    }
    const q = quota as StandardQuota;
    const answer = q.admit(charge, now);
    const headers = {
      "x-ratelimit-limit-tokens": String(q.tokensPerMinute),
      "x-ratelimit-limit-requests": String(q.requestsPerMinute),
      "x-ratelimit-remaining-tokens": String(answer.remainingTokens),
      "x-ratelimit-remaining-requests": String(answer.remainingRequests),
    };
    if (!answer.admitted) return { admitted: false, headers: retryHeaders(answer.retryAfterMs, headers) };
    return {
      admitted: true,
      maxTokens,
      promptTokens,
      headers,
      settle: (completion) => q.correct(Math.min(completion, maxTokens) - maxTokens),
    };
  }
}

function retryHeaders(ms: number, extra: Record<string, string>): Record<string, string> {
  return { ...extra, "retry-after-ms": String(ms), "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}
