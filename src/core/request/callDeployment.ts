// A call's deployment — the name the caller uses — and the call rewritten for the name at each
// backend. On `/openai/deployments/{name}/…` the name is the path segment and only that segment
// changes; on other paths it is the body's top-level `model` (JSON or multipart) and only that
// value changes: every other byte is sent as the caller sent it.

import type { RequestBody } from "../routing/upstream";
import { type BodyRefs, findJsonModel, type ModelScan } from "./jsonModel";
import { findMultipartModel, multipartBoundary } from "./multipartModel";

export interface CallDeployment {
  /** The caller's name for the deployment. */
  name: string;
  /** Where it was read, and so where it is rewritten. */
  where: "path" | "json" | "multipart";
  /** In the URL (path) or the body (json, multipart): the bytes that hold the name. */
  start: number;
  end: number;
}

/** `refs`: the stored objects a JSON body names (`previous_response_id`, …), when it names any. */
export type DeploymentLookup =
  | { kind: "deployment"; deployment: CallDeployment; refs?: BodyRefs }
  | { kind: "none"; refs?: BodyRefs }
  /** The body names a deployment twice: refused, as the router and a backend could read different ones. */
  | { kind: "ambiguous" };

const deploymentsPrefix = "/openai/deployments/";
const none: DeploymentLookup = { kind: "none" };

/** The deployment of a call to `url` (path and query; `path` is its path alone). */
export function findCallDeployment(
  url: string,
  path: string,
  contentType: string | undefined,
  body: Uint8Array | undefined,
): DeploymentLookup {
  if (path.startsWith(deploymentsPrefix)) {
    const start = deploymentsPrefix.length;
    const slash = path.indexOf("/", start);
    const end = slash === -1 ? path.length : slash;
    if (end === start) return none;
    return { kind: "deployment", deployment: { name: decodeSegment(url.slice(start, end)), where: "path", start, end } };
  }
  if (body === undefined || body.length === 0) return none;
  const type = contentType ?? "";
  const boundary = multipartBoundary(type);
  if (boundary === "ambiguous") return { kind: "ambiguous" };
  if (boundary !== undefined) return fromBody(findMultipartModel(body, boundary), "multipart");
  // A body that parses as a JSON object is JSON, whatever its content type says: the service reads
  // it so, and a `text/plain` label must not hide its `model` from the allow-list. Anything that
  // does not open with `{` (after whitespace) is judged at its first bytes.
  return fromBody(findJsonModel(body), "json");
}

function fromBody(scan: ModelScan, where: "json" | "multipart"): DeploymentLookup {
  if (scan.kind === "duplicate") return { kind: "ambiguous" };
  if (scan.kind === "absent" || scan.field.value === "") return scan.refs ? { kind: "none", refs: scan.refs } : none;
  const { value, start, end } = scan.field;
  return { kind: "deployment", deployment: { name: value, where, start, end }, refs: scan.refs };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The URL for a backend that calls the deployment `target`. */
export function urlFor(url: string, deployment: CallDeployment, target: string): string {
  if (deployment.where !== "path") return url;
  return url.slice(0, deployment.start) + encodeURIComponent(target) + url.slice(deployment.end);
}

/** Rewritten bodies from this size on go out as slices of the caller's bytes instead of a copy. */
export const sliceFromBytes = 64 * 1024;

/**
 * The body for a backend that calls the deployment `target` (read from the body): one value
 * replaced, every other byte kept. A small body is copied into one buffer (the cheapest to send);
 * a large one goes out as three pieces — two slices of the caller's bytes around the new value —
 * as a 200 KB copy per call (and its garbage) showed in the benchmark, while sending pieces costs
 * more than copying a 2 KB body.
 */
export function bodyFor(body: Uint8Array, deployment: CallDeployment, target: string): RequestBody {
  const value = deployment.where === "json" ? JSON.stringify(target) : target;
  const pieces = [body.subarray(0, deployment.start), Buffer.from(value, "utf8"), body.subarray(deployment.end)];
  return body.byteLength < sliceFromBytes ? Buffer.concat(pieces) : pieces;
}
