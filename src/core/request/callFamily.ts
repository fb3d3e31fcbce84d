// What kind of call a `/openai/…` path is, for the allow-lists: a deployment call, the models
// list, a family of stored objects the router tracks (responses, conversations, files, batches),
// one it does not track (assistants, threads, vector stores, stored chat completions, uploads,
// fine-tuning, …), or anything else. Read from the path alone, once per call, with no allocation
// beyond the family's segment.

/** The stored-object families the router follows (owner and creator): see storedObject.ts. */
export type TrackedFamily = "responses" | "conversations" | "files" | "batches";

export type CallFamily =
  /** `/openai/deployments/{name}/…`, or a body that names a deployment. */
  | "deployment"
  /** `GET /openai/models`, `/openai/v1/models`, `/openai/models/{id}`. */
  | "models"
  | TrackedFamily
  /** Stored objects the router does not track: reachable by the operators only. */
  | "untracked"
  /** Anything else that names no deployment (deployment management, realtime, …). */
  | "other";

const tracked = new Set<string>(["responses", "conversations", "files", "batches"]);
const untracked = new Set<string>([
  "assistants",
  "threads",
  "vector_stores",
  "uploads",
  "fine_tuning",
  "fine-tunes",
  "fine_tunes",
  "containers",
  "evals",
]);

/** The segment of `path` that names its family: the one after `/openai/` or `/openai/v1/`, and what follows it. */
function familySegment(path: string): { name: string; rest: string } {
  const start = path.startsWith("/openai/v1/") ? 11 : 8;
  const slash = path.indexOf("/", start);
  return slash === -1 ? { name: path.slice(start), rest: "" } : { name: path.slice(start, slash), rest: path.slice(slash) };
}

/** The family of a call to `path` (`/openai/…`, already checked by `ambiguousPathReason`). */
export function callFamily(method: string, path: string): CallFamily {
  if (path.startsWith("/openai/deployments/")) return "deployment";
  const { name, rest } = familySegment(path);
  if (name === "models") return method === "GET" ? "models" : "other";
  if (tracked.has(name)) return name as TrackedFamily;
  if (untracked.has(name)) return "untracked";
  // Stored chat completions: listing (GET) and the calls on one (`/chat/completions/{id}…`).
  if (name === "chat" && rest.startsWith("/completions") && (method === "GET" || rest.length > 12)) return "untracked";
  return "other";
}

const upperCase = /[A-Z]/;

/** Segments whose case is fixed: the families above and the path's fixed words. */
const fixedWords = new Set<string>(["openai", "deployments", "v1", "models", "chat", ...tracked, ...untracked]);

/** The path's fixed segments in another case (`/openai/Deployments/…`, `/openai/v1/Files/…`): ambiguous. */
export function miscasedFixedSegment(path: string): boolean {
  // Most paths have no upper-case letter at all: one scan, no allocation.
  if (!upperCase.test(path)) return false;
  // Segments 1 (openai), 2 (deployments, v1 or a family) and 3 (the family after v1).
  let from = 1;
  for (let i = 0; i < 3; i++) {
    const slash = path.indexOf("/", from);
    const segment = path.slice(from, slash === -1 ? undefined : slash);
    const lower = segment.toLowerCase();
    if (segment !== lower && fixedWords.has(lower)) return true;
    if (slash === -1 || (i === 1 && lower !== "v1")) break;
    from = slash + 1;
  }
  return false;
}
