// One sync of one cluster: discover → read each type page by page (read-type.ts: metadata first for types on
// record) → normalize/redact/serialize → blobs → one commit if changed.
// Only `path → blob id` is kept in memory; objects are dropped as soon as their blob is hashed (and written if new).
import type { ClusterConfig, Config } from '../config/types.ts';
import { resolveAccess } from '../kube/access.ts';
import { createKubeClient, type KubeClient } from '../kube/client.ts';
import { discoverSelectedTypes } from '../kube/discovery.ts';
import type { ResourceType } from '../model/resource-type.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { mapLimit } from '../util/map-limit.ts';
import { clusterPrefix, pathInCluster } from '../model/object-path.ts';
import { AttributionCollector } from '../attribution/collector.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { clusterOfCommit } from '../model/trailers.ts';
import { objectId } from '../store/codec.ts';
import { commitTime } from '../store/commit-time.ts';
import type { ObjectBatch } from '../store/pack.ts';
import { BranchMovedError } from '../store/refs.ts';
import type { FileMap, Repo } from '../store/repo.ts';
import type { SyncEvents } from './events.ts';
import { readType } from './read-type.ts';
import { typeRenderer, type Rendered } from './render.ts';
import { RenderCache } from './render-cache.ts';
import { adoptState, stateKey, type StateSource } from './state-exchange.ts';
import { commitMessage, compareFiles, type SyncResult, type TypeCounts } from './result.ts';

export interface SyncClusterOptions {
  config: Config;
  cluster: ClusterConfig;
  repo: Repo;
  dryRun?: boolean;
  allowMassDelete?: boolean;
  /**
   * Pull-request mode: a mass deletion is committed (locally) and marked in the result instead of refused, so it
   * goes to the cluster's PR for a person to accept or reject; the base branch never gets it from this run.
   */
  massDeletionToReview?: boolean;
  now?: Date;
  events?: SyncEvents;
  client?: KubeClient;
  env?: Record<string, string | undefined>;
  onTypeDone?: (type: string, counts: TypeCounts | undefined, error?: string) => void;
  /** Fails when the run lost the repository lock: checked before the branch moves. */
  assertLocked?: () => Promise<void>;
  /** Writes heard from the cluster's audit webhook: a change that matches one exactly names its user. */
  audit?: AuditLog;
  /** The cluster's render state on the remote, read when this repository has no render cache (state-exchange.ts). */
  remoteState?: StateSource;
  /** The cluster's client and discovery, already under way (a run starts them while it fetches the remote). */
  discovered?: Promise<DiscoveredCluster>;
}

export type DiscoveredCluster = { client: KubeClient; discovery: Awaited<ReturnType<typeof discoverSelectedTypes>> };

/** Connects to the cluster and asks what it serves; a failure is the cluster's sync's to report. */
export async function discoverCluster(cluster: ClusterConfig, env?: Record<string, string | undefined>, client?: KubeClient): Promise<DiscoveredCluster> {
  client ??= createKubeClient(cluster.id, resolveAccess(cluster, env), { timeoutMs: cluster.discovery.requestTimeoutSeconds * 1000 });
  return { client, discovery: await discoverSelectedTypes(client, cluster.discovery) };
}

export { recordedObject, renderObject } from './render.ts';

