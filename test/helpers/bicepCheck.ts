// Checks infra/'s Bicep as a compiler would, where no Bicep compiler runs: every file parsed with
// tree-sitter-bicep (its WebAssembly build, through web-tree-sitter: no native code), every resource
// declaration checked against Azure's own type definitions for its type and API version
// (infra/types/, vendored from bicep-types-az): the type exists at that version, every literal
// property exists (in the right case), enums, integer ranges, string patterns and lengths hold, no
// read-only property is set, required properties are there; module parameters passed are declared,
// required ones passed, outputs used exist; variables and parameters resolved where their values
// are literal, loops' bodies and union()'s objects checked; and every value it could not check
// listed rather than silently passed. Plus the Flex Consumption rules types cannot express.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Language, type Node, Parser } from "web-tree-sitter";
import { type AzureType, type Property, scalarProblems, type TypeRef } from "./azureTypes";
import {
  bodyObject,
  descendants,
  firstError,
  isLiteral,
  line,
  literalObjects,
  objectKeys,
  propertyValue,
  propertyValueNode,
  unquote,
} from "./bicepTree";
import { flexRejectedAppSettings, flexRejectedSiteConfig } from "./flexConsumptionRules";

export { flexRejectedAppSettings, flexRejectedSiteConfig } from "./flexConsumptionRules";

const required = 1;
const readOnly = 2;

const bicepKeys = new Set(["parent", "scope", "dependsOn"]);

export interface BicepReport {
  errors: string[];
  /** Values the check could not resolve to literals (expressions), by file, line and property path. */
  unchecked: string[];
  /** Resource declarations checked. */
  resources: number;
}

interface Context {
  file: string;
  report: BicepReport;
  /** Variables and parameters of the file whose values are literal nodes. */
  literals: Map<string, Node>;
}

export class BicepChecker {
  private constructor(
    private readonly parser: Parser,
    private readonly types: AzureType[],
    private readonly resources: Record<string, number>,
  ) {}

  static async create(typesFile: string): Promise<BicepChecker> {
    await Parser.init();
    const language = await Language.load(require.resolve("tree-sitter-bicep/tree-sitter-bicep.wasm"));
    const parser = new Parser();
    parser.setLanguage(language);
    const vendored = JSON.parse(readFileSync(typesFile, "utf8")) as { types: AzureType[]; resources: Record<string, number> };
    return new BicepChecker(parser, vendored.types, vendored.resources);
  }

  parse(source: string): Node {
    const tree = this.parser.parse(source);
    if (!tree) throw new Error("tree-sitter returned no tree");
    return tree.rootNode;
  }

