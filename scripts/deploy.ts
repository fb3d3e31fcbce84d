// `npm run deploy -- --resource-group <rg> [--location <region>] [--parameters <file>] [--dry-run]`:
// every region, Front Door and the app published to each, in one command, then the post-deploy
// checks. Idempotent: a second run updates what changed. `--dry-run` prints every `az` command it
// would run (secrets redacted) and runs nothing.
//
// Secrets never go in the parameters file or on the command line: the operators' client keys come
// from ROUTER_DEPLOY_CLIENT_KEYS (one is made up and printed once when unset), backend API keys and
// named clients' keys from ROUTER_DEPLOY_SECRETS, a JSON object by app setting name
// ({"AOAI_WESTUS_KEY": "…", "CHAT_APP_KEYS": "k1,k2"}). They reach `az` in a parameters file
// readable by the current user only, deleted when the deployment is done.
//
// Publishing uses the Flex Consumption deployment API (`az functionapp deployment source
// config-zip`), which uploads to the app's deployment storage through the management plane and
// never calls the app itself: the apps only admit our Front Door, so a publish that then asks the
// app for its health from the deployer's machine (Core Tools' `func azure functionapp publish`)
// would see 403 and report failure.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseRouterConfig } from "../src/core/config/config";
import { writeZip, zipEntries } from "./zipFolder";

interface Options {
  resourceGroup: string;
  location: string;
  parameters: string;
  dryRun: boolean;
  deployment: string;
}

function options(argv: readonly string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const resourceGroup = value("resource-group");
  if (!resourceGroup) fail("--resource-group <name> is required");
  return {
    resourceGroup,
    location: value("location") ?? "",
    parameters: value("parameters") ?? "infra/main.parameters.json",
    dryRun: argv.includes("--dry-run"),
    deployment: value("name") ?? "router",
  };
}

