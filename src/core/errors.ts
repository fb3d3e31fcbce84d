// The router's own failures, in the Azure OpenAI error shape, built in one place.
// Nothing here may name a backend or its URL: callers only ever learn codes and advice.

import type { RouterResponse } from "./http";

/** Codes the router itself answers with; clients and dashboards can match on them. */
export type RouterErrorCode =
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "RequestTooLarge"
  | "TooManyRequests"
  | "NoBackendAvailable"
  | "RouterMisconfigured"
  | "InternalError";

const statusByCode: Record<RouterErrorCode, number> = {
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  RequestTooLarge: 413,
  TooManyRequests: 429,
  NoBackendAvailable: 503,
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

/** A start-up failure: names the setting and the field, carries no secret. */
export class ConfigError extends Error {
  readonly code = "RouterMisconfigured";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
