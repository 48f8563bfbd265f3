// Bounded concurrency for lists of independent jobs (types of a cluster, clusters of a run, creates in tests).
/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. The first failure rejects
 * the whole and no job starts after it (those in flight run to their end): callers give up on the rest.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