export async function syncCluster(o: SyncClusterOptions): Promise<SyncResult> {
  const started = Date.now();
  const { cluster, repo, config } = o;
  const settings = cluster.discovery;
  const dryRun = o.dryRun ?? false;
  const result: SyncResult = {
    clusterId: cluster.id, status: 'complete', dryRun, added: 0, changed: 0, deleted: 0, unchanged: 0, blobsWritten: 0,
    failedTypes: [], types: {}, durationMs: 0, changes: { added: [], changed: [], deleted: [] },
  };
  o.events?.emit('cluster.sync.started', { clusterId: cluster.id, dryRun });
  let batch: ObjectBatch | undefined;
  try {
    const discovered = o.discovered ?? discoverCluster(cluster, o.env, o.client);
    discovered.catch(() => {}); // awaited below, after the recorded state is under way
    const prefix = clusterPrefix(cluster.id);
    let recordedFiles: FileMap = new Map(); // what the last sync recorded: known once `recorded` resolves
    const renderer = typeRenderer(config, cluster, (path) => recordedBlob(repo, recordedFiles, path));
    // What the last sync recorded is read while discovery waits for the server.
    const recorded = readRecorded(repo, prefix, dryRun, async (subtree) => {
      // The rules in force are part of the fingerprint: a blob rendered under other rules is never reused.
      const cache = new RenderCache(repo.gitdir, cluster.id, renderer.fingerprint, started);
      await adoptState(cache, o.remoteState, { clusterId: cluster.id, subtree, key: stateKey(config) });
      return cache;
    });
    recorded.catch(() => {}); // awaited below
    const { client, discovery } = await discovered;
    const { selected } = discovery;
    for (const t of selected) o.events?.emit('resource.discovered', { clusterId: cluster.id, type: t.name, namespaced: t.namespaced });

    const { head, before, beforeTree, cache } = await recorded;
    recordedFiles = before;
    // In a partial clone (a CronJob's fetch, without blobs), what sops mode reads comes in one request.
    if (config.secrets.mode === 'sops') await repo.objects.prefetch(filesOfType(before, 'core.v1.Secret'));
    const attribution = new AttributionCollector(before, o.audit && { log: o.audit, cluster: cluster.id });
    let knownBlobs: Set<string> | undefined; // built at the first render: a run without changes never needs it
    const known = (oid: string) => (knownBlobs ??= new Set(before.values())).has(oid);
    // A dry run makes no batch: creating one clears other runs' temp packs.
    const objects = batch = dryRun ? undefined : repo.objectBatch();
    const stats = { written: 0 };
    const after: FileMap = new Map();
    const failed = new Set<string>();
    for (const g of discovery.failedGroups) {
      result.failedTypes.push({ type: `${g.group || 'core'}.${g.version ?? '*'}.*`, reason: g.reason });
    }

    const recordedCounts = countTypes(before);
    await mapLimit(largestFirst(selected, recordedCounts), settings.concurrency, async (type: ResourceType) => {
      const { render, ignoresObject } = renderer.forType(type);
      const blobOf = (obj: KubeObject) => {
        const meta = obj.metadata;
        const store = ({ bytes, recorded: recordedObj }: Rendered) => {
          const oid = objects ? objects.write('blob', bytes, known, stats) : objectId('blob', bytes);
          if (meta?.name) attribution.saw(pathInCluster(type.name, meta.namespace, meta.name), type, obj, recordedObj, bytes, oid);
          return oid;
        };
        const rendered = render(obj);
        return rendered instanceof Promise ? rendered.then(store) : store(rendered);
      };
      try {
        const source = { client, settings, cache, before, ignoresObject };
        const files = await readType(source, type, blobOf, recordedCounts.has(type.name));
        for (const [p, id] of files) after.set(p, id);
        o.onTypeDone?.(type.name, undefined);
      } catch (e) {
        failed.add(type.name);
        result.failedTypes.push({ type: type.name, reason: (e as Error).message });
        o.onTypeDone?.(type.name, undefined, (e as Error).message);
      }
    });

    // A type (or group) that could not be listed keeps what was recorded before: failure is never deletion.
    const failedGroups = new Set(discovery.failedGroups.map((g) => g.group));
    // A recorded type gone from discovery is dropped (its CRD was removed), but not while the apiserver says it is
    // not ready: one that has just started serves discovery before its CRDs and APIServices are back.
    const served = new Set(selected.map((t) => t.name));
    const vanished = [...recordedCounts.keys()].filter((t) => !served.has(t) && !failed.has(t) && !failedGroups.has(groupOf(t)));
    const notReady = vanished.length ? await apiserverNotReady(client) : undefined;
    if (notReady) {
      for (const type of vanished) {
        failed.add(type);
        result.failedTypes.push({ type, reason: `not in discovery while the apiserver is not ready (${notReady}): kept as recorded` });
      }
    }
    for (const [path, oid] of before) {
      const typeName = path.slice(0, path.indexOf('/'));
      if (failed.has(typeName) || failedGroups.has(groupOf(typeName))) after.set(path, oid);
    }

    const changes = compareFiles(before, after);
    Object.assign(result, {
      changes, added: changes.added.length, changed: changes.changed.length, deleted: changes.deleted.length,
      unchanged: changes.unchanged, types: countByType(after, changes),
    });
    result.status = result.failedTypes.length ? 'partial' : 'complete';
    for (const path of changes.deleted) o.events?.emit('resource.deleted', { clusterId: cluster.id, path: `${prefix}/${path}` });

    const massDeletion = before.size > 0 && changes.deleted.length * 100 > before.size * settings.maxDeletePercent && !o.allowMassDelete;
    if (massDeletion) result.massDeletion = { deleted: changes.deleted.length, recorded: before.size, maxDeletePercent: settings.maxDeletePercent };
    if (massDeletion && !o.massDeletionToReview) {
      result.status = 'refused';
      result.error = `refusing to delete ${changes.deleted.length} of ${before.size} recorded objects ` +
        `(more than maxDeletePercent ${settings.maxDeletePercent}%); rerun with --allow-mass-delete if this is intended`;
    } else if (!dryRun) {
      // Saved (and out of memory) before the commit, whose working-tree write is a first sync's memory peak. A
      // cache entry is only used for a blob the next run finds in HEAD, so a commit failing after this is harmless.
      cache.close();
      if (objects && changes.added.length + changes.changed.length + changes.deleted.length > 0) {
        // Who changed what, from managedFields: bounded by when the previous versions were read.
        // The previous read's time: the render cache's, else (a walk of history) the cluster's newest commit's.
        const since = cache.readAt ?? (head ? await lastClusterRead(repo, head, prefix) : undefined);
        await repo.objects.prefetch(changes.changed.map((path) => before.get(path)!)); // a partial clone's, in one request
        const managers = await attribution.attribute(changes, (oid) => repo.readBlob(oid), since, new Map(selected.map((t) => [t.name, t])));
        result.commit = await commitClusterTree(repo, cluster.id, after, {
          objects,
          previous: { files: before, tree: beforeTree, changed: [...changes.added, ...changes.changed, ...changes.deleted] },
          message: commitMessage(cluster.id, changes, result.failedTypes.map((f) => f.type), managers),
          author: config.author,
          time: o.now ?? new Date(),
          assertLocked: o.assertLocked,
        });
        o.events?.emit('change.detected', { clusterId: cluster.id, commit: result.commit, ...changes });
      }
    }
    result.blobsWritten = stats.written;
  } catch (e) {
    result.status = 'failed';
    const message = (e as Error).message;
    result.error = message.startsWith(`cluster ${cluster.id}:`) ? message : `cluster ${cluster.id}: ${message}`;
    o.events?.emit('sync.failed', { clusterId: cluster.id, error: result.error });
  } finally {
    batch?.abort(); // objects nothing refers to: a pack not finished is not kept
  }
  result.durationMs = Date.now() - started;
  o.events?.emit('cluster.sync.completed', { result });
  return result;
}

