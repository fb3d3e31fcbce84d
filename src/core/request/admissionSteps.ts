// Admission steps of a call on `/openai/*` that need more than one line: the gate (Front Door and
// key), reading the body, the client's permission, and its limits. Each answers the call itself (the refusal) or lets it go on
// with what it found; the router runs them in order (see docs/architecture.md).

import { type CallCost, estimateCallParts } from "../clients/callCost";
import type { Client, ClientIdentifier } from "../clients/clientAuth";
import type { Charge, ClientLimiter } from "../clients/clientLimiter";
import type { CallFamily } from "./callFamily";
import { batchRefusal, operationRefusal } from "./callPolicy";
import { errorResponse } from "./errors";
import { headerValue, type RouterRequest, type RouterResponse } from "./exchange";
import type { BodyRefs } from "./jsonModel";
import { type BodyHold, BodyReadError, readBodyWithin } from "./requestBody";
import type { StallWatch } from "./stallWatch";

/** Front Door lock and client key, in that order: the calling client, or the answer that refuses the call. */
export function gateClient(
  request: RouterRequest,
  deps: { frontDoorId: string | undefined; identify: ClientIdentifier },
): Client | RouterResponse {
  if (deps.frontDoorId !== undefined && headerValue(request.headers, "x-azure-fdid") !== deps.frontDoorId) {
    return errorResponse("Forbidden", "Calls must come through the configured Azure Front Door.");
  }
  return (
    deps.identify(request.headers) ??
    errorResponse(
      "Unauthorized",
      "Access denied due to missing or invalid key. Send it as 'api-key: <key>' or 'Authorization: Bearer <key>'.",
      {
        "www-authenticate": "Bearer",
      },
    )
  );
}

export type BodyRefusal = { response: RouterResponse; outcome: "rejected" | "callerGone" };

/** The request body, or the answer when it cannot be read (too large, stalled or too slow, cut off, no room). */
export async function readCallBody(
  request: RouterRequest,
  within: { maxRequestBytes: number; watch: StallWatch; hold: BodyHold },
): Promise<Buffer | BodyRefusal> {
  const { maxRequestBytes } = within;
  const declared = Number(headerValue(request.headers, "content-length"));
  let body: Buffer | undefined;
  try {
    body = await readBodyWithin(request.body, {
      limit: maxRequestBytes,
      declaredLength: Number.isFinite(declared) ? declared : undefined,
      watch: within.watch,
      hold: within.hold,
    });
  } catch (error) {
    if (!(error instanceof BodyReadError)) throw error;
    if (error.kind === "timeout")
      return { response: errorResponse("RequestTimeout", "The request body did not arrive in time."), outcome: "rejected" };
    if (error.kind === "busy") {
      const message = "This instance holds as many request bodies as it may. Retry after 1 second.";
      return { response: errorResponse("ServerBusy", message, { "retry-after": "1" }), outcome: "rejected" };
    }
    // The caller left (or its connection broke) during the upload: its call, not our failure.
    return { response: errorResponse("BadRequest", "The request body was cut off."), outcome: "callerGone" };
  }
  if (body === undefined) {
    return { response: errorResponse("RequestTooLarge", `The request body is larger than ${maxRequestBytes} bytes.`), outcome: "rejected" };
  }
  return body;
}

/** The client's permission: the operation, its deployments, a batch's deployments. */
export function permissionRefusal(
  request: RouterRequest,
  client: Client,
  call: { family: CallFamily; deployment: string | undefined; body: Uint8Array | undefined; refs: BodyRefs | undefined },
): RouterResponse | undefined {
  const { family, deployment } = call;
  const operation = operationRefusal(client, family, deployment !== undefined);
  if (operation) return operation;
  if (deployment !== undefined && client.deployments && !client.deployments.has(deployment)) {
    return errorResponse("DeploymentNotAllowed", "This client may not call this deployment.");
  }
  return batchRefusal(client, {
    method: request.method,
    family,
    contentType: headerValue(request.headers, "content-type"),
    body: call.body,
    refs: call.refs,
  });
}

/**
 * The client's limits: the call admitted and charged its estimated cost (only a client with a
 * token limit pays for the estimate, which then goes on with the call for capacity admission), or the 429.
 */
export function admitToLimits(
  limiter: ClientLimiter,
  client: Client,
  call: { method: string; path: string; body: Uint8Array | undefined },
): { charge: Charge | undefined; cost?: CallCost } | { refused: RouterResponse } {
  const cost = client.limits?.tokensPerMinute === undefined ? undefined : estimateCallParts(call.method, call.path, call.body);
  const admission = limiter.admit(client, cost ? cost.prompt + cost.maxOutput : 0);
  if (admission.admitted) return { charge: admission.charge, cost };
  const seconds = admission.retryAfterSeconds;
  const what = admission.limit === "requests" ? "requests" : "tokens";
  return {
    refused: errorResponse("TooManyRequests", `This client has used its ${what} per minute. Retry after ${seconds} seconds.`, {
      "retry-after": String(seconds),
    }),
  };
}
