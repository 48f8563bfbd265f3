// The library: one object over a configuration, giving syncs, history queries and events.
//   const kt = await createKubetrail(config); await kt.syncAllClusters(); await kt.getVersions({...});
import { AuditLog } from './audit/audit-log.ts';
import type { ClusterConfig, Config } from './config/types.ts';
import { resolveAccess } from './kube/access.ts';
import { createKubeClient } from './kube/client.ts';
import { crdDefinedTypes, discoverTypes } from './kube/discovery.ts';
import { selectTypes } from './kube/filter.ts';
import { History } from './history/queries.ts';
import { RequestError } from './errors.ts';
import { GitReader } from './history/reader.ts';
import { exportRecorded } from './restore/read-export.ts';
import type { Repo } from './store/repo.ts';
import { SyncEvents, type SyncEventMap, type SyncEventName } from './sync/events.ts';
import type { SyncResult } from './sync/result.ts';
import { openRepo, runSync, type RunResult } from './sync/run.ts';

export class SyncInProgressError extends Error {
  readonly clusterId: string;
  constructor(clusterId: string, message = `a sync of cluster ${clusterId} is already running`) {
    super(message);
    this.clusterId = clusterId;
  }
}

export interface ClusterInfo {
  id: string; name: string; tags: Record<string, string>; metadata: Record<string, unknown>;
  lastCommit?: { commit: string; time: string; subject: string };
  lastSync?: { time: string; status: SyncResult['status']; commit?: string; added: number; changed: number; deleted: number; durationMs: number; error?: string };
}

export interface KubetrailOptions {
  env?: Record<string, string | undefined>;
  /** Push after each run that committed (daemon mode; needs `config.remote`). */
  push?: boolean;
}

export async function createKubetrail(config: Config, opts: KubetrailOptions = {}) {
  const repo: Repo = await openRepo(config);
  const reader = new GitReader(repo);
  const history = new History(reader);
  const events = new SyncEvents();
  const running = new Set<string>();
  const watched = new Set<string>(); // `mode: watch`: the watch is the repository's writer, syncs are refused
  const lastResults = new Map<string, { time: Date; result: SyncResult }>();
  // Fed by the audit webhook route of a daemon (api/app.ts); empty, and unused, otherwise.
  const audit = new AuditLog({ retentionMs: config.api.auditRetentionSeconds * 1000, maxEvents: config.api.auditMaxEvents });
  // Kept from the event, not from the run's return: /readyz and /metrics (also fed by the event) then agree at once.
  events.on('cluster.sync.completed', ({ result }) => {
    if (!result.dryRun) lastResults.set(result.clusterId, { time: new Date(), result });
  });

  const cluster = (id: string): ClusterConfig => {
    const c = config.clusters.find((x) => x.id === id);
    if (!c) throw new RequestError(404, 'cluster_not_found', `unknown cluster "${id}"`);
    return c;
  };

  /** Syncs the given clusters; a cluster already syncing in this process is refused, never run twice at once. */
  async function sync(ids: string[], o: { dryRun?: boolean; allowMassDelete?: boolean } = {}): Promise<RunResult> {
    const busy = ids.find((id) => running.has(id));
    if (busy) throw new SyncInProgressError(busy);
    const inWatch = o.dryRun ? undefined : ids.find((id) => watched.has(id));
    if (inWatch) throw new SyncInProgressError(inWatch, `cluster ${inWatch} is watched (mode: watch): its changes are committed as they happen`);
    ids.forEach((id) => running.add(id));
    try {
      return await runSync(config, { clusterIds: ids, ...o, events, env: opts.env, lockWaitMs: 10 * 60_000, push: opts.push && !o.dryRun, audit });
    } finally {
      ids.forEach((id) => running.delete(id));
    }
  }

  return {
    config, repo, history, events, audit,
    on<K extends SyncEventName>(name: K | '*', handler: (payload: SyncEventMap[K], name: K) => void) {
      return events.on(name, handler);
    },
    isSyncing: (id: string) => running.has(id),
    /** Marks clusters as watched by this process: a sync of them is refused (a dry run is not). */
    watching: (ids: string[]) => ids.forEach((id) => watched.add(id)),
    lastResult: (id: string) => lastResults.get(id),

    async getClusters(): Promise<ClusterInfo[]> {
      return Promise.all(config.clusters.map(async (c) => {
        const last = lastResults.get(c.id);
        return {
          id: c.id, name: c.name, tags: c.tags, metadata: c.metadata,
          lastCommit: await history.lastClusterCommit(c.id),
          lastSync: last && {
            time: last.time.toISOString(), status: last.result.status, commit: last.result.commit, added: last.result.added,
            changed: last.result.changed, deleted: last.result.deleted, durationMs: last.result.durationMs, error: last.result.error,
          },
        };
      }));
    },
    getCluster: (id: string) => cluster(id),

    async discoverResourceTypes(clusterId: string) {
      const c = cluster(clusterId);
      const client = createKubeClient(c.id, resolveAccess(c, opts.env));
      const discovery = await discoverTypes(client);
      const crds = c.discovery.includeCRDs ? new Set<string>() : await crdDefinedTypes(client, c.discovery.crdCacheTTL);
      return { ...selectTypes(discovery.types, c.discovery, crds), failedGroups: discovery.failedGroups };
    },

    async syncCluster(clusterId: string, o: { dryRun?: boolean; allowMassDelete?: boolean } = {}): Promise<SyncResult> {
      cluster(clusterId);
      return (await sync([clusterId], o)).results[0];
    },
    syncAllClusters: async (o: { dryRun?: boolean } = {}) => (await sync(config.clusters.map((c) => c.id), o)).results,
    /** Syncs several clusters in one run, and pushes when the library was created with `push`. */
    syncClusters: (ids: string[], o: { dryRun?: boolean } = {}) => sync(ids, o),

    typeCounts: (clusterId: string, at?: string) => (cluster(clusterId), history.typeCounts(clusterId, at)),
    getSnapshots: (q: Parameters<History['getSnapshots']>[0]) => (cluster(q.clusterId), history.getSnapshots(q)),
    getObject: (q: Parameters<History['getObject']>[0]) => (cluster(q.clusterId), history.getObject(q)),
    getVersions: (q: Parameters<History['getVersions']>[0]) => (cluster(q.clusterId), history.getVersions(q)),
    getChanges: (q: Parameters<History['getChanges']>[0]) => (q.clusterId && cluster(q.clusterId), history.getChanges(q)),
    diffObject: (q: Parameters<History['diffObject']>[0]) => (cluster(q.clusterId), history.diffObject(q)),
    /** The recorded state at `at` as apply-ready manifests in dependency order (restore/export.ts). */
    exportManifests: (q: { clusterId: string; at?: string; type?: string; namespace?: string }) =>
      (cluster(q.clusterId), exportRecorded(reader, q.clusterId, q.at, { type: q.type, namespace: q.namespace })),
  };
}

export type Kubetrail = Awaited<ReturnType<typeof createKubetrail>>;