function fail(message: string): never {
  process.stderr.write(`deploy: ${message}\n`);
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** What the parameters and secrets must agree on, checked before anything is deployed. */
export function preflight(
  parameters: Record<string, { value: unknown }>,
  secrets: Record<string, string>,
): { regions: string[]; secretSettings: string[]; problems: string[] } {
  const problems: string[] = [];
  const config = parseRouterConfig(parameters.routerConfig?.value);
  const regions = (parameters.regions?.value as string[] | undefined) ?? [];
  if (regions.length < 2)
    problems.push("regions: name two or more Azure regions (Flex Consumption regions: az functionapp list-flexconsumption-locations)");
  const backendSettings = config.backends.flatMap((b) => (b.auth.type === "apiKey" ? [b.auth.keySetting] : []));
  const clientSettings = clientsOf(parameters).map((c) => c.keySetting ?? "");
  const secretSettings = [...backendSettings, ...clientSettings];
  for (const setting of secretSettings) {
    if (!secrets[setting]) problems.push(`ROUTER_DEPLOY_SECRETS has no value for ${setting} (named by routerConfig)`);
  }
  // Each managedIdentity backend must be an account the apps get a role on.
  const accounts = new Set(
    ((parameters.openAiAccountIds?.value as string[] | undefined) ?? []).map((id) => id.split("/").at(-1)?.toLowerCase()),
  );
  for (const b of config.backends) {
    if (b.auth.type !== "managedIdentity") continue;
    const account = new URL(b.origin).hostname.split(".")[0]?.toLowerCase();
    if (!accounts.has(account))
      problems.push(`backend ${b.name} (managedIdentity, account ${account}) is not in openAiAccountIds: the apps would get no role on it`);
  }
  return { regions, secretSettings, problems };
}

/** Runs `az` (or prints it): its output, trimmed. `shown` replaces arguments that carry secrets. */
function az(opts: Options, args: string[], shown: string[] = args): string {
  say(`$ az ${shown.join(" ")}`);
  if (opts.dryRun) return "";
  return execFileSync("az", args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

function npm(opts: Options, args: string[]): void {
  say(`$ npm ${args.join(" ")}`);
  if (!opts.dryRun) execFileSync("npm", args, { stdio: "inherit" });
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const parameters = JSON.parse(readFileSync(resolve(opts.parameters), "utf8")).parameters as Record<string, { value: unknown }>;
  let secrets: Record<string, string> = {};
  try {
    secrets = JSON.parse(process.env.ROUTER_DEPLOY_SECRETS ?? "{}");
  } catch {
    fail("ROUTER_DEPLOY_SECRETS must be a JSON object by app setting name");
  }
  const { regions, problems } = preflight(parameters, secrets);
  if (problems.length > 0) fail(`the parameters do not add up:\n  ${problems.join("\n  ")}`);
  let clientKeys = process.env.ROUTER_DEPLOY_CLIENT_KEYS ?? "";
  if (!clientKeys) {
    clientKeys = opts.dryRun ? "<generated>" : randomBytes(24).toString("hex");
    say(`operators' client key (keep it; it is stored in Key Vault): ${clientKeys}`);
  }
  const location = opts.location || regions[0] || "";
  const rg = opts.resourceGroup;

  az(opts, ["account", "show", "--query", "name", "-o", "tsv"]);
  // Front Door (Microsoft.Cdn) is not registered in every subscription; registering is idempotent.
  for (const namespace of [
    "Microsoft.Cdn",
    "Microsoft.Web",
    "Microsoft.KeyVault",
    "Microsoft.Storage",
    "Microsoft.Insights",
    "Microsoft.OperationalInsights",
  ]) {
    az(opts, ["provider", "register", "--namespace", namespace, "--wait"]);
  }
  az(opts, ["group", "create", "-n", rg, "-l", location, "-o", "none"]);
  // A vault of this resource group deleted less than 7 days ago keeps its name: recover it.
  const deleted = az(opts, [
    "keyvault",
    "list-deleted",
    "--resource-type",
    "vault",
    "--query",
    `[?contains(properties.vaultId, '/resourceGroups/${rg}/')].name`,
    "-o",
    "tsv",
  ]);
  const createMode = deleted ? "recover" : "default";

  const work = mkdtempSync(join(tmpdir(), "router-deploy-"));
  try {
    const secretFile = join(work, "secrets.json");
    const clientKeySecrets = Object.fromEntries(Object.entries(secrets).filter(([k]) => isClientSetting(parameters, k)));
    const backendApiKeys = Object.fromEntries(Object.entries(secrets).filter(([k]) => !isClientSetting(parameters, k)));
    writeFileSync(
      secretFile,
      JSON.stringify({
        $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        contentVersion: "1.0.0.0",
        parameters: {
          clientKeys: { value: clientKeys },
          backendApiKeys: { value: backendApiKeys },
          clientKeySecrets: { value: clientKeySecrets },
          keyVaultCreateMode: { value: createMode },
        },
      }),
      { mode: 0o600 },
    );
    const deploy = [
      "deployment",
      "group",
      "create",
      "-g",
      rg,
      "-n",
      opts.deployment,
      "-f",
      "infra/main.bicep",
      "-p",
      `@${opts.parameters}`,
      "-p",
      `@${secretFile}`,
      "--query",
      "properties.outputs",
      "-o",
      "json",
    ];
    const outputsText = az(
      opts,
      deploy,
      deploy.map((a) => (a === `@${secretFile}` ? "@<secrets file>" : a)),
    );
    const outputs = opts.dryRun
      ? { frontDoorEndpoint: { value: "<frontDoorEndpoint>" }, functionAppNames: { value: regions.map((r) => `<app in ${r}>`) } }
      : (JSON.parse(outputsText) as { frontDoorEndpoint: { value: string }; functionAppNames: { value: string[] } });

    // Build once, without dev dependencies, zip what Functions runs, publish it to every region.
    npm(opts, ["ci", "--omit=optional", "--no-audit", "--no-fund"]);
    npm(opts, ["run", "build"]);
    npm(opts, ["prune", "--omit=dev", "--no-audit", "--no-fund"]);
    const zip = join(work, "app.zip");
    say(`(zip of the app, without what .funcignore leaves out: ${zip})`);
    if (!opts.dryRun) writeZip(zip, zipEntries(process.cwd(), readFileSync(".funcignore", "utf8")));
    for (const app of outputs.functionAppNames.value) {
      az(opts, ["functionapp", "deployment", "source", "config-zip", "-g", rg, "-n", app, "--src", zip]);
    }
    npm(opts, ["install", "--no-audit", "--no-fund"]);
    await checks(opts, outputs.frontDoorEndpoint.value, clientKeys, parameters);
    say(`Front Door URL: ${outputs.frontDoorEndpoint.value}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `routerConfig.clients` of the parameters file, as written. */
function clientsOf(parameters: Record<string, { value: unknown }>): { keySetting?: string }[] {
  const config = parameters.routerConfig?.value as { clients?: unknown } | undefined;
  return Array.isArray(config?.clients) ? (config.clients as { keySetting?: string }[]) : [];
}

function isClientSetting(parameters: Record<string, { value: unknown }>, setting: string): boolean {
  return clientsOf(parameters).some((c) => c.keySetting === setting);
}

/** Health through Front Door (a new endpoint can take minutes to answer everywhere), then one call with the SDK. */
async function checks(opts: Options, endpoint: string, key: string, parameters: Record<string, { value: unknown }>): Promise<void> {
  say(`check: GET ${endpoint}/health until 200 (up to 15 minutes)`);
  say(`check: one chat call through ${endpoint} with the official SDK`);
  if (opts.dryRun) return;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const status = await fetch(`${endpoint}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) fail(`${endpoint}/health did not answer 200 within 15 minutes (last: ${status || "no answer"})`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
  const { AzureOpenAI } = await import("openai");
  const config = parseRouterConfig(parameters.routerConfig?.value);
  const deployment = config.backends.flatMap((b) => [...(b.deployments?.keys() ?? [])])[0] ?? "gpt-4o";
  const client = new AzureOpenAI({ endpoint, apiKey: key, apiVersion: "2024-10-21" });
  const { response } = await client.chat.completions
    .create({ model: deployment, messages: [{ role: "user", content: "Hello" }], max_tokens: 5 })
    .withResponse();
  say(`check: served by ${response.headers.get("x-served-by")} (${response.headers.get("x-served-deployment")})`);
}

if (require.main === module) {
  main().catch((error: unknown) => fail((error as Error).message));
}
