// Reading tree-sitter-bicep's syntax tree: literals, a declaration's body object, an object's keys
// and values, union()'s objects, descendants of a kind, quoted strings, lines and the first syntax
// error. What the Bicep checker (bicepCheck.ts) walks the tree with.

import type { Node } from "web-tree-sitter";

export function isLiteral(node: Node): boolean {
  if (node.type === "string") return !node.namedChildren.some((c) => c?.type === "interpolation");
  return node.type === "number" || node.type === "boolean" || node.type === "object" || node.type === "array" || node.type === "null";
}

export function bodyObject(decl: Node): Node | undefined {
  const last = decl.namedChildren.at(-1);
  if (!last) return undefined;
  if (last.type === "object") return last;
  // `= [for … : { … }]`, `= if (…) { … }`: the object inside.
  return descendants(last, "object")[0];
}

/** The keys of an object literal (identifiers or quoted strings), each with its property node. */
export function objectKeys(object: Node): [string, Node][] {
  return object.namedChildren
    .filter((c): c is Node => c?.type === "object_property")
    .map((p) => [unquote(p.namedChildren[0]?.text ?? ""), p]);
}

export function propertyValue(object: Node, key: string): Node | undefined {
  const found = objectKeys(object).find(([k]) => k === key)?.[1];
  return found ? propertyValueNode(found) : undefined;
}

export function propertyValueNode(property: Node): Node {
  return property.namedChildren.at(-1) as Node;
}

/** The object literals a value is made of: itself, or the object arguments of union(). */
export function literalObjects(value: Node): Node[] {
  if (value.type === "object") return [value];
  if (value.type === "call_expression" && value.namedChildren[0]?.text === "union") {
    return (value.namedChildren[1]?.namedChildren ?? []).filter((a): a is Node => a?.type === "object");
  }
  return [];
}

export function descendants(node: Node, type: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === type) out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}

export function unquote(text: string): string {
  return text.startsWith("'") && text.endsWith("'") ? text.slice(1, -1).replace(/\\'/g, "'").replace(/\\\\/g, "\\") : text;
}

export function line(node: Node): number {
  return node.startPosition.row + 1;
}

export function firstError(root: Node): string {
  const error = descendants(root, "ERROR")[0];
  return error ? `line ${line(error)}: ${error.text.slice(0, 40)}` : "a missing token";
}
