// `npm ci --omit=optional` keeps Azure Functions Core Tools out of CI (its postinstall downloads from
// a CDN), but it also drops the platform builds that our dev tools ship as optional dependencies
// (rolldown for vitest, Biome). This installs exactly this platform's builds, at the locked versions.
const { execFileSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const lock = require("../package-lock.json");

const glibc = Boolean(process.report?.getReport().header.glibcVersionRuntime);
const wanted = [];
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!meta.optional || !meta.os || !meta.cpu || !path.startsWith("node_modules/")) continue;
  if (!meta.os.includes(process.platform) || !meta.cpu.includes(process.arch)) continue;
  if (meta.libc && !meta.libc.includes(glibc ? "glibc" : "musl")) continue;
  if (existsSync(path)) continue;
  wanted.push(`${path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)}@${meta.version}`);
}
if (wanted.length > 0) {
  console.log(`installing platform builds: ${wanted.join(" ")}`);
  execFileSync("npm", ["install", "--no-save", "--ignore-scripts", "--omit=optional", "--no-audit", "--no-fund", ...wanted], { stdio: "inherit" });
}
