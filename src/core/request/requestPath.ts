// The path of a call, split off its query, and checked before it may reach a backend with the
// router's credential: no dot segments and no encoded slashes, raw or percent-encoded, so a
// caller can reach nothing outside `/openai/` of a backend (whatever the backend's base path).

import { miscasedFixedSegment } from "./callFamily";

/** The path of `url` (path and query). */
export function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** Why a forwarded path is refused, or `undefined` when it is safe to send. */
export function unsafePathReason(path: string): string | undefined {
  // An empty segment (`/openai/deployments//o3-mini/…`, a trailing slash): a backend may read it
  // as another path than the router did.
  if (path.indexOf("//") !== -1 || path.endsWith("/")) return "The path must not contain an empty segment.";
  if (miscasedFixedSegment(path)) return "The path's fixed segments (openai, deployments, v1, files, …) must be lower case.";
  // Cheap common case first: no dot, no percent sign, no backslash.
  if (path.indexOf(".") === -1 && path.indexOf("%") === -1 && path.indexOf("\\") === -1) return undefined;
  if (path.indexOf("\\") !== -1) return "The path must not contain a backslash.";
  if (/%(2f|5c)/i.test(path)) return "The path must not contain an encoded slash or backslash.";
  for (const segment of path.split("/")) {
    let decoded = segment;
    if (segment.indexOf("%") !== -1) {
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return "The path has an invalid percent-encoding.";
      }
    }
    if (decoded === "." || decoded === "..") return "The path must not contain '.' or '..' segments.";
  }
  return undefined;
}
