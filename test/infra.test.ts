// Bicep cannot be compiled here, so the files are read as text and checked against the code:
// every setting the code requires is set on the Function App, nothing is set that no one reads,
// modules get every parameter they require, and the Front Door / lock-down choices are in place.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../src/core/config/config";
import { settingNames } from "../src/core/config/settings";
import { flexRejectedSiteConfig } from "./helpers/bicepCheck";

const root = join(__dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const functionApp = read("infra/modules/functionApp.bicep");
const appSettings = read("infra/modules/appSettings.bicep");
const main = read("infra/main.bicep");
// The deploy steps and their checks live in the manual, behind the README.
const readme = read("docs/deploy.md");

/** App setting names the Bicep sets literally (the keys of the appsettings resource's object). */
function bicepAppSettings(): string[] {
  const block = appSettings.slice(appSettings.indexOf("properties: union("), appSettings.indexOf("toObject("));
  return [...block.matchAll(/^\s+([A-Za-z][A-Za-z0-9_]*):/gm)].map((m) => m[1] ?? "");
}

/** Every environment variable the router's code reads. */
function settingsCodeReads(): Set<string> {
  const names = new Set<string>(Object.values(settingNames));
  for (const file of ["src/core/config/settings.ts", "src/core/config/storageSettings.ts", "src/hosts/node/main.ts"]) {
    for (const m of read(file).matchAll(/env\.([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? "");
  }
  return names;
}

// Read by the Azure Functions host, not by the router's code.
const functionsHostSettings = new Set([
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "AzureWebJobsStorage__accountName",
]);

const required = [settingNames.config, settingNames.clientKeys, settingNames.state, settingNames.stateTable, settingNames.frontDoorId];

describe("infra/ against the code", () => {
  it("sets every setting the code requires on the Function App", () => {
    const set = bicepAppSettings();
    expect(set.length).toBeGreaterThanOrEqual(8);
    for (const name of required) expect(set, `${name} missing from appSettings.bicep`).toContain(name);
  });

  it("sets no setting that neither the code nor the Functions host reads", () => {
    const reads = settingsCodeReads();
    for (const name of bicepAppSettings()) {
      expect(reads.has(name) || functionsHostSettings.has(name), `${name} is set in Bicep but nothing reads it`).toBe(true);
    }
  });

  it("the code reads every name in settingNames from the environment (the list cannot outlive the code)", () => {
    const source = read("src/core/config/settings.ts") + read("src/core/config/storageSettings.ts");
    for (const key of Object.keys(settingNames)) {
      // Either env[settingNames.key] or a reader called as (env, settingNames.key).
      expect(source, `settings.ts / storageSettings.ts no longer read settingNames.${key}`).toMatch(
        new RegExp(`env\\[settingNames\\.${key}\\]|\\(env, settingNames\\.${key}\\b`),
      );
    }
    expect(source).toMatch(/env\.AzureWebJobsStorage__accountName/);
  });

  it("the parameters example holds a valid ROUTER_CONFIG and no secret; the README passes each apiKey backend's key, which becomes a Key Vault reference", () => {
    const parameters = JSON.parse(read("infra/main.parameters.json")).parameters;
    const config = parseRouterConfig(parameters.routerConfig.value);
    const keySettings = config.backends.flatMap((b) => (b.auth.type === "apiKey" ? [b.auth.keySetting] : []));
    expect(keySettings.length).toBeGreaterThan(0);
    expect(config.backends.some((b) => b.deployments !== undefined)).toBe(true);
    expect(parameters.backendApiKeys).toBeUndefined();
    expect(parameters.clientKeys).toBeUndefined();
    // The deploy docs pass each apiKey backend's key (in ROUTER_DEPLOY_SECRETS, as the deploy command reads it).
    for (const setting of keySettings) expect(readme).toMatch(new RegExp(`ROUTER_DEPLOY_SECRETS='.*"${setting}"`));
    expect(appSettings).toMatch(/toObject\(secretSettings, setting => setting, setting => '@Microsoft\.KeyVault\(SecretUri=/);
    expect(parameters.regions.value.length).toBeGreaterThanOrEqual(2);
  });

  it("writes the app settings only after the app's identity may read Key Vault, so references resolve at first start", () => {
    // The site itself carries no settings; a separate appsettings resource does, deployed after the grants.
    expect(functionApp).not.toMatch(/^\s*appSettings:/m);
    expect(appSettings).toContain("resource appsettings 'Microsoft.Web/sites/config@");
    expect(appSettings).toContain("name: 'appsettings'");
    const settingsModule = main.slice(main.indexOf("module settings 'modules/appSettings.bicep'"));
    expect(settingsModule).toMatch(/^\s*dependsOn: \[ access\[i\] \]/m);
    expect(read("infra/modules/sharedAccess.bicep")).toContain("4633458b-17de-408a-b874-0445c86b69e6");
    expect(readme).toContain("config/configreferences/appsettings/refresh");
  });

  it("turns off basic-auth publishing for FTP and SCM, and sets no siteConfig property Flex Consumption rejects", () => {
    for (const site of ["ftp", "scm"]) {
      expect(functionApp).toMatch(
        new RegExp(
          `basicPublishingCredentialsPolicies@[\\d-]+' = \\{\\s*parent: app\\s*name: '${site}'\\s*properties: \\{ allow: false \\}`,
        ),
      );
    }
    // Flex Consumption answers ARM error 51021 to these siteConfig properties (its deprecations table);
    // the Bicep check (test/bicep.test.ts) applies the same list to the parsed files.
    for (const property of flexRejectedSiteConfig) {
      expect(functionApp, `siteConfig.${property} is rejected on Flex Consumption`).not.toMatch(new RegExp(`^\\s*${property}:`, "m"));
    }
  });

  it("writes every named client's keySetting as a Key Vault reference, its keys in the vault", () => {
    // The clients' key settings come from routerConfig itself, so none can be forgotten.
    expect(main).toMatch(/var clientKeySettings = \[for c in \(routerConfig\.\?clients \?\? \[\]\): c\.keySetting\]/);
    expect(main).toMatch(/var secretSettings = union\(\[for item in items\(backendApiKeys\): item\.key\], clientKeySettings\)/);
    expect(main).toContain("settingSecrets: union(backendApiKeys, clientKeySecrets)");
    expect(main).toContain("secretSettings: secretSettings");
    expect(read("infra/modules/keyVault.bicep")).toMatch(/for item in items\(settingSecrets\)/);
  });

  it("recovers a Key Vault deleted less than 7 days ago only when asked (recover fails when there is none)", () => {
    const vault = read("infra/modules/keyVault.bicep");
    expect(vault).toContain("createMode: createMode");
    expect(vault).toMatch(/param createMode string = 'default'/);
    expect(main).toContain("createMode: keyVaultCreateMode");
  });

  it("names deployment storage uniquely per region, and makes the app wait for its deployment container", () => {
    expect(main).toMatch(/deploymentStorageName: take\('\$\{namePrefix\}d\$\{uniqueString\(resourceGroup\(\)\.id, region\)\}', 24\)/);
    const site = functionApp.slice(
      functionApp.indexOf("resource app 'Microsoft.Web/sites@"),
      functionApp.indexOf("properties: {\n    serverFarmId"),
    );
    expect(site).toContain("dependsOn: [ container ]");
  });

  it("names every role assignment from the principal id it grants, never from the app's resource id", () => {
    const files = readdirSync(join(root, "infra/modules")).map((f) => read(`infra/modules/${f}`));
    const names = files.flatMap((text) =>
      [...text.matchAll(/roleAssignments@[\d-]+' = [^{]*\{\s*name: (guid\([^)]*\))/g)].map((m) => m[1] ?? ""),
    );
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      expect(name).toContain("principalId");
      expect(name).not.toContain("app.id");
    }
  });

  it("keeps Front Door's modes within its rules and the scale-out limit within Flex Consumption's", () => {
    expect(main).toContain("priority: mode == 'activeActive' ? 1 : min(i + 1, 5)");
    expect(main).toMatch(/@minValue\(40\)\s*@maxValue\(1000\)\s*param maximumInstanceCount int/);
    expect(main).toContain("nearest to it");
  });

  it("takes Application Insights telemetry only with Entra tokens, which the apps may send", () => {
    expect(read("infra/modules/monitoring.bicep")).toContain("DisableLocalAuth: true");
    expect(read("infra/modules/sharedAccess.bicep")).toContain("3913510d-42f4-4e42-8a64-420c390055eb"); // Monitoring Metrics Publisher
    expect(appSettings).toContain("APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'");
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
    expect(appSettings).toMatch(/ROUTER_FRONT_DOOR_ID: frontDoorId/);
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
    const all = [
      main,
      functionApp,
      read("infra/modules/hostStorageAccess.bicep"),
      read("infra/modules/sharedAccess.bicep"),
      read("infra/modules/openAiAccess.bicep"),
    ].join("\n");
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

  it("the deploy docs name files, parameters and outputs that exist, and publish without calling the app", () => {
    const start = readme.indexOf("Top to bottom, from an empty resource group to a call through Front Door:");
    expect(start).toBeGreaterThan(-1);
    for (const m of readme.matchAll(/\binfra\/[\w./-]+\.(?:bicep|json)\b/g)) {
      expect(() => read(m[0]), `docs name ${m[0]}`).not.toThrow();
    }
    const params = new Set([...main.matchAll(/^param\s+(\w+)/gm)].map((m) => m[1]));
    const outputs = new Set([...main.matchAll(/^output\s+(\w+)/gm)].map((m) => m[1]));
    for (const m of readme.matchAll(/outputs\.(\w+)\.value/g)) expect(outputs, `docs read output ${m[1]}`).toContain(m[1]);
    for (const m of readme.matchAll(/\$\(out (\w+)\)/g)) expect(outputs, `docs read output ${m[1]}`).toContain(m[1]);
    // The deploy command passes exactly parameters main.bicep declares.
    const deploy = read("scripts/deploy.ts");
    const passed = deploy.slice(deploy.indexOf("parameters: {"), deploy.indexOf("}),", deploy.indexOf("parameters: {")));
    const names = [...passed.matchAll(/(\w+): \{ value: /g)].map((m) => m[1]);
    expect(names).toEqual(["clientKeys", "backendApiKeys", "clientKeySecrets", "keyVaultCreateMode"]);
    for (const name of names) expect(params, `deploy passes ${name}`).toContain(name);
    expect(deploy).toContain('"infra/main.bicep"');
    // Publishing goes through the deployment API: Core Tools' publish would call the locked app.
    expect(deploy).toMatch(/"functionapp", "deployment", "source", "config-zip"/);
    expect(deploy).not.toMatch(/"azure", "functionapp", "publish"/);
    // .funcignore leaves the sources out, so the zip is of what was built here.
    const ignored = read(".funcignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["src", "tsconfig.json"]));
    expect(read("package.json")).toMatch(/"main": "dist\/src\/\{index\.js,functions\/\*\.js\}"/);
    // The post-deploy checks use outputs, not placeholders.
    expect(readme).not.toMatch(/--profile-name <profile>/);
  });

  it("documents the permissions a first deployment needs, among them deployments on the Azure OpenAI groups", () => {
    expect(readme).toContain("Microsoft.Resources/deployments/write");
    expect(readme).toMatch(/Microsoft\.Cdn/);
    expect(readme).toMatch(/az group delete/);
  });

  it("outputs the Front Door endpoint and the Function App names for the deploy steps", () => {
    expect(main).toMatch(/output frontDoorEndpoint string/);
    expect(main).toMatch(/output functionAppNames array/);
  });
});

describe("the response cache's share in the state account", () => {
  const state = read("infra/modules/stateStorage.bicep");
  const access = read("infra/modules/sharedAccess.bicep");
  it("has its container, a lifecycle rule that deletes old answers in it, and the identity's Blob role", () => {
    expect(state).toContain("'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01'");
    expect(state).toMatch(/prefixMatch: \[ '\$\{cacheContainer\}\/' \]/);
    expect(state).toContain("daysAfterModificationGreaterThan: cacheRetentionDays");
    // Storage Blob Data Contributor, on the state account.
    expect(access).toContain("ba92f5b4-2d11-453d-a403-e96b0029c9fe");
    expect(access).toMatch(/resource cacheAccess[\s\S]*?scope: stateAccount/);
    expect(appSettings).toContain("ROUTER_CACHE_CONTAINER: cacheContainer");
    expect(main).toContain("cacheContainer: state.outputs.cacheContainer");
  });
});

describe("usage workbook", () => {
  const workbook = read("infra/modules/usageWorkbook.bicep");
  it("is deployed from main.bicep against the shared Application Insights", () => {
    expect(main).toContain("module workbook 'modules/usageWorkbook.bicep'");
    expect(main).toContain("insightsName: monitoring.outputs.insightsName");
  });

  it("charts tokens and calls by client, deployment and backend from the call log lines' fields", () => {
    for (const field of [
      "c.client",
      "c.deployment",
      "c.backend",
      "c.totalTokens",
      "c.promptTokens",
      "c.completionTokens",
      "c.tokensEstimated",
    ]) {
      expect(workbook).toContain(field);
    }
    expect(workbook).toContain("by client, deployment, backend");
    // What the response cache saved: hits and their tokens, from the hit's own log line.
    for (const field of ["c.cache", "c.savedTokens", 'cache == "hit"', "sum(savedTokens)"]) expect(workbook).toContain(field);
    expect(workbook).toContain('\'"event":"call"\''.replace(/'/g, "\\'"));
  });
});
