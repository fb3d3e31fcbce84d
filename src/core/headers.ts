// Which headers cross the router, in each direction.

import type { IncomingHeaders, OutgoingHeaders } from "./http";

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

/** Caller headers to send to every backend, without credentials or hop-by-hop headers. Built once per call. */
export function upstreamRequestHeaders(incoming: IncomingHeaders): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || notForwardedUpstream.has(name)) continue;
    out[name] = value;
  }
  // Names listed in Connection are hop-by-hop too.
  const connection = incoming.connection;
  if (typeof connection === "string" && connection !== "keep-alive" && connection !== "close") {
    for (const token of connection.split(",")) delete out[token.trim().toLowerCase()];
  }
  return out;
}

/** The backend's response headers, plus which backend served and after how many attempts. */
export function downstreamResponseHeaders(upstream: IncomingHeaders, servedBy: string, attempts: number): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || notForwardedDownstream.has(name)) continue;
    out[name] = value;
  }
  out["x-served-by"] = servedBy;
  out["x-router-attempts"] = String(attempts);
  return out;
}
