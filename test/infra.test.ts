// Bicep cannot be compiled here, so the files are read as text and checked against the code:
// every setting the code requires is set on the Function App, nothing is set that no one reads,
// modules get every parameter they require, and the Front Door / lock-down choices are in place.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../src/core/config";
import { settingNames } from "../src/core/settings";

const root = join(__dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const functionApp = read("infra/modules/functionApp.bicep");
const main = read("infra/main.bicep");

/** App setting names the Bicep sets literally (`{ name: 'X', value: ... }`). */
function bicepAppSettings(): string[] {
  const block = functionApp.slice(functionApp.indexOf("appSettings:"));
  return [...block.matchAll(/\{\s*name:\s*'([A-Za-z0-9_]+)'\s*,\s*value:/g)].map((m) => m[1] ?? "");
}

/** Every environment variable the router's code reads. */
function settingsCodeReads(): Set<string> {
  const names = new Set<string>(Object.values(settingNames));
  for (const file of ["src/core/settings.ts", "src/server.ts"]) {
    for (const m of read(file).matchAll(/env\.([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? "");
  }
  return names;
}

// Read by the Azure Functions host, not by the router's code.
const functionsHostSettings = new Set(["APPLICATIONINSIGHTS_CONNECTION_STRING", "AzureWebJobsStorage__accountName"]);

const required = [settingNames.config, settingNames.clientKeys, settingNames.state, settingNames.stateTable, settingNames.frontDoorId];

describe("infra/ against the code", () => {
  it("sets every setting the code requires on the Function App", () => {
    const set = bicepAppSettings();
    for (const name of required) expect(set, `${name} missing from functionApp.bicep appSettings`).toContain(name);
  });

  it("sets no setting that neither the code nor the Functions host reads", () => {
    const reads = settingsCodeReads();
    for (const name of bicepAppSettings()) {
      expect(reads.has(name) || functionsHostSettings.has(name), `${name} is set in Bicep but nothing reads it`).toBe(true);
    }
  });

  it("the code reads every name in settingNames from the environment (the list cannot outlive the code)", () => {
    const source = read("src/core/settings.ts");
    for (const key of Object.keys(settingNames)) {
      // Either env[settingNames.key] or a reader called as (env, settingNames.key).
      expect(source, `settings.ts no longer reads settingNames.${key}`).toMatch(
        new RegExp(`env\\[settingNames\\.${key}\\]|\\(env, settingNames\\.${key}\\b`),
      );
    }
    expect(source).toMatch(/env\.AzureWebJobsStorage__accountName/);
  });

  it("the parameters example holds a valid ROUTER_CONFIG whose apiKey settings get Key Vault references", () => {
    const parameters = JSON.parse(read("infra/main.parameters.json")).parameters;
    const config = parseRouterConfig(parameters.routerConfig.value);
    const keySettings = config.backends.flatMap((b) => (b.auth.type === "apiKey" ? [b.auth.keySetting] : []));
    expect(keySettings.length).toBeGreaterThan(0);
    for (const setting of keySettings) expect(Object.keys(parameters.backendApiKeys.value)).toContain(setting);
    expect(functionApp).toMatch(/map\(backendKeySettings, setting => \{\s*name: setting\s*value: '@Microsoft\.KeyVault\(SecretUri=/);
    expect(parameters.regions.value.length).toBeGreaterThanOrEqual(2);
  });

  it("passes every required parameter of every module it uses", () => {
    const callers = ["infra/main.bicep", ...readdirSync(join(root, "infra/modules")).map((f) => `infra/modules/${f}`)];
    for (const caller of callers) {
      const text = read(caller);
      for (const m of text.matchAll(/module\s+\w+\s+'([^']+)'/g)) {
        const modulePath = join(caller, "..", m[1] ?? "");
        const declared = [...readFileSync(join(root, modulePath), "utf8").matchAll(/^param\s+(\w+)\s+\w+(\s*=)?/gm)];
        for (const p of declared) {
          if (p[2]) continue;
          expect(text, `${caller} does not pass ${p[1]} to ${m[1]}`).toMatch(new RegExp(`\\b${p[1]}:`));
        }
      }
    }
  });

  it("runs Node 22 on Flex Consumption with an always-ready instance and explicit HTTP concurrency", () => {
    expect(functionApp).toContain("name: 'FC1'");
    expect(functionApp).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
    expect(functionApp).toMatch(/alwaysReady: \[ \{ name: 'http', instanceCount: alwaysReadyInstances \} \]/);
    expect(functionApp).toMatch(/perInstanceConcurrency: httpPerInstanceConcurrency/);
    expect(functionApp).toContain("type: 'SystemAssigned'");
  });

  it("admits only our Front Door: AzureFrontDoor.Backend service tag with our x-azure-fdid, default deny", () => {
    expect(functionApp).toContain("ipSecurityRestrictionsDefaultAction: 'Deny'");
    expect(functionApp).toContain("ipAddress: 'AzureFrontDoor.Backend'");
    expect(functionApp).toMatch(/headers: \{ 'x-azure-fdid': \[ frontDoorId \] \}/);
    expect(functionApp).toMatch(/name: 'ROUTER_FRONT_DOOR_ID', value: frontDoorId/);
  });

  it("probes /health, sets the origin timeout for long LLM calls, and neither caches nor compresses", () => {
    const routes = read("infra/modules/frontDoorRoutes.bicep");
    expect(routes).toContain("probePath: '/health'");
    expect(routes).toMatch(/patternsToMatch: \[ '\/openai\/\*', '\/health', '\/status' \]/);
    expect(routes).not.toContain("cacheConfiguration");
    expect(routes).not.toContain("compressionSettings");
    expect(routes).not.toContain("isCompressionEnabled");
    expect(read("infra/modules/frontDoorProfile.bicep")).toContain("originResponseTimeoutSeconds: 240");
  });

  it("grants the roles the apps need and keeps shared keys off the storage accounts", () => {
    const all = [main, functionApp, read("infra/modules/sharedAccess.bicep"), read("infra/modules/openAiAccess.bicep")].join("\n");
    for (const role of [
      "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", // Cognitive Services OpenAI User
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
      "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner (deployment storage)
    ]) {
      expect(all).toContain(role);
    }
    expect(read("infra/modules/stateStorage.bicep")).toContain("allowSharedKeyAccess: false");
    expect(functionApp).toContain("allowSharedKeyAccess: false");
  });

  it("outputs the Front Door endpoint and the Function App names for the deploy steps", () => {
    expect(main).toMatch(/output frontDoorEndpoint string/);
    expect(main).toMatch(/output functionAppNames array/);
  });
});
