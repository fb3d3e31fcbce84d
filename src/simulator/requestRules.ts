// What Azure OpenAI refuses before it runs a call, so the simulator refuses it too and a router
// rewrite that breaks a call cannot pass the tests: the api-version each path family needs, the
// model a v1 call must name, an operation the deployment's model does not do, and the fields an
// operation requires. Read from Azure's published API descriptions (azure-rest-api-specs:
// specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json
// at 132b90d1f06386034a6c2b34e903dbd3b03f9806, and the v1 description) and the service's answers.

/** What a deployment's model does. */
export type ModelKind = "chat" | "embeddings" | "audio";

export interface Refusal {
  status: number;
  payload: { error: { code: string; message: string; param?: string | null; type?: string } };
}

export interface RuleCall {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body (`{}` when there is none or it is not JSON). */
  json: Record<string, unknown>;
  /** The deployment the path names, or the v1 body's `model`. */
  deployment: string | undefined;
  kindOf: (deployment: string) => ModelKind;
}

/** The Responses API on the dated (non-v1) path: this version or later. */
export const firstResponsesVersion = "2025-03-01-preview";
const datedVersion = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

const notFound: Refusal = { status: 404, payload: { error: { code: "404", message: "Resource not found" } } };

function badRequest(message: string, param?: string): Refusal {
  return { status: 400, payload: { error: { code: "BadRequest", message, param: param ?? null, type: "invalid_request_error" } } };
}

/** The model kind a deployment's name suggests (the simulator has no model catalogue): embeddings models (`text-embedding-*`, `ada-002`, the short `te3`) and audio models by their names. */
export function modelKindOf(name: string): ModelKind {
  if (/embedding|ada-002|^te\d/i.test(name)) return "embeddings";
  if (/whisper|transcribe|tts/i.test(name)) return "audio";
  return "chat";
}

/** The operation of a call (what the deployment must do), or `undefined` for calls that name no model operation. */
function operationOf(path: string): { name: string; needs: ModelKind } | undefined {
  if (path.endsWith("/chat/completions")) return { name: "chatCompletion", needs: "chat" };
  if (path.endsWith("/completions")) return { name: "completion", needs: "chat" };
  if (path.endsWith("/embeddings")) return { name: "embeddings", needs: "embeddings" };
  if (/\/audio\/(transcriptions|translations|speech)$/.test(path)) return { name: "audio", needs: "audio" };
  if (/^\/openai(\/v1)?\/responses$/.test(path)) return { name: "responses", needs: "chat" };
  return undefined;
}

/** The api-version rule of the call's path family: `undefined` when it holds. */
function versionRefusal(path: string, query: URLSearchParams): Refusal | undefined {
  const version = query.get("api-version");
  if (path.startsWith("/openai/v1/")) {
    // The v1 API takes no dated version: none, `v1` or `preview`.
    if (version === null || version === "v1" || version === "preview") return undefined;
    return badRequest(`API version '${version}' is not supported on the v1 API; use 'v1', 'preview' or none.`, "api-version");
  }
  if (version === null || !datedVersion.test(version)) return notFound;
  if (/^\/openai\/responses(\/|$)/.test(path) && version < firstResponsesVersion) {
    return badRequest(`Responses API is enabled only for api-version ${firstResponsesVersion} and later`, "api-version");
  }
  return undefined;
}

/** The fields an operation requires, as its description says. */
function fieldRefusal(operation: string, json: Record<string, unknown>): Refusal | undefined {
  if (operation === "chatCompletion") {
    const messages = json.messages;
    if (!Array.isArray(messages)) return badRequest("'messages' is a required property", "messages");
    if (messages.length === 0) return badRequest("[] is too short - 'messages'", "messages");
  }
  if (operation === "embeddings") {
    const input = json.input;
    if (input === undefined || input === null) return badRequest("'input' is a required property", "input");
    if ((Array.isArray(input) && input.length === 0) || input === "") return badRequest("'$.input' is invalid.", "input");
  }
  if (operation === "completion" && json.prompt === undefined) return badRequest("'prompt' is a required property", "prompt");
  return undefined;
}

/** Whether the call carries the resource's key (or token); any call when the resource has neither. */
export function keyAccepted(
  headers: { "api-key"?: string | string[]; authorization?: string },
  resource: { apiKey?: string; bearerToken?: string },
): boolean {
  const { apiKey, bearerToken } = resource;
  if (apiKey === undefined && bearerToken === undefined) return true;
  if (apiKey !== undefined && headers["api-key"] === apiKey) return true;
  return bearerToken !== undefined && headers.authorization === `Bearer ${bearerToken}`;
}

/** A key that is not the resource's (or no key), worded as Azure words it. */
export const unauthorized: Refusal = {
  status: 401,
  payload: { error: { code: "401", message: "Access denied due to invalid subscription key or wrong API endpoint." } },
};

/** A deployment the resource does not have. */
export const deploymentNotFound: Refusal = {
  status: 404,
  payload: {
    error: {
      code: "DeploymentNotFound",
      message:
        "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    },
  },
};

/** Azure's refusal of `call`, or `undefined` when Azure would run it. */
export function azureRefusal(call: RuleCall): Refusal | undefined {
  const { method, path, query, json, deployment } = call;
  const version = versionRefusal(path, query);
  if (version) return version;
  const operation = operationOf(path);
  if (!operation) return undefined;
  // Operations are POSTs; another method on them is a path the service does not have.
  const storedChatList = method === "GET" && /^\/openai(\/v1)?\/chat\/completions$/.test(path);
  if (method !== "POST") return storedChatList ? undefined : notFound;
  if (deployment === undefined) return badRequest("The 'model' parameter is required.", "model");
  const kind = call.kindOf(deployment);
  if (kind !== operation.needs) {
    return {
      status: 400,
      payload: {
        error: {
          code: "OperationNotSupported",
          message: `The ${operation.name} operation does not work with the specified model, ${deployment}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
        },
      },
    };
  }
  return fieldRefusal(operation.name, json);
}
