// What a client may do, judged before any backend call: the methods `/openai/*` takes, the
// operations a client limited to some deployments may call besides them, stored-object families
// only the operators reach, and a batch's deployments checked where they are named (the lines of
// its input file, uploaded through the router). Pure functions over the call; each answers with the
// refusal, or `undefined` to let the call go on.

import type { Client } from "../clients/clientAuth";
import type { CallFamily } from "./callFamily";
import { errorResponse } from "./errors";
import type { RouterResponse } from "./exchange";
import type { BodyRefs } from "./jsonModel";
import { multipartBoundary, multipartParts } from "./multipartModel";

/** The methods Azure OpenAI's REST API uses; others reach no backend. */
export const allowedMethods = "GET, POST, PUT, PATCH, DELETE";
const methods = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

export function methodRefusal(method: string): RouterResponse | undefined {
  if (methods.has(method)) return undefined;
  return errorResponse("MethodNotAllowed", `The method ${method.slice(0, 20)} is not allowed here. Use one of ${allowedMethods}.`, {
    allow: allowedMethods,
  });
}

const operatorsOnly = () =>
  errorResponse("OperationNotAllowed", "This client may not call this operation; the router's operators key may.");

/** Whether `client` may make a call of `family` (its deployment, if any, is checked by the allow-list itself). */
export function operationRefusal(client: Client, family: CallFamily, hasDeployment: boolean): RouterResponse | undefined {
  if (client.seesAllClients) return undefined;
  // Stored objects the router cannot tell apart by creator: the operators' only.
  if (family === "untracked") return operatorsOnly();
  if (client.deployments === undefined || hasDeployment) return undefined;
  // A client held to some deployments may, besides them, list models and use files, batches and its own objects.
  if (family === "models" || family === "files" || family === "batches" || family === "conversations" || family === "responses") {
    return undefined;
  }
  return operatorsOnly();
}

/**
 * For a client held to some deployments: a batch input file (`purpose` `batch`) is checked line by
 * line for `body.model`, and a batch from `input_blob` (which the router never sees) is refused.
 */
export function batchRefusal(
  client: Client,
  call: { method: string; family: CallFamily; contentType: string | undefined; body: Uint8Array | undefined; refs: BodyRefs | undefined },
): RouterResponse | undefined {
  const allowed = client.deployments;
  if (allowed === undefined || client.seesAllClients || call.method !== "POST") return undefined;
  if (call.family === "batches" && call.refs?.input_blob !== undefined) {
    return errorResponse("DeploymentNotAllowed", "This client may not create a batch from a blob: its deployments cannot be checked.");
  }
  if (call.family !== "files" || call.body === undefined) return undefined;
  const boundary = multipartBoundary(call.contentType ?? "");
  if (boundary === undefined || boundary === "ambiguous") return undefined;
  const body = Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength);
  let purpose: string | undefined;
  let file: { start: number; end: number } | undefined;
  for (const part of multipartParts(body, boundary)) {
    if (part.name === "purpose") purpose = body.toString("utf8", part.start, part.end).trim();
    else if (part.name === "file") file = part;
  }
  if (purpose !== "batch" || file === undefined) return undefined;
  for (const model of batchLineModels(body.toString("utf8", file.start, file.end))) {
    if (model === undefined || !allowed.has(model)) {
      return errorResponse("DeploymentNotAllowed", "This batch file names a deployment this client may not call.");
    }
  }
  return undefined;
}

/** The `body.model` of each line of a batch input file (JSON Lines); `undefined` for a line without one. */
function* batchLineModels(text: string): Generator<string | undefined> {
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let model: unknown;
    try {
      model = JSON.parse(line)?.body?.model;
    } catch {
      model = undefined;
    }
    yield typeof model === "string" ? model : undefined;
  }
}
