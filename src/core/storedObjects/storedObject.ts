// Which calls concern an object stored in one resource (a response, conversation, file or
// batch): the ones that refer to one — by an id in the path or in the body — go to its owner;
// the ones that create one have the new id read from the answer, so its owner is known next time.

import type { BodyRefs } from "../request/jsonModel";

/** Where a call names a stored object: its path, or a field of its body. */
export type RefField = "path" | "previous_response_id" | "conversation" | "input_file_id";

/** What a call does with stored objects. */
export interface StoredObjectCall {
  /** The id of the object the call refers to: the call goes to its owner. */
  ref: string | undefined;
  /** Every object the call names, the routing `ref` first: each must be the calling client's. */
  named: readonly { id: string; field: RefField }[];
  /** The family's collection (`responses`, `files`, …). */
  collection: string;
  /** The call creates an object: the id prefix to read from the answer (`resp_`, `file-`, …). */
  creates: string | undefined;
  /** A successful answer deletes `ref`: its owner record can go. */
  deletes: boolean;
}

/** An object id as the router accepts it: the characters Azure's ids use, bounded in length. */
const idPattern = /^[A-Za-z0-9_-]{1,200}$/;

/** The collections of stored objects, by path segment, and the prefix of their ids. */
const collections = new Map<string, string>([
  ["responses", "resp_"],
  ["conversations", "conv_"],
  ["files", "file-"],
  ["batches", "batch_"],
]);

export function isObjectId(value: string): boolean {
  return idPattern.test(value);
}

/**
 * The stored-object side of a call to `path` (`/openai/…`), or `undefined` for the calls that
 * have none — every chat, embeddings or deployment call — which is checked first and cheaply.
 */
export function storedObjectCall(method: string, path: string, refs: BodyRefs | undefined): StoredObjectCall | undefined {
  const rest = path.startsWith("/openai/v1/") ? path.slice(10) : path.startsWith("/openai/") ? path.slice(7) : undefined;
  if (rest === undefined) return undefined;
  const slash = rest.indexOf("/", 1);
  const collection = rest.slice(1, slash === -1 ? undefined : slash);
  const prefix = collections.get(collection);
  if (prefix === undefined) return undefined;
  if (slash === -1 || slash === rest.length - 1) {
    // The collection itself: a POST creates an object (and may refer to another one); a GET lists.
    if (method !== "POST") return undefined;
    const named = bodyRefs(collection, refs);
    return { ref: named[0]?.id, named, collection, creates: prefix, deletes: false };
  }
  const next = rest.indexOf("/", slash + 1);
  const id = rest.slice(slash + 1, next === -1 ? undefined : next);
  if (!isObjectId(id)) return undefined;
  const action = next === -1 ? "" : rest.slice(next + 1);
  return { ref: id, named: [{ id, field: "path" }], collection, creates: undefined, deletes: method === "DELETE" && action === "" };
}

const bodyFields: ReadonlyMap<string, readonly RefField[]> = new Map([
  ["responses", ["previous_response_id", "conversation"] as const],
  ["batches", ["input_file_id"] as const],
]);

/** The objects a creating call's body refers to: the previous response and conversation, a batch's input file. */
function bodyRefs(collection: string, refs: BodyRefs | undefined): { id: string; field: RefField }[] {
  const named: { id: string; field: RefField }[] = [];
  if (refs === undefined) return named;
  for (const field of bodyFields.get(collection) ?? []) {
    const id = refs[field as Exclude<RefField, "path">];
    if (id !== undefined && isObjectId(id)) named.push({ id, field });
  }
  return named;
}
