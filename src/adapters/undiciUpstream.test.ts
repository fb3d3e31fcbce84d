import { describe, expect, it } from "vitest";
import { withoutAddresses } from "./undiciUpstream";

describe("withoutAddresses", () => {
  it("takes hosts and ports out of connection error messages", () => {
    expect(withoutAddresses("connect ECONNREFUSED 127.0.0.1:40123")).toBe("connect ECONNREFUSED <address>");
    expect(withoutAddresses("getaddrinfo ENOTFOUND aoai-eastus.openai.azure.com:443")).toBe("getaddrinfo ENOTFOUND <address>");
    expect(withoutAddresses("connect ECONNREFUSED [::1]:443")).toBe("connect ECONNREFUSED <address>");
    expect(withoutAddresses("getaddrinfo ENOTFOUND aoai-westus.openai.azure.com")).toBe("getaddrinfo ENOTFOUND <address>");
    expect(withoutAddresses("other side closed")).toBe("other side closed");
  });
});
