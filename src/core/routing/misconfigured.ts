// Stands in for the router when settings are invalid (the Functions host cannot exit its worker):
// every call 500 `RouterMisconfigured`, /health 503, until the settings are fixed and the app restarts.

import { errorResponse } from "../request/errors";
import { pathOf } from "../request/requestPath";
import type { RequestHandler } from "./router";
import { noStore } from "./stateRoutes";

export function misconfiguredHandler(): RequestHandler {
  return {
    handle: async (request) => {
      if (pathOf(request.url) === "/health") {
        return {
          response: errorResponse("NoBackendAvailable", "The router is misconfigured; see its log.", { "retry-after": "60", ...noStore }),
        };
      }
      return {
        response: errorResponse("RouterMisconfigured", "The router is misconfigured; the operator must fix its settings (see its log)."),
      };
    },
  };
}
