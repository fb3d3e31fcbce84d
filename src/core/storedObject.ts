// Which calls concern an object stored in one resource (a response, conversation, file or
// batch): the ones that refer to one — by an id in the path or in the body — go to its owner;
// the ones that create one have the new id read from the answer, so its owner is known next time.

import type { BodyRefs } from "./jsonModel";

/** What a call does with stored objects. */
export interface StoredObjectCall {
  /** The id of the object the call refers to: the call goes to its owner. */
  ref: string | undefined;
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
    return { ref: bodyRef(collection, refs), creates: prefix, deletes: false };
  }
  const next = rest.indexOf("/", slash + 1);
  const id = rest.slice(slash + 1, next === -1 ? undefined : next);
  if (!isObjectId(id)) return undefined;
  const action = next === -1 ? "" : rest.slice(next + 1);
  return { ref: id, creates: undefined, deletes: method === "DELETE" && action === "" };
}

/** The object a creating call's body refers to: the previous response or conversation, a batch's input file. */
function bodyRef(collection: string, refs: BodyRefs | undefined): string | undefined {
  if (refs === undefined) return undefined;
  const ref =
    collection === "responses"
      ? (refs.previous_response_id ?? refs.conversation)
      : collection === "batches"
        ? refs.input_file_id
        : undefined;
  return ref !== undefined && isObjectId(ref) ? ref : undefined;
}
