import { describe, expect, it } from "vitest";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";

describe("headers", () => {
  it("sends the caller's headers upstream without hop-by-hop headers, Host, length or the caller's credentials", () => {
    const out = upstreamRequestHeaders({
      host: "router.example",
      connection: "keep-alive, x-hop",
      "keep-alive": "timeout=5",
      "x-hop": "per-connection",
      "transfer-encoding": "chunked",
      te: "trailers",
      upgrade: "h2c",
      "proxy-authorization": "Basic abc",
      "content-length": "12",
      expect: "100-continue",
      "api-key": "caller-key",
      authorization: "Bearer caller-key",
      "content-type": "application/json",
      "x-ms-client-request-id": "abc",
      "user-agent": "AzureOpenAI/JS",
      accept: ["text/event-stream", "application/json"],
    });
    expect(out).toEqual({
      "content-type": "application/json",
      "x-ms-client-request-id": "abc",
      "user-agent": "AzureOpenAI/JS",
      accept: ["text/event-stream", "application/json"],
    });
  });

  it("passes the backend's headers back without hop-by-hop ones, adding x-served-by and x-router-attempts", () => {
    const out = downstreamResponseHeaders(
      {
        "content-type": "text/event-stream",
        "x-ms-region": "East US",
        "x-ratelimit-remaining-tokens": "99000",
        "apim-request-id": "id",
        "set-cookie": ["a=1", "b=2"],
        connection: "keep-alive",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
      },
      "eastus",
      "gpt-4o-ptu",
      2,
    );
    expect(out).toEqual({
      "content-type": "text/event-stream",
      "x-ms-region": "East US",
      "x-ratelimit-remaining-tokens": "99000",
      "apim-request-id": "id",
      "set-cookie": ["a=1", "b=2"],
      "x-served-by": "eastus",
      "x-served-deployment": "gpt-4o-ptu",
      "x-router-attempts": "2",
    });
  });

  it("drops response headers the backend's Connection header names (RFC 9110 §7.6.1)", () => {
    const out = downstreamResponseHeaders(
      { connection: "close, x-hop, X-Other", "x-hop": "1", "x-other": "2", "x-ms-region": "East US" },
      "eastus",
      undefined,
      1,
    );
    expect(out).toEqual({ "x-ms-region": "East US", "x-served-by": "eastus", "x-router-attempts": "1" });
  });

  it("leaves out x-served-deployment for a call with no deployment, even when a backend sends one", () => {
    const out = downstreamResponseHeaders({ "x-served-deployment": "forged" }, "eastus", undefined, 1);
    expect(out["x-served-deployment"]).toBeUndefined();
  });
});
