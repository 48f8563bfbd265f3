// One-at-a-time execution inside a process: commits of parallel cluster syncs, a watch's windows and publishes.

/** A queue: each call runs `fn` after every earlier call has finished, failed or not. */
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}
