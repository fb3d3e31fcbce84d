// Which headers cross the router, in each direction.

import type { IncomingHeaders, OutgoingHeaders } from "./exchange";

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message; plus headers the
// router must own: the caller's credentials, Host, and the length of a body it re-sends itself.
const notForwardedUpstream = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
  "content-length",
  "api-key",
  "authorization",
]);

const notForwardedDownstream = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Whether a response is server-sent events (a stream: its usage, if any, is in its last events). */
export function isEventStream(headers: OutgoingHeaders): boolean {
  const type = headers["content-type"];
  return typeof type === "string" && type.startsWith("text/event-stream");
}

/** Caller headers to send to every backend, without credentials or hop-by-hop headers. Built once per call. */
export function upstreamRequestHeaders(incoming: IncomingHeaders): OutgoingHeaders {
  return forwardable(incoming, notForwardedUpstream);
}

/** The backend's response headers, plus which backend (and deployment there) served and after how many attempts. */
export function downstreamResponseHeaders(
  upstream: IncomingHeaders,
  backend: string,
  servedDeployment: string | undefined,
  attempts: number,
): OutgoingHeaders {
  const out = forwardable(upstream, notForwardedDownstream);
  out["x-served-by"] = backend;
  if (servedDeployment !== undefined) out["x-served-deployment"] = servedDeployment;
  else delete out["x-served-deployment"];
  out["x-router-attempts"] = String(attempts);
  return out;
}

/** A copy of `from` without the `dropped` names and those its Connection header lists. */
function forwardable(from: IncomingHeaders, dropped: ReadonlySet<string>): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const name in from) {
    const value = from[name];
    if (value === undefined || dropped.has(name)) continue;
    out[name] = value;
  }
  dropConnectionListed(from, out);
  return out;
}

// Names listed in Connection are hop-by-hop too (RFC 9110 §7.6.1), in both directions.
function dropConnectionListed(from: IncomingHeaders, out: OutgoingHeaders): void {
  const connection = from.connection;
  if (connection === undefined || connection === "keep-alive" || connection === "close") return;
  const text = Array.isArray(connection) ? connection.join(",") : connection;
  for (const token of text.split(",")) delete out[token.trim().toLowerCase()];
}
