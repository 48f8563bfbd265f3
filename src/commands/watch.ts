// `kubetrail watch`: an initial sync, then each cluster's changes committed as they happen, one commit per
// coalescing window; SIGTERM/SIGINT commit what is pending and end with 0. The repository lock is held for the
// whole watch: it is the repository's one writer while it runs (a sync started meanwhile waits or fails, as it
// would beside another sync), and nothing else can move the cluster's subtree under the watch's view of it.
import type { Config } from '../config/types.ts';
import { DEFAULT_STALE_MS, lockRepo } from '../store/lock.ts';
import { maintainRepository } from '../store/maintenance.ts';
import { openRepo } from '../sync/run.ts';
import { watchCluster } from '../watch/cluster-watch.ts';
import { UsageError } from './usage.ts';

export interface WatchCommandOptions {
  config: Config;
  clusterIds?: string[];
  commitIntervalSeconds: number;
  discoveryIntervalSeconds: number;
  lockWaitSeconds: number;
}

export async function watchCommand(o: WatchCommandOptions): Promise<number> {
  const { config } = o;
  const unknown = o.clusterIds?.filter((id) => !config.clusters.some((c) => c.id === id));
  if (unknown?.length) throw new UsageError(`unknown cluster ${unknown.join(', ')} (configured: ${config.clusters.map((c) => c.id).join(', ')})`);
  const clusters = o.clusterIds ? config.clusters.filter((c) => o.clusterIds!.includes(c.id)) : config.clusters;
  const repo = await openRepo(config);
  const stale = Number(process.env.KUBETRAIL_LOCK_STALE_SECONDS);
  const lock = await lockRepo(repo.gitdir, { waitMs: o.lockWaitSeconds * 1000, staleMs: stale > 0 ? stale * 1000 : DEFAULT_STALE_MS });
  const stopping = new AbortController();
  const onSignal = (signal: string) => {
    console.error(`kubetrail: ${signal}: committing what is pending, then stopping`);
    stopping.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await Promise.all(clusters.map((cluster) => watchCluster({
      config, cluster, repo, signal: stopping.signal, assertLocked: () => lock.assertHeld(),
      commitIntervalMs: o.commitIntervalSeconds * 1000, discoveryIntervalMs: o.discoveryIntervalSeconds * 1000,
      report: (line) => console.error(`kubetrail: ${line}`),
      onCommit: (commit, c) => console.log(`${cluster.id}: ${commit.slice(0, 10)} +${c.added.length} ~${c.changed.length} -${c.deleted.length}`),
      onWatching: (types) => console.log(`${cluster.id}: watching ${types} types`),
    }).catch((e) => {
      stopping.abort(); // one cluster's failure ends the watch: the others commit what is pending and stop
      throw e;
    })));
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    try {
      await lock.assertHeld();
      maintainRepository(repo.gitdir); // the windows' loose objects packed, as after a sync
    } catch { /* the next run tries again */ }
    await lock.release();
  }
}
