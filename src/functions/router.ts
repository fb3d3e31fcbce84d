// Functions entry points. Each route is a thin registration over the one core router; the routes
// mirror the core's, and a catch-all gives unknown paths the router's 404 JSON.

import "../index";
import { app, type HttpMethod } from "@azure/functions";
import { functionsHandler } from "./functionsRouter";
import { handleHttp } from "./httpAdapter";

const everyMethod: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
// Built when the worker loads the app, so a configuration error is logged at start-up, once.
const router = functionsHandler();
const handler = (request: Parameters<typeof handleHttp>[1], context: Parameters<typeof handleHttp>[2]) =>
  handleHttp(router, request, context);

app.http("openai", { route: "openai/{*path}", methods: everyMethod, authLevel: "anonymous", handler });
app.http("health", { route: "health", methods: ["GET", "HEAD"], authLevel: "anonymous", handler });
app.http("status", { route: "status", methods: ["GET"], authLevel: "anonymous", handler });
app.http("notFound", { route: "{*rest}", methods: everyMethod, authLevel: "anonymous", handler });
