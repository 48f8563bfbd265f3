// A sync run over the configured clusters: one repository lock, clusters in parallel up to `concurrency`.
import type { Config } from '../config/types.ts';
import { mapLimit } from '../kube/list.ts';
import { lockRepo } from '../store/lock.ts';
import { Repo } from '../store/repo.ts';
import type { SyncEvents } from './events.ts';
import type { SyncResult, TypeCounts } from './result.ts';
import { syncCluster } from './sync.ts';

export interface RunOptions {
  clusterIds?: string[];
  dryRun?: boolean;
  allowMassDelete?: boolean;
  events?: SyncEvents;
  lockWaitMs?: number;
  env?: Record<string, string | undefined>;
  onTypeDone?: (clusterId: string, type: string, counts: TypeCounts | undefined, error?: string) => void;
}

export async function openRepo(config: Config): Promise<Repo> {
  return Repo.open(config.repo, { bare: config.bare, branch: config.branch });
}

export async function syncClusters(config: Config, o: RunOptions = {}): Promise<SyncResult[]> {
  const clusters = o.clusterIds ? config.clusters.filter((c) => o.clusterIds!.includes(c.id)) : config.clusters;
  const repo = await openRepo(config);
  const lock = o.dryRun ? undefined : await lockRepo(repo.gitdir, o.lockWaitMs ?? 0);
  try {
    const now = new Date();
    return await mapLimit(clusters, config.concurrency, (cluster) => syncCluster({
      config, cluster, repo, now, dryRun: o.dryRun, allowMassDelete: o.allowMassDelete, events: o.events, env: o.env,
      onTypeDone: (type, counts, error) => o.onTypeDone?.(cluster.id, type, counts, error),
    }));
  } finally {
    await lock?.release();
  }
}

/** 0 complete, 3 partial (some types failed), 1 when any cluster failed or was refused. */
export function exitCodeFor(results: SyncResult[]): number {
  if (results.some((r) => r.status === 'failed' || r.status === 'refused')) return 1;
  if (results.some((r) => r.status === 'partial')) return 3;
  return 0;
}
