// Watch mode over the configured clusters (`kubetrail watch`, and `kubetrail run` with `mode: watch`): every cluster
// watched (cluster-watch.ts) under one repository lock held for the whole watch, its commits published as a sync
// run's are when a remote is configured. The lock makes the watch the repository's one writer while it runs (a sync
// started meanwhile waits or fails, as beside another sync): nothing else moves a subtree under the watch's view of it.
import type { Config } from '../config/types.ts';
import { lockRepo } from '../store/lock.ts';
import type { SyncEvents } from '../sync/events.ts';
import type { FileChanges } from '../sync/result.ts';
import { housekeeping, lockStaleMs, openRepo, remoteTarget } from '../sync/run.ts';
import { serialQueue } from '../util/serial.ts';
import { watchCluster } from './cluster-watch.ts';
import { remotePublisher, type PublishReport } from './publish.ts';

export interface WatchRunOptions {
  config: Config;
  clusterIds?: string[];
  commitIntervalMs: number;
  discoveryIntervalMs: number;
  lockWaitMs: number;
  /** Publish to `config.remote` (push, or pull requests in PR mode). */
  push: boolean;
  /** Ends the watch: what is pending is committed (and published), then it resolves. */
  signal: AbortSignal;
  env?: Record<string, string | undefined>;
  events?: SyncEvents;
  report: (line: string) => void;
  onCommit?: (clusterId: string, commit: string, changes: FileChanges) => void;
  onWatching?: (clusterId: string, types: number) => void;
  onPublished?: (report: PublishReport) => void;
}

/** Watches until `signal` aborts (resolves) or a cluster's watch fails (the others commit what is pending; rejects). */
export async function runWatch(o: WatchRunOptions): Promise<void> {
  const { config } = o;
  const clusters = o.clusterIds ? config.clusters.filter((c) => o.clusterIds!.includes(c.id)) : config.clusters;
  const repo = await openRepo(config);
  const lock = await lockRepo(repo.gitdir, { waitMs: o.lockWaitMs, staleMs: lockStaleMs(o.env ?? process.env) });
  const assertLocked = () => lock.assertHeld();
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  o.signal.addEventListener('abort', stop, { once: true });
  if (o.signal.aborted) stop();
  try {
    const publisher = o.push ? remotePublisher(config, repo, remoteTarget(config, o.env), {
      assertLocked,
      onPublished: (r) => {
        if (r.error) o.report(`publishing failed (the commits stay here; retried after the next commit): ${r.error}`);
        o.onPublished?.(r);
      },
    }) : undefined;
    await publisher?.start();
    const serially = serialQueue();
    const failedTypes = new Map<string, string[]>();
    let unpublished = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const publishPending = async () => {
      clearTimeout(retry);
      unpublished = !await publisher!.publish(failedTypes);
      // Not only after the next commit: a quiet cluster's last commits would wait for its next change.
      if (unpublished && !stopping.signal.aborted) retry = setTimeout(() => void serially(publishPending), o.commitIntervalMs);
    };
    const publish = publisher && ((clusterId: string, failed: string[]) => {
      failedTypes.set(clusterId, failed);
      return publishPending();
    });
    const watches = await Promise.allSettled(clusters.map((cluster) => watchCluster({
      config, cluster, repo, signal: stopping.signal, assertLocked, serially, publish, events: o.events, env: o.env,
      commitIntervalMs: o.commitIntervalMs, discoveryIntervalMs: o.discoveryIntervalMs,
      report: o.report,
      onCommit: (commit, changes) => o.onCommit?.(cluster.id, commit, changes),
      onWatching: (types) => o.onWatching?.(cluster.id, types),
    }).catch((e) => {
      stop(); // one cluster's failure ends the watch: the others commit what is pending and stop
      throw e;
    })));
    clearTimeout(retry);
    if (unpublished) await serially(publishPending); // a last try before the process ends
    const failed = watches.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    o.signal.removeEventListener('abort', stop);
    await housekeeping(repo, assertLocked); // the windows' loose objects packed and the commit-graph updated, as after a sync
    await lock.release();
  }
}