  /** Every .bicep file under `dir`, checked; sources may be overridden (to inject mistakes). */
  checkFolder(dir: string, overrides: Map<string, string> = new Map()): BicepReport {
    const report: BicepReport = { errors: [], unchecked: [], resources: 0 };
    const files: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(d, entry.name));
        else if (entry.name.endsWith(".bicep")) files.push(join(d, entry.name));
      }
    };
    walk(dir);
    const read = (file: string) => overrides.get(relative(dir, file)) ?? readFileSync(file, "utf8");
    for (const file of files.sort())
      this.checkFile(relative(dir, file), this.parse(read(file)), report, (path) => this.parse(read(join(dirname(file), path))));
    return report;
  }

  private checkFile(file: string, root: Node, report: BicepReport, module: (path: string) => Node): void {
    if (root.hasError) report.errors.push(`${file}: does not parse (${firstError(root)})`);
    const ctx: Context = { file, report, literals: new Map() };
    const modules = new Map<string, Node>();
    for (const decl of root.namedChildren) {
      if (!decl) continue;
      if (decl.type === "variable_declaration" || decl.type === "parameter_declaration") {
        const name = decl.namedChildren[0]?.text;
        const value = decl.namedChildren.at(-1);
        if (name && value && isLiteral(value)) ctx.literals.set(name, value);
      }
    }
    for (const decl of root.namedChildren) {
      if (decl?.type === "resource_declaration") this.checkResource(decl, ctx);
      if (decl?.type === "module_declaration") {
        const symbol = decl.namedChildren[0]?.text ?? "";
        const path = unquote(decl.namedChildren[1]?.text ?? "");
        try {
          const target = module(path);
          modules.set(symbol, target);
          this.checkModuleCall(decl, target, path, ctx);
        } catch {
          report.errors.push(`${file}:${line(decl)}: module ${path} cannot be read`);
        }
      }
    }
    // Outputs used of modules declared here: `m.outputs.x`, `m[i].outputs.x`.
    for (const use of descendants(root, "member_expression")) {
      const object = use.namedChildren[0];
      if (object?.type !== "member_expression" || object.namedChildren[1]?.text !== "outputs") continue;
      const base = object.namedChildren[0];
      const symbol = base?.type === "subscript_expression" ? base.namedChildren[0]?.text : base?.text;
      const target = symbol ? modules.get(symbol) : undefined;
      const output = use.namedChildren[1]?.text;
      if (!target || !output) continue;
      const declared = target.namedChildren.filter((d) => d?.type === "output_declaration").map((d) => d?.namedChildren[0]?.text);
      if (!declared.includes(output)) report.errors.push(`${file}:${line(use)}: module ${symbol} has no output ${output}`);
    }
  }

  private checkModuleCall(decl: Node, target: Node, path: string, ctx: Context): void {
    const declared = new Map<string, boolean>();
    for (const d of target.namedChildren) {
      if (d?.type !== "parameter_declaration") continue;
      const name = d.namedChildren[0]?.text ?? "";
      const hasDefault = d.namedChildren.length > 2 || /\?\s*$/.test(d.namedChildren[1]?.text ?? "");
      declared.set(name, !hasDefault);
    }
    const body = bodyObject(decl);
    const params = body ? propertyValue(body, "params") : undefined;
    const passed = params?.type === "object" ? objectKeys(params) : [];
    for (const [name] of passed)
      if (!declared.has(name)) ctx.report.errors.push(`${ctx.file}:${line(decl)}: module ${path} declares no parameter ${name}`);
    for (const [name, mustPass] of declared) {
      if (mustPass && !passed.some(([p]) => p === name))
        ctx.report.errors.push(`${ctx.file}:${line(decl)}: module ${path} needs parameter ${name}`);
    }
  }

  private checkResource(decl: Node, ctx: Context): void {
    const typeName = unquote(decl.namedChildren[1]?.text ?? "");
    const index = this.resources[typeName];
    ctx.report.resources++;
    if (index === undefined) {
      ctx.report.errors.push(`${ctx.file}:${line(decl)}: no resource type ${typeName} (at that API version)`);
      return;
    }
    const resource = this.types[index] as AzureType;
    const body = bodyObject(decl);
    if (!body) return;
    // `existing` references only name a resource: nothing else to check.
    if (/\bexisting\s*=/.test(decl.text.slice(0, decl.text.indexOf("{")))) return;
    this.checkValue(body, resource.body as TypeRef, typeName, ctx, true);
    if (typeName.startsWith("Microsoft.Web/sites@")) this.flexRules(body, typeName, ctx);
    if (typeName.startsWith("Microsoft.Web/sites/config@")) {
      const settings = propertyValue(body, "properties");
      const keys = settings ? literalObjects(settings).flatMap((o) => objectKeys(o).map(([k]) => k)) : [];
      for (const key of keys)
        if (flexRejectedAppSettings.includes(key))
          ctx.report.errors.push(`${ctx.file}:${line(body)}: app setting ${key} is rejected on Flex Consumption`);
    }
  }

  private flexRules(body: Node, typeName: string, ctx: Context): void {
    const properties = propertyValue(body, "properties");
    if (properties?.type !== "object" || !propertyValue(properties, "functionAppConfig")) return;
    const siteConfig = propertyValue(properties, "siteConfig");
    if (siteConfig?.type !== "object") return;
    for (const [key, node] of objectKeys(siteConfig)) {
      if (flexRejectedSiteConfig.includes(key))
        ctx.report.errors.push(`${ctx.file}:${line(node)}: ${typeName} siteConfig.${key} is rejected on Flex Consumption`);
    }
  }

  private resolve(ref: TypeRef): AzureType {
    return this.types[Number(ref.$ref.slice(2))] as AzureType;
  }

  private checkValue(node: Node, ref: TypeRef, path: string, ctx: Context, isBody = false): void {
    const type = this.resolve(ref);
    if (type.$type === "AnyType") return;
    const value = this.literalOf(node, ctx);
    if (value === undefined) {
      ctx.report.unchecked.push(`${ctx.file}:${line(node)} ${path}`);
      return;
    }
    if (value.type === "call_expression" && value.namedChildren[0]?.text === "union") {
      for (const arg of value.namedChildren[1]?.namedChildren ?? []) if (arg) this.checkValue(arg, ref, path, ctx);
      return;
    }
    if (value.type === "for_statement") {
      const inner = value.namedChildren.at(-1);
      if (inner) this.checkValue(inner, ref, path, ctx, isBody);
      return;
    }
    switch (type.$type) {
      case "ObjectType":
        return this.checkObject(value, type, path, ctx, isBody);
      case "DiscriminatedObjectType": {
        const discriminator = type.discriminator as string;
        const chosen = value.type === "object" ? propertyValue(value, discriminator) : undefined;
        const key = chosen ? unquote(this.literalOf(chosen, ctx)?.text ?? "") : undefined;
        const elements = type.elements as Record<string, TypeRef>;
        const element = key !== undefined ? elements[key] : undefined;
        if (!element) {
          ctx.report.unchecked.push(`${ctx.file}:${line(node)} ${path} (${discriminator} not a known literal)`);
          return;
        }
        const merged = { ...(this.resolve(element) as AzureType) };
        merged.properties = { ...(type.baseProperties as object), ...(merged.properties as object) };
        return this.checkObject(value, merged, path, ctx, isBody);
      }
      case "ArrayType":
        if (value.type !== "array") return this.mismatch(node, path, "an array", ctx);
        for (const item of value.namedChildren) if (item) this.checkValue(item, type.itemType as TypeRef, `${path}[]`, ctx);
        return;
      default:
        return this.checkScalar(value, type, path, ctx);
    }
  }

  private checkObject(value: Node, type: AzureType, path: string, ctx: Context, isBody: boolean): void {
    if (value.type !== "object") return this.mismatch(value, path, "an object", ctx);
    const properties = (type.properties ?? {}) as Record<string, Property>;
    const present = objectKeys(value);
    for (const [key, node] of present) {
      if (isBody && bicepKeys.has(key)) continue;
      const property = properties[key];
      if (!property) {
        const otherCase = Object.keys(properties).find((p) => p.toLowerCase() === key.toLowerCase());
        if (otherCase) ctx.report.errors.push(`${ctx.file}:${line(node)}: ${path}.${key} is spelled ${otherCase}`);
        else if (!type.additionalProperties) ctx.report.errors.push(`${ctx.file}:${line(node)}: ${path} has no property ${key}`);
        else this.checkValue(propertyValueNode(node), type.additionalProperties as TypeRef, `${path}.${key}`, ctx);
        continue;
      }
      if ((property.flags ?? 0) & readOnly) {
        ctx.report.errors.push(`${ctx.file}:${line(node)}: ${path}.${key} is read-only`);
        continue;
      }
      this.checkValue(propertyValueNode(node), property.type, `${path}.${key}`, ctx);
    }
    for (const [key, property] of Object.entries(properties)) {
      const flags = property.flags ?? 0;
      if (flags & required && !(flags & readOnly) && !present.some(([k]) => k === key)) {
        ctx.report.errors.push(`${ctx.file}:${line(value)}: ${path} needs ${key}`);
      }
    }
  }

  private checkScalar(value: Node, type: AzureType, path: string, ctx: Context): void {
    for (const problem of scalarProblems(value, type, (r) => this.resolve(r)))
      ctx.report.errors.push(`${ctx.file}:${line(value)}: ${path} ${problem}`);
  }

  private mismatch(node: Node, path: string, wanted: string, ctx: Context): void {
    ctx.report.errors.push(`${ctx.file}:${line(node)}: ${path} must be ${wanted}, not ${node.text.slice(0, 40)}`);
  }

  /** A literal node for `node` (itself, or the literal value of the variable or parameter it names), or `undefined`. */
  private literalOf(node: Node, ctx: Context): Node | undefined {
    if (node.type === "identifier") return ctx.literals.get(node.text);
    if (node.type === "call_expression" && node.namedChildren[0]?.text === "union") return node;
    if (node.type === "for_statement") return node;
    if (node.type === "parenthesized_expression") {
      const inner = node.namedChildren[0];
      return inner ? this.literalOf(inner, ctx) : undefined;
    }
    return isLiteral(node) ? node : undefined;
  }
}
