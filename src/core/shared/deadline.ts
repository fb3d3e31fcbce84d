// A store call bounded in time: its signal aborts after `ms`, and the caller gives up then even
// if the store ignores the signal. Every store call goes through it: the shared-state participants'
// rounds, the owner book's reads and writes on a call's path, the cache's lookups and writes.

export async function withinDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, what = "the state store"): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} did not answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
