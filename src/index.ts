// Azure Functions app set-up: streamed HTTP bodies, so SSE chunks reach callers as they arrive
// and request bodies are read once by the router itself.

import { app } from "@azure/functions";

app.setup({ enableHttpStream: true });
