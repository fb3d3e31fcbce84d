// Says what to do when Azure Functions Core Tools (`func`) is missing, instead of a bare
// "sh: func: not found": `npm run start:func` runs it with --required before building, and stops
// at once when `func` is missing. (No postinstall: `npm install` stays quiet, and the lock file clean.)
// Plain CommonJS: it runs before anything is built.

const { existsSync } = require("node:fs");
const { delimiter, join } = require("node:path");

const names = process.platform === "win32" ? ["func.cmd", "func.exe", "func"] : ["func"];
// npm puts node_modules/.bin on PATH for its scripts, so the optional local install is found too.
const dirs = (process.env.PATH ?? "").split(delimiter);
const found = dirs.some((dir) => dir && names.some((name) => existsSync(join(dir, name))));
const required = process.argv.includes("--required");

if (!found) {
  const lines = [
    required
      ? "Azure Functions Core Tools (func) is not installed, so `npm run start:func` cannot start the Functions host."
      : "Note: Azure Functions Core Tools (func) is not installed (its optional download did not run or failed).",
    "  `npm start` needs nothing more: it runs the same router on the plain Node host.",
    "  For `npm run start:func` and `func azure functionapp publish`, install Core Tools v4:",
    "  npm install -g azure-functions-core-tools@4   (or: https://learn.microsoft.com/azure/azure-functions/functions-run-local)",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
  if (required) process.exit(1);
}
