// List calls for a client other than the operators (`GET /openai/files`, `/openai/v1/files`,
// `/openai/batches`, `/openai/v1/batches`) show only that client's objects. The backend's page is
// read (bounded), filtered by creator (records in memory, the rest from the client's index of what
// it created: one storage read per page at most), and refilled
// from the next pages when filtering thinned it while the backend has more — bounded, so one call
// costs at most a few backend pages — so that the SDK's pagination (`after` = the last id it saw)
// never stops early and never skips an object.

import type { Client } from "../clients/clientAuth";
import type { OutgoingHeaders, RouterResponse } from "../request/exchange";
import { readWithin } from "../request/smallBody";
import type { OwnerBook } from "./ownerBook";

const listPaths = new Set(["/openai/files", "/openai/v1/files", "/openai/batches", "/openai/v1/batches"]);

/** Whether the call lists files or batches. */
export function isListCall(method: string, path: string): boolean {
  return method === "GET" && listPaths.has(path);
}

/** A list page larger than this is not read: an empty page is answered instead (nothing leaks). */
const maxListBytes = 8 * 1024 * 1024;
/** Backend pages read beyond the first to refill a thinned page. */
const maxExtraPages = 4;
/** The page size when the caller names none (Azure's default for batches). */
const defaultLimit = 20;

interface ListPage {
  data: { id?: unknown }[];
  has_more?: unknown;
  [key: string]: unknown;
}

async function readPage(response: RouterResponse): Promise<ListPage | undefined> {
  if (response.status !== 200) return undefined;
  const body = response.body;
  if (body === undefined) return undefined;
  const bytes =
    body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : await readWithin(body, maxListBytes);
  if (bytes === undefined) return undefined;
  try {
    const page: unknown = JSON.parse(bytes.toString("utf8"));
    if (typeof page !== "object" || page === null || !Array.isArray((page as ListPage).data)) return undefined;
    return page as ListPage;
  } catch {
    return undefined;
  }
}

/** `url` with its `after` parameter set to `after`. */
export function withAfter(url: string, after: string): string {
  const q = url.indexOf("?");
  const params = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  params.set("after", after);
  return `${q === -1 ? url : url.slice(0, q)}?${params.toString()}`;
}

function limitOf(url: string): number {
  const q = url.indexOf("?");
  const limit = Number(new URLSearchParams(q === -1 ? "" : url.slice(q + 1)).get("limit"));
  return Number.isInteger(limit) && limit > 0 ? Math.min(limit, 10_000) : defaultLimit;
}

/**
 * The page of `first` that `client` may see. `nextPage` fetches the backend page after an id from the
 * same resource (or `undefined` when it cannot).
 */
export async function ownPage(args: {
  first: RouterResponse;
  client: Client;
  owners: OwnerBook;
  url: string;
  nextPage: (url: string) => Promise<RouterResponse | undefined>;
}): Promise<RouterResponse> {
  const { first, client, owners, url, nextPage } = args;
  if (first.status !== 200) return first;
  const limit = limitOf(url);
  let page = await readPage(first);
  const kept: ListPage["data"] = [];
  let template: ListPage = { object: "list", data: [] };
  let more = false;
  for (let pages = 0; page !== undefined && pages <= maxExtraPages; pages++) {
    template = page;
    const ids = page.data.map((item) => (typeof item?.id === "string" ? item.id : "")).filter((id) => id !== "");
    const mine = await owners.createdBy(client.name, ids);
    for (const item of page.data) {
      const id = typeof item?.id === "string" ? item.id : undefined;
      if (id !== undefined && mine.has(id)) kept.push(item);
    }
    more = page.has_more === true;
    const lastId = ids.at(-1);
    if (kept.length >= limit || !more || lastId === undefined) break;
    if (pages === maxExtraPages) break;
    const next = await nextPage(withAfter(url, lastId));
    page = next === undefined ? undefined : await readPage(next);
    if (page === undefined) more = true;
  }
  const data = kept.slice(0, limit);
  const ids = data.map((item) => item.id);
  const payload = { ...template, data, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null, has_more: more || kept.length > limit };
  const body = Buffer.from(JSON.stringify(payload));
  const headers: OutgoingHeaders = { ...first.headers, "content-type": "application/json", "content-length": String(body.length) };
  delete headers["transfer-encoding"];
  delete headers["content-encoding"];
  return { status: 200, headers, body };
}
