// `kubetrail watch`: an initial sync, then each cluster's changes committed as they happen, one commit per
// coalescing window, and (with --push) published as a sync's are; SIGTERM/SIGINT commit and publish what is
// pending and end with 0.
import type { Config } from '../config/types.ts';
import { runWatch } from '../watch/run-watch.ts';
import { UsageError } from './usage.ts';

export interface WatchCommandOptions {
  config: Config;
  clusterIds?: string[];
  commitIntervalSeconds: number;
  discoveryIntervalSeconds: number;
  lockWaitSeconds: number;
  push: boolean;
}

export async function watchCommand(o: WatchCommandOptions): Promise<number> {
  const { config } = o;
  const unknown = o.clusterIds?.filter((id) => !config.clusters.some((c) => c.id === id));
  if (unknown?.length) throw new UsageError(`unknown cluster ${unknown.join(', ')} (configured: ${config.clusters.map((c) => c.id).join(', ')})`);
  const stopping = new AbortController();
  const onSignal = (signal: string) => {
    console.error(`kubetrail: ${signal}: committing what is pending, then stopping`);
    stopping.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await runWatch({
      config, clusterIds: o.clusterIds, push: o.push, signal: stopping.signal,
      commitIntervalMs: o.commitIntervalSeconds * 1000, discoveryIntervalMs: o.discoveryIntervalSeconds * 1000,
      lockWaitMs: o.lockWaitSeconds * 1000,
      report: (line) => console.error(`kubetrail: ${line}`),
      onCommit: (id, commit, c) => console.log(`${id}: ${commit.slice(0, 10)} +${c.added.length} ~${c.changed.length} -${c.deleted.length}`),
      onWatching: (id, types) => console.log(`${id}: watching ${types} types`),
      onPublished: (r) => {
        if (r.pushed) console.log(`push: ${r.pushed.slice(0, 10)}`);
        for (const p of r.pullRequests ?? []) console.log(`${p.clusterId}: pull request ${p.action}${p.number ? ` #${p.number} ${p.url}` : ''}`);
      },
    });
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
