// Azure's own spillover: a provisioned deployment with a spillover deployment sends its overflow
// there, and the answer says so — `x-ms-spillover-from-<deployment>`, or
// `x-ms-spillover-from-deployment: <name>`. The call's log line names the deployment it spilled from.

import type { IncomingHeaders } from "../request/exchange";

const spilloverPrefix = "x-ms-spillover-from-";

/** The deployment Azure spilled the call over from, when its answer says so. */
export function spilledFrom(headers: IncomingHeaders): string | undefined {
  const named = headers["x-ms-spillover-from-deployment"];
  if (typeof named === "string" && named !== "") return named.slice(0, 64);
  for (const name in headers) {
    if (name.length > spilloverPrefix.length && name.startsWith(spilloverPrefix) && name !== "x-ms-spillover-from-deployment") {
      return name.slice(spilloverPrefix.length, spilloverPrefix.length + 64);
    }
  }
  return undefined;
}
