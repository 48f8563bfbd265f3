// Polling for what a separate process does (a commit, a line on its output), with the process's output in the failure.
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first truthy `check()`; fails after `ms` naming `what`, with `context()` (e.g. the output). */
export async function waitFor<T>(what: string, check: () => T | undefined | false, ms: number, context = () => ''): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`${what} not within ${ms} ms${context()}`);
    await sleep(100);
  }
}

/** Like waitFor, for checks that are async or may throw (a forge or HTTP API not answering yet counts as not yet). */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
