// infra/ checked as a compiler would, here where no Bicep compiler runs (see test/helpers/bicepCheck.ts):
// clean, with the values it could not check listed, and each kind of mistake it exists for caught
// when injected into the real files.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BicepChecker } from "./helpers/bicepCheck";

const infra = join(__dirname, "..", "infra");
let checker: BicepChecker;
beforeAll(async () => {
  checker = await BicepChecker.create(join(infra, "types", "azure-types.json"));
});

/** infra/ with one file's text replaced: `from` must occur in it. */
function injected(file: string, from: string, to: string): Map<string, string> {
  const text = readFileSync(join(infra, file), "utf8");
  expect(text, `${file} holds ${from}`).toContain(from);
  return new Map([[file, text.replace(from, to)]]);
}

describe("infra/ against Azure's own type definitions", () => {
  it("parses every file and finds no mistake in any resource, module call or output used", () => {
    const report = checker.checkFolder(infra);
    expect(report.errors).toEqual([]);
    expect(report.resources).toBeGreaterThanOrEqual(25);
    // What it could not check is listed, never passed silently: expressions (names, ids, URIs).
    expect(report.unchecked.length).toBeGreaterThan(0);
    for (const entry of report.unchecked) expect(entry).toMatch(/^[\w./]+\.bicep:\d+ [\w./@[\]-]+/);
  });

  it("catches a misspelled property, and a property in the wrong case", () => {
    const typo = checker.checkFolder(infra, injected("modules/functionApp.bicep", "httpsOnly: true", "httpOnly: true"));
    expect(typo.errors).toEqual([
      expect.stringMatching(/functionApp\.bicep:\d+: Microsoft\.Web\/sites@2024-04-01\.properties has no property httpOnly/),
    ]);
    const cased = checker.checkFolder(infra, injected("modules/functionApp.bicep", "httpsOnly: true", "HttpsOnly: true"));
    expect(cased.errors).toEqual([expect.stringMatching(/properties\.HttpsOnly is spelled httpsOnly/)]);
  });

  it("catches a value outside an enum, and an integer out of range", () => {
    const tier = checker.checkFolder(infra, injected("modules/keyVault.bicep", "name: 'standard'", "name: 'gold'"));
    expect(tier.errors).toEqual([expect.stringMatching(/sku\.name is 'gold'; allowed: standard, premium/)]);
    const probe = checker.checkFolder(
      infra,
      injected("modules/frontDoorRoutes.bicep", "probeIntervalInSeconds: 30", "probeIntervalInSeconds: 300"),
    );
    expect(probe.errors).toEqual([expect.stringMatching(/probeIntervalInSeconds 300 is above 255/)]);
    const timeout = checker.checkFolder(
      infra,
      injected("modules/frontDoorProfile.bicep", "originResponseTimeoutSeconds: 240", "originResponseTimeoutSeconds: 10"),
    );
    expect(timeout.errors).toEqual([expect.stringMatching(/originResponseTimeoutSeconds 10 is below 16/)]);
  });

  it("catches a read-only property set", () => {
    const report = checker.checkFolder(
      infra,
      injected("modules/functionApp.bicep", "httpsOnly: true", "httpsOnly: true\n    defaultHostName: 'x.example'"),
    );
    expect(report.errors).toEqual([expect.stringMatching(/properties\.defaultHostName is read-only/)]);
  });

  it("catches a module parameter that is not declared, one not passed, and an output that does not exist", () => {
    const extra = checker.checkFolder(
      infra,
      injected(
        "main.bicep",
        "      openAiAccountIds: openAiAccountIds\n",
        "      openAiAccountIds: openAiAccountIds\n      openAiAccounts: []\n",
      ),
    );
    expect(extra.errors).toEqual([expect.stringMatching(/module modules\/functionApp\.bicep declares no parameter openAiAccounts/)]);
    const missing = checker.checkFolder(infra, injected("main.bicep", "      openAiAccountIds: openAiAccountIds\n", ""));
    expect(missing.errors).toEqual([expect.stringMatching(/module modules\/functionApp\.bicep needs parameter openAiAccountIds/)]);
    const output = checker.checkFolder(
      infra,
      injected("main.bicep", "frontDoorProfile.outputs.frontDoorId\n", "frontDoorProfile.outputs.frontDoorIdentifier\n"),
    );
    expect(output.errors).toEqual([expect.stringMatching(/module frontDoorProfile has no output frontDoorIdentifier/)]);
  });

  it("applies the Flex Consumption rules types cannot express: siteConfig properties and app settings it rejects", () => {
    const ftps = checker.checkFolder(
      infra,
      injected("modules/functionApp.bicep", "minTlsVersion: '1.2'", "minTlsVersion: '1.2'\n      ftpsState: 'Disabled'"),
    );
    expect(ftps.errors).toEqual([expect.stringMatching(/siteConfig\.ftpsState is rejected on Flex Consumption/)]);
    const runtime = checker.checkFolder(
      infra,
      injected(
        "modules/appSettings.bicep",
        "ROUTER_STATE_REFRESH: 'PT1S'",
        "ROUTER_STATE_REFRESH: 'PT1S'\n      FUNCTIONS_WORKER_RUNTIME: 'node'",
      ),
    );
    expect(runtime.errors).toEqual([expect.stringMatching(/app setting FUNCTIONS_WORKER_RUNTIME is rejected on Flex Consumption/)]);
  });

  it("catches a resource type or API version the definitions do not have, and a file that does not parse", () => {
    const version = checker.checkFolder(
      infra,
      injected("modules/keyVault.bicep", "Microsoft.KeyVault/vaults@2023-07-01' = {", "Microsoft.KeyVault/vaults@2019-01-01' = {"),
    );
    expect(version.errors).toEqual([expect.stringMatching(/no resource type Microsoft\.KeyVault\/vaults@2019-01-01/)]);
    const broken = checker.checkFolder(infra, injected("modules/keyVault.bicep", "param location string", "param location string = {"));
    expect(broken.errors.some((e) => /keyVault\.bicep: does not parse/.test(e))).toBe(true);
  });
});
