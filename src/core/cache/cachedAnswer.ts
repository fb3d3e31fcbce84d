// A reusable answer, and its form in the shared store. The stored form is one JSON line (what the
// answer is, for which key, until when, and the body's SHA-256) followed by the body's bytes. Any
// instance — or anyone with access to the store — can write an entry, so an entry is served only
// when its line passes the schema, it names the key it was read for, it has not expired, and its
// body has the length and digest the line states. Anything else is ignored, never served.

import { createHash } from "node:crypto";
import { z } from "zod";

export interface CachedAnswer {
  body: Uint8Array;
  contentType: string;
  /** The backend and the deployment at it that gave the answer. */
  servedBy: string | undefined;
  servedDeployment: string | undefined;
  /** Tokens the answer reported: what a hit saves. */
  totalTokens: number | undefined;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const formatVersion = 1;

const lineSchema = z.strictObject({
  v: z.literal(formatVersion),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  expiresAt: z.number().int().nonnegative(),
  contentType: z.string().max(200),
  servedBy: z.string().max(200).optional(),
  servedDeployment: z.string().max(200).optional(),
  totalTokens: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

function digest(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The stored form of `answer` under `key`. */
export function encodeCachedAnswer(key: string, answer: CachedAnswer): Uint8Array {
  const line = JSON.stringify({
    v: formatVersion,
    key,
    expiresAt: answer.expiresAt,
    contentType: answer.contentType,
    servedBy: answer.servedBy,
    servedDeployment: answer.servedDeployment,
    totalTokens: answer.totalTokens,
    bytes: answer.body.length,
    sha256: digest(answer.body),
  });
  return Buffer.concat([Buffer.from(`${line}\n`, "utf8"), answer.body]);
}

/** The answer stored under `key`, or `undefined` when the entry is foreign, corrupt or expired. */
export function decodeCachedAnswer(key: string, stored: Uint8Array, now: number): CachedAnswer | undefined {
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const newline = bytes.indexOf(10);
  if (newline <= 0 || newline > 2048) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.subarray(0, newline).toString("utf8"));
  } catch {
    return undefined;
  }
  const line = lineSchema.safeParse(raw);
  if (!line.success) return undefined;
  const meta = line.data;
  const body = bytes.subarray(newline + 1);
  if (meta.key !== key || meta.expiresAt <= now || body.length !== meta.bytes || digest(body) !== meta.sha256) return undefined;
  return {
    body: new Uint8Array(body),
    contentType: meta.contentType,
    servedBy: meta.servedBy,
    servedDeployment: meta.servedDeployment,
    totalTokens: meta.totalTokens,
    expiresAt: meta.expiresAt,
  };
}
