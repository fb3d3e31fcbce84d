// The one optimistic write every shared Table Storage row uses (trips, usage, presence): write the
// entity if its row is still the version this instance saw (create it when it saw none), and say
// "conflict" when another writer got there first — 412 after an update, 409 after a create — so the
// caller re-reads, merges and tries again. Any other failure goes on to the caller.

import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient, TableEntity } from "@azure/data-tables";

export async function writeIfUnchanged(
  client: TableClient,
  entity: TableEntity<object>,
  at: { etag: string | undefined; signal: AbortSignal },
): Promise<{ etag: string | undefined } | "conflict"> {
  try {
    const written =
      at.etag === undefined
        ? await client.createEntity(entity, { abortSignal: at.signal })
        : await client.updateEntity(entity, "Replace", { etag: at.etag, abortSignal: at.signal });
    return { etag: written.etag };
  } catch (error) {
    if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) return "conflict";
    throw error;
  }
}
