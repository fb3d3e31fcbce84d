// Azure's type definitions (bicep-types, vendored in infra/types/) as the Bicep checker reads them,
// and what a literal value must be to fit a scalar type: a string literal, one of a union's
// literals, a string's pattern and lengths, an integer's range, a boolean.

import type { Node } from "web-tree-sitter";
import { unquote } from "./bicepTree";

export interface TypeRef {
  $ref: string;
}
export interface Property {
  type: TypeRef;
  flags?: number;
}
export type AzureType = { $type: string } & Record<string, unknown>;

/** What a value of the wrong kind is told. */
function mismatch(node: Node, wanted: string): string {
  return `must be ${wanted}, not ${node.text.slice(0, 40)}`;
}

/** What is wrong with `value` for `type` (none when it fits, or when the type is not a scalar one). */
export function scalarProblems(value: Node, type: AzureType, resolve: (ref: TypeRef) => AzureType): string[] {
  const text = value.type === "string" ? unquote(value.text) : value.text;
  const problems: string[] = [];
  switch (type.$type) {
    case "StringLiteralType":
      if (value.type !== "string" || text !== type.value) problems.push(`must be '${String(type.value)}', not ${value.text}`);
      return problems;
    case "UnionType": {
      const members = (type.elements as TypeRef[]).map((r) => resolve(r));
      if (members.some((m) => m.$type !== "StringLiteralType")) return problems; // an open union (string or literals): anything fits
      const allowed = members.map((m) => m.value as string);
      if (value.type !== "string" || !allowed.includes(text)) problems.push(`is ${value.text}; allowed: ${allowed.join(", ")}`);
      return problems;
    }
    case "StringType": {
      if (value.type !== "string") return [mismatch(value, "a string")];
      if (typeof type.pattern === "string" && !new RegExp(type.pattern).test(text))
        problems.push(`'${text}' does not match ${type.pattern}`);
      if (typeof type.minLength === "number" && text.length < type.minLength) problems.push(`is shorter than ${type.minLength}`);
      if (typeof type.maxLength === "number" && text.length > type.maxLength) problems.push(`is longer than ${type.maxLength}`);
      return problems;
    }
    case "IntegerType": {
      if (value.type !== "number") return [mismatch(value, "an integer")];
      const n = Number(text);
      if (typeof type.minValue === "number" && n < type.minValue) problems.push(`${n} is below ${type.minValue}`);
      if (typeof type.maxValue === "number" && n > type.maxValue) problems.push(`${n} is above ${type.maxValue}`);
      return problems;
    }
    case "BooleanType":
      if (value.type !== "boolean") problems.push(mismatch(value, "true or false"));
      return problems;
    default:
      return problems;
  }
}
