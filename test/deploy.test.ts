// `npm run deploy` cannot reach Azure here: its --dry-run prints every command it would run, and
// that output is what a user's deployment will do. Also: the checks it makes before deploying, and
// the app package it builds (read back entry by entry).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { preflight } from "../scripts/deploy";
import { crc32, ignoredBy, writeZip, zipEntries } from "../scripts/zipFolder";

const root = join(__dirname, "..");
const parameters = JSON.parse(readFileSync(join(root, "infra/main.parameters.json"), "utf8")).parameters;
const secret = "sk-westus-secret-value";

function dryRun(env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, ["dist/scripts/deploy.js", "--resource-group", "rg-router", "--dry-run", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
  });
}

describe("npm run deploy -- --dry-run", () => {
  it("prints, in order, every az command of a first deployment, and no secret", () => {
    const run = dryRun({ ROUTER_DEPLOY_SECRETS: JSON.stringify({ AOAI_WESTUS_KEY: secret }), ROUTER_DEPLOY_CLIENT_KEYS: "operators-key" });
    expect(run.status).toBe(0);
    const commands = run.stdout.split("\n").filter((l) => l.startsWith("$ "));
    const order = [
      "$ az account show",
      "$ az provider register --namespace Microsoft.Cdn --wait",
      "$ az group create -n rg-router -l eastus2",
      "$ az keyvault list-deleted --resource-type vault",
      "$ az deployment group create -g rg-router -n router -f infra/main.bicep -p @infra/main.parameters.json -p @<secrets file>",
      "$ npm ci --omit=optional",
      "$ npm run build",
      "$ npm prune --omit=dev",
      "$ az functionapp deployment source config-zip -g rg-router -n <app in eastus2>",
      "$ az functionapp deployment source config-zip -g rg-router -n <app in swedencentral>",
      "$ npm install",
    ];
    let at = -1;
    for (const expected of order) {
      const found = commands.findIndex((c, i) => i > at && c.startsWith(expected));
      expect(found, `"${expected}" after command ${at}`).toBeGreaterThan(at);
      at = found;
    }
    // Publishing never calls the app (the Front Door lock would answer 403): no Core Tools publish.
    expect(run.stdout).not.toContain("func azure functionapp publish");
    expect(run.stdout).toContain("check: GET <frontDoorEndpoint>/health until 200");
    expect(run.stdout).toContain("check: one chat call through <frontDoorEndpoint> with the official SDK");
    expect(run.stdout).toContain("Front Door URL: <frontDoorEndpoint>");
    expect(run.stdout + run.stderr).not.toContain(secret);
    expect(run.stdout + run.stderr).not.toContain("operators-key");
  });

  it("stops before deploying when a key routerConfig names has no value, naming the setting", () => {
    const run = dryRun({ ROUTER_DEPLOY_SECRETS: "{}" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("ROUTER_DEPLOY_SECRETS has no value for AOAI_WESTUS_KEY");
    expect(run.stdout).not.toContain("$ az deployment group create");
  });

  it("makes up the operators' key when none is given, and says so once", () => {
    const run = dryRun({ ROUTER_DEPLOY_SECRETS: JSON.stringify({ AOAI_WESTUS_KEY: secret }) });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("operators' client key (keep it; it is stored in Key Vault): <generated>");
  });
});

describe("preflight", () => {
  it("finds managedIdentity backends the apps would get no role on, and named clients without keys", () => {
    const config = structuredClone(parameters.routerConfig.value);
    config.backends[0].url = "https://aoai-nowhere.openai.azure.com";
    config.clients = [{ name: "chat-app", keySetting: "CHAT_APP_KEYS" }];
    const { problems, secretSettings } = preflight({ ...parameters, routerConfig: { value: config } }, { AOAI_WESTUS_KEY: "k" });
    expect(secretSettings).toEqual(["AOAI_WESTUS_KEY", "CHAT_APP_KEYS"]);
    expect(problems).toEqual([
      "ROUTER_DEPLOY_SECRETS has no value for CHAT_APP_KEYS (named by routerConfig)",
      "backend eastus-ptu (managedIdentity, account aoai-nowhere) is not in openAiAccountIds: the apps would get no role on it",
    ]);
  });

  it("passes the example parameters with the westus key given", () => {
    expect(preflight(parameters, { AOAI_WESTUS_KEY: "k" }).problems).toEqual([]);
  });
});

describe("the app package", () => {
  it("leaves out what .funcignore names and keeps dist/src, host.json and package.json", () => {
    const patterns = readFileSync(join(root, ".funcignore"), "utf8").split("\n").filter(Boolean);
    expect(ignoredBy(patterns, "src/core/routing/router.ts")).toBe(true);
    expect(ignoredBy(patterns, "dist/test/deploy.test.js")).toBe(true);
    expect(ignoredBy(patterns, "README.md")).toBe(true);
    expect(ignoredBy(patterns, ".gitignore")).toBe(true);
    expect(ignoredBy(patterns, "node_modules/azure-functions-core-tools/package.json")).toBe(true);
    expect(ignoredBy(patterns, "dist/src/index.js")).toBe(false);
    expect(ignoredBy(patterns, "host.json")).toBe(false);
    expect(ignoredBy(patterns, "node_modules/undici/package.json")).toBe(false);
  });

  it("is a zip whose every entry reads back byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "zip-"));
    writeFileSync(join(dir, "host.json"), '{"version":"2.0"}');
    writeFileSync(join(dir, "big.txt"), "hello ".repeat(10_000));
    writeFileSync(join(dir, "README.md"), "left out");
    const entries = zipEntries(dir, "*.md\n");
    expect(entries.map((e) => e.path).sort()).toEqual(["big.txt", "host.json"]);
    const target = join(dir, "app.zip");
    writeZip(target, entries);
    const zip = readFileSync(target);
    // Walk the central directory, as unzip does, and inflate each entry.
    const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const count = zip.readUInt16LE(end + 10);
    let at = zip.readUInt32LE(end + 16);
    const read: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      expect(zip.readUInt32LE(at)).toBe(0x02014b50);
      const size = zip.readUInt32LE(at + 20);
      const nameLength = zip.readUInt16LE(at + 28);
      const local = zip.readUInt32LE(at + 42);
      const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
      const dataAt = local + 30 + zip.readUInt16LE(local + 26);
      const data = inflateRawSync(zip.subarray(dataAt, dataAt + size));
      expect(crc32(data)).toBe(zip.readUInt32LE(at + 16));
      read[name] = data.toString();
      at += 46 + nameLength;
    }
    expect(read["host.json"]).toBe('{"version":"2.0"}');
    expect(read["big.txt"]).toBe("hello ".repeat(10_000));
  });
});
