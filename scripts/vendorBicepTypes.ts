// Vendors into infra/types/ the subset of Azure's own resource type definitions (bicep-types-az)
// that infra/ uses: exactly the resource types and API versions its .bicep files name, and every
// type they reach, descriptions dropped. Run when infra/ starts using another type or version:
//   npm run build && node dist/scripts/vendorBicepTypes.js <folder with bicep-types' types.json files>
// (the folder this project was given is ../shared/bicep-types; its README names the source commit).

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Json = unknown;
interface Ref {
  $ref: string;
}

const root = join(__dirname, "..", "..");

function usedResourceTypes(): Set<string> {
  const used = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else if (name.name.endsWith(".bicep")) {
        for (const m of readFileSync(path, "utf8").matchAll(/'([A-Za-z.]+\/[A-Za-z/]+@[0-9]{4}-[0-9]{2}-[0-9]{2}(?:-preview)?)'/g))
          used.add(m[1] as string);
      }
    }
  };
  walk(join(root, "infra"));
  return used;
}

function main(): void {
  const source = process.argv[2] ?? join(root, "..", "shared", "bicep-types");
  const used = usedResourceTypes();
  const out: Json[] = [];
  const resources: Record<string, number> = {};
  for (const file of readdirSync(source)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const types = JSON.parse(readFileSync(join(source, file), "utf8")) as Record<string, Json>[];
    const mapped = new Map<number, number>();
    const copy = (index: number): number => {
      const known = mapped.get(index);
      if (known !== undefined) return known;
      const at = out.length;
      mapped.set(index, at);
      out.push(null);
      out[at] = rewrite(types[index]);
      return at;
    };
    const rewrite = (value: Json): Json => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value && typeof value === "object") {
        const ref = (value as Ref).$ref;
        if (typeof ref === "string") return { $ref: `#/${copy(Number(ref.slice(2)))}` };
        const result: Record<string, Json> = {};
        for (const [k, v] of Object.entries(value)) if (k !== "description") result[k] = rewrite(v);
        return result;
      }
      return value;
    };
    types.forEach((t, i) => {
      if (t.$type === "ResourceType" && used.has(t.name as string) && resources[t.name as string] === undefined)
        resources[t.name as string] = copy(i);
    });
  }
  const missing = [...used].filter((t) => resources[t] === undefined);
  if (missing.length > 0) throw new Error(`no type definitions for ${missing.join(", ")} in ${source}`);
  const readme = readFileSync(join(source, "README.md"), "utf8");
  const commit = /commit ([0-9a-f]{40})/.exec(readme)?.[1] ?? "unknown";
  writeFileSync(
    join(root, "infra", "types", "azure-types.json"),
    `${JSON.stringify({ source: `Azure/bicep-types-az (MIT), commit ${commit}, generated/<provider>/<namespace>/<apiVersion>/types.json; only the types infra/ uses, descriptions dropped`, resources, types: out })}\n`,
  );
  process.stdout.write(`vendored ${Object.keys(resources).length} resource types, ${out.length} types\n`);
}

main();
