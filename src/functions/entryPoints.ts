// Functions entry points. Each route is a thin registration over the one core router; the routes
// mirror the core's, and a catch-all gives unknown paths the router's 404 JSON.

import "../index";
import { app, type HttpMethod, type HttpRequest, type InvocationContext } from "@azure/functions";
import { functionsHandler, workerLog } from "../hosts/functions/functionsHandler";
import { handleHttp } from "../hosts/functions/httpAdapter";

const everyMethod: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
// Built when the worker loads the app, so a configuration error is logged at start-up, once.
const router = functionsHandler();
const handler = (request: HttpRequest, context: InvocationContext) => handleHttp(router, request, context, workerLog);

app.http("openai", { route: "openai/{*path}", methods: everyMethod, authLevel: "anonymous", handler });
app.http("health", { route: "health", methods: ["GET", "HEAD"], authLevel: "anonymous", handler });
app.http("status", { route: "status", methods: ["GET"], authLevel: "anonymous", handler });
app.http("notFound", { route: "{*rest}", methods: everyMethod, authLevel: "anonymous", handler });
