// The router's own failures, in the Azure OpenAI error shape, built in one place.
// Nothing here may name a backend or its URL: callers only ever learn codes and advice.

import type { RouterResponse } from "./exchange";

/** Codes the router itself answers with; clients and dashboards can match on them. */
export type RouterErrorCode =
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "DeploymentNotFound"
  | "DeploymentNotAllowed"
  | "OperationNotAllowed"
  | "MethodNotAllowed"
  | "BadRequest"
  | "RequestTimeout"
  | "RequestTooLarge"
  | "TooManyRequests"
  | "NoBackendAvailable"
  | "ServerBusy"
  | "RouterMisconfigured"
  | "InternalError";

const statusByCode: Record<RouterErrorCode, number> = {
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  DeploymentNotFound: 404,
  DeploymentNotAllowed: 403,
  OperationNotAllowed: 403,
  MethodNotAllowed: 405,
  BadRequest: 400,
  RequestTimeout: 408,
  RequestTooLarge: 413,
  TooManyRequests: 429,
  NoBackendAvailable: 503,
  ServerBusy: 503,
  RouterMisconfigured: 500,
  InternalError: 500,
};

/** An error response `{"error":{"code","message"}}` with the status that belongs to the code. */
export function errorResponse(code: RouterErrorCode, message: string, headers: Record<string, string> = {}): RouterResponse {
  const body = Buffer.from(JSON.stringify({ error: { code, message } }));
  return {
    status: statusByCode[code],
    headers: { "content-type": "application/json", "content-length": String(body.length), ...headers },
    body,
  };
}
