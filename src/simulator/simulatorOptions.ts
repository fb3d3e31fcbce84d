// What a simulated region can be asked to be: its faults, capacity models, strictness, replays.

import type { IncomingMessage } from "node:http";
import type { ProvisionedCapacity } from "./capacity/provisionedBucket";
import type { StandardCapacity } from "./capacity/standardQuota";
import type { RecordedExchange } from "./replay";
import type { ModelKind } from "./requestRules";

export type Fault =
  /** 429 with Azure's headers; without values: `retry-after: 1`. */
  | {
      kind: "throttle";
      retryAfterSeconds?: number;
      retryAfterMs?: number;
      retryAfterDate?: Date;
      /** Exactly these retry headers instead of the ones above (for odd values). */
      headers?: Record<string, string>;
      /** No delay header at all, as Azure's standard deployments sometimes answer. */
      noDelay?: boolean;
    }
  | { kind: "error"; status: number }
  /** Accepts the request and never answers. */
  | { kind: "hang" }
  /** Closes the connection without a response. */
  | { kind: "reset" }
  /** Answers 200, sends the first `events` SSE events (or half a JSON body), then resets the connection. */
  | { kind: "breakAfter"; events: number }
  /** Answers 200, sends the first `events` SSE events, then ends cleanly without `data: [DONE]`. */
  | { kind: "endEarly"; events: number }
  /** Answers 200, sends the first `events` SSE events, then an error chunk in Azure's shape, then `[DONE]`. */
  | { kind: "errorEvent"; events: number };

export interface SimulatorOptions {
  region: string;
  host?: string;
  port?: number;
  /** When set, requests must carry `api-key: <apiKey>` or `Authorization: Bearer <bearerToken>`. */
  apiKey?: string;
  bearerToken?: string;
  /** Requests accepted per second; past that, 429 until the next second (a PTU that overflows). */
  capacityPerSecond?: number;
  /** The same per deployment: Azure's quotas are per deployment. */
  deploymentCapacityPerSecond?: Record<string, number>;
  /** Delay before answering, ms. Default 0. */
  latencyMs?: number;
  /** Chunks of a streamed answer, and the pause between them. Defaults 5 and 20 ms. */
  streamChunks?: number;
  streamChunkDelayMs?: number;
  /** Deployments this resource has; others get 404 DeploymentNotFound, as Azure answers. Default: any name. */
  deployments?: string[];
  /** How long a background response stays queued. Default 200 ms. */
  backgroundMs?: number;
  /**
   * How long a response created by a streamed call is not found by reads and follow-ups, as Azure's
   * are for seconds (median 5–7 s reported). Default 0: the tests that exercise it ask for it.
   */
  consistencyMs?: number;
  /** Headers added to every answer (Azure's spillover headers, for one). */
  answerHeaders?: Record<string, string>;
  /** Provisioned (PTU) deployments by name: Azure's bucket admission (see capacity/provisionedBucket.ts). */
  provisioned?: Record<string, ProvisionedCapacity>;
  /** Standard deployments with a tokens-per-minute quota, by name. */
  standard?: Record<string, StandardCapacity>;
  /**
   * Azure's spillover: a provisioned deployment → the deployment of this resource that takes what
   * it refuses. A call may also name one with `x-ms-spillover-deployment`.
   */
  spillover?: Record<string, string>;
  /** Completion tokens a chat answer writes (at most its max_tokens). Default 4. */
  completionTokens?: number;
  /**
   * Accept calls Azure refuses (no or wrong api-version, no model, an operation the model does not
   * do, missing fields). Off: the simulator is as strict as Azure; a test that needs leniency asks.
   */
  lenient?: boolean;
  /** What each deployment's model does; by default read from its name (see requestRules.ts). */
  modelKinds?: Record<string, ModelKind>;
  /** Exchanges recorded with a real resource (replay.ts): a call that matches one gets its recorded answer. */
  replay?: readonly RecordedExchange[];
  /** How fast recorded answers are replayed: 1 at their recorded timing (default), 0 at once. */
  replaySpeed?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}
