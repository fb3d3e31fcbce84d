// Stored objects belong to the client that made them. Before a call on one goes anywhere, every
// object it names must be the calling client's (the operators' `default` client reaches all); a
// call on another client's object is answered exactly as one on an object that does not exist, by
// the router, with the same store work either way. After a served call: what it taught about
// owners — an owner found by asking, an object created (its record written before the id reaches
// the caller), deleted, or made by a batch (its files take the batch's creator).

import type { Client } from "../clients/clientAuth";
import type { RouterResponse } from "../request/exchange";
import type { ForwardResult } from "../routing/forwarder";
import type { Pool } from "../routing/pool";
import { batchFilesScan, createdIdScan, watchIds } from "./createdId";
import type { OwnerBook, OwnerRecord } from "./ownerBook";
import type { RefField, StoredObjectCall } from "./storedObject";

const kinds = new Map<string, string>([
  ["responses", "Response"],
  ["conversations", "Conversation"],
  ["files", "File"],
  ["batches", "Batch"],
]);

function json(status: number, payload: unknown): RouterResponse {
  const body = Buffer.from(JSON.stringify(payload));
  return { status, headers: { "content-type": "application/json", "content-length": String(body.length) }, body };
}

/** What the service answers for an object that does not exist, named where the call named it. */
export function missingObjectAnswer(ref: { id: string; field: RefField }, collection: string): RouterResponse {
  if (ref.field === "previous_response_id") {
    return json(400, {
      error: {
        message: `Previous response with id '${ref.id}' not found.`,
        type: "invalid_request_error",
        param: "previous_response_id",
        code: "previous_response_not_found",
      },
    });
  }
  const kind = ref.field === "conversation" ? "Conversation" : ref.field === "input_file_id" ? "File" : (kinds.get(collection) ?? "Object");
  return json(404, { error: { message: `${kind} with id '${ref.id}' not found.`, type: "invalid_request_error", code: "not_found" } });
}

export type OwnershipCheck = { refused: RouterResponse } | { record: OwnerRecord | undefined };

/**
 * Whether `client` may name every object of `stored`; the owner record of the routing ref. An object
 * whose creator is unknown (made before the router knew creators, or around it) is the operators'.
 */
export async function checkOwnership(owners: OwnerBook, client: Client, stored: StoredObjectCall): Promise<OwnershipCheck> {
  let routing: OwnerRecord | undefined;
  for (const [i, ref] of stored.named.entries()) {
    let record = await owners.find(ref.id);
    if (!client.seesAllClients && record?.creator !== client.name) {
      // Remembered as another client's: read again, so that it costs what a missing id costs
      // (one bounded store read), and a record that changed meanwhile is seen.
      if (record !== undefined) record = await owners.reread(ref.id);
      if (record?.creator !== client.name) return { refused: missingObjectAnswer(ref, stored.collection) };
    }
    if (i === 0) routing = record;
  }
  return { record: routing };
}

/**
 * What a served call teaches about owners. Returns when the answer may go on: a body in memory
 * after its new ids are recorded; a stream at once (its chunks wait for the records themselves).
 */
export async function followOwners(
  deps: { owners: OwnerBook; pool: Pool },
  call: { client: Client; stored: StoredObjectCall; record: OwnerRecord | undefined },
  result: ForwardResult,
): Promise<void> {
  const { served, response } = result;
  if (!served || response.status >= 400) return;
  const backend = deps.pool.backends[served.index]?.name;
  if (backend === undefined) return;
  const { owners } = deps;
  const { stored, record, client } = call;
  if (stored.ref !== undefined) {
    if (stored.deletes) owners.forget(stored.ref);
    else if (record === undefined || record.backend !== backend) owners.learn(stored.ref, backend, record?.creator);
  }
  const prefix = stored.creates;
  if (prefix !== undefined) {
    const watched = watchIds(response.body, createdIdScan(prefix), async (ids) => {
      for (const id of ids) await owners.record(id, backend, client.name);
    });
    response.body = watched.body;
    await watched.settled;
  } else if (stored.collection === "batches" && stored.ref !== undefined) {
    // A batch's output and error files are its creator's, at the batch's resource.
    const creator = record?.creator ?? (client.seesAllClients ? undefined : client.name);
    if (creator === undefined) return;
    const watched = watchIds(response.body, batchFilesScan, async (ids) => {
      for (const id of ids) if ((await owners.find(id)) === undefined) await owners.record(id, backend, creator);
    });
    response.body = watched.body;
    await watched.settled;
  }
}