/**
 * Types by how many objects the last sync recorded, most first (stable otherwise): the longest lists start
 * first, so a few large types (ConfigMaps, Pods, Secrets) do not start last behind dozens of empty ones.
 */
function largestFirst(types: ResourceType[], counts: Map<string, number>): ResourceType[] {
  return [...types].sort((a, b) => (counts.get(b.name) ?? 0) - (counts.get(a.name) ?? 0));
}

/** How many files of each type were recorded. */
function countTypes(files: FileMap): Map<string, number> {
  const counts = new Map<string, number>();
  for (const path of files.keys()) {
    const type = path.slice(0, path.indexOf('/'));
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

async function readRecorded(repo: Repo, prefix: string, dryRun: boolean, loadCache: (subtree: string | undefined) => Promise<RenderCache>) {
  if (!dryRun) await repo.finishPendingCheckout(); // a dry run reads what is committed and leaves the rest alone
  const head = await repo.head();
  const headTree = head ? (await repo.readCommit(head)).tree : undefined;
  const beforeTree = headTree && await repo.entryAt(headTree, prefix);
  const before = await repo.listFiles(beforeTree);
  return { head, beforeTree, before, cache: await loadCache(beforeTree) };
}

/**
 * When the cluster's subtree at `head` was read (ms): the author time of the newest commit that recorded the
 * cluster, found within a few hundred first-parent commits of a history that may be shallow. Every object on
 * record was current then, so it bounds attribution where no render cache says when the last run read.
 */
async function lastClusterRead(repo: Repo, head: string, prefix: string): Promise<number | undefined> {
  const clusterId = prefix.slice(prefix.indexOf('/') + 1);
  let oid: string | undefined = head;
  for (let n = 0; oid && n < 500; n++) {
    let c;
    try {
      c = await repo.readCommit(oid);
    } catch {
      return undefined; // the end of a shallow history
    }
    if (clusterOfCommit(c.message) === clusterId) return c.author.timestamp * 1000;
    oid = c.parents[0];
  }
  return undefined;
}

/** Why the apiserver is not ready (GET /readyz), or undefined when it is, or does not let us ask. */
async function apiserverNotReady(client: KubeClient): Promise<string | undefined> {
  try {
    const res = await client.request('/readyz');
    return res.status >= 500 ? `GET /readyz: ${res.status}` : undefined; // 401/403: not ours to know, as before
  } catch (e) {
    return `GET /readyz: ${(e as Error).message}`;
  }
}

/** The blobs of `type`'s files. */
function* filesOfType(files: FileMap, type: string): Iterable<string> {
  for (const [path, oid] of files) if (path.startsWith(`${type}/`)) yield oid;
}

/** The file the last sync recorded at `path` (sops mode reuses its sealing when the values are unchanged). */
async function recordedBlob(repo: Repo, before: FileMap, path: string): Promise<Uint8Array | undefined> {
  const oid = before.get(path);
  return oid === undefined ? undefined : repo.readBlob(oid);
}

function groupOf(typeName: string): string {
  const k = typeName.lastIndexOf('.');
  const g = typeName.slice(0, typeName.lastIndexOf('.', k - 1));
  return g === 'core' ? '' : g;
}

function countByType(after: FileMap, changes: { added: string[]; changed: string[]; deleted: string[] }): Record<string, TypeCounts> {
  const counts: Record<string, TypeCounts> = {};
  const bump = (path: string, key: keyof TypeCounts) => {
    const type = path.slice(0, path.indexOf('/'));
    counts[type] ??= { objects: 0, added: 0, changed: 0, deleted: 0 };
    counts[type][key]++;
  };
  for (const path of after.keys()) bump(path, 'objects');
  for (const p of changes.added) bump(p, 'added');
  for (const p of changes.changed) bump(p, 'changed');
  for (const p of changes.deleted) bump(p, 'deleted');
  return counts;
}

/**
 * Commits the cluster's new subtree on top of the current branch head, replacing only `clusters/<id>`.
 * If the branch moved meanwhile (another cluster's sync, a person's `git commit` in the same repository), the
 * commit is re-made on the new head. The checkout marker is durable before the branch moves (see Repo).
 */
export async function commitClusterTree(
  repo: Repo, clusterId: string, files: FileMap,
  c: {
    message: string; author: { name: string; email: string }; time: Date;
    /** The cluster's subtree as the sync read it, and the paths changed since: unchanged directories are reused. */
    previous: { files: FileMap; tree: string | undefined; changed: string[] };
    /** The sync's new blobs: its trees join them, and all are made durable before the branch moves. */
    objects?: ObjectBatch;
    assertLocked?: () => Promise<void>;
  },
): Promise<string> {
  const subtree = await repo.writeTreeFromFiles(files, c.previous, c.objects);
  c.objects?.finish();
  // The index stays locked from before the branch moves until it matches the new commit (as in git commit).
  return repo.exclusive(() => repo.holdingIndex(async () => {
    const prefix = clusterPrefix(clusterId);
    await repo.beginCheckout(prefix);
    for (let attempt = 1; ; attempt++) {
      const head = await repo.head();
      const parent = head ? await repo.readCommit(head) : undefined;
      const tree = await repo.replaceSubtree(parent?.tree, prefix, subtree);
      await c.assertLocked?.();
      const commit = await repo.writeCommit({
        tree,
        parents: head ? [head] : [],
        author: { ...c.author, timestamp: Math.floor(c.time.getTime() / 1000), timezoneOffset: 0 },
        // Author time is when the cluster was read; committer time when the commit was made, never before its parent's.
        committer: { ...c.author, timestamp: commitTime(parent), timezoneOffset: 0 },
        message: c.message,
      });
      try {
        await repo.updateBranch(head, commit);
      } catch (e) {
        if (e instanceof BranchMovedError && attempt < 5) continue;
        throw e;
      }
      // Only this cluster's sync writes its subtree, so what the sync read at its start is still what HEAD has.
      await repo.syncWorktree(prefix, c.previous.files, files);
      return commit;
    }
  }));
}
