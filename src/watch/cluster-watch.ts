// Watch mode for one cluster: an initial sync, then every selected type watched (scope-watch.ts), and the
// changes of each coalescing window committed as one commit that replaces only the cluster's subtree, with the
// very bytes a sync would write. Per object only `path → blob id` (+ resourceVersion) is held.
import { AttributionCollector } from '../attribution/collector.ts';
import type { ClusterConfig, Config } from '../config/types.ts';
import { resolveAccess } from '../kube/access.ts';
import { createKubeClient, type KubeClient } from '../kube/client.ts';
import { discoverSelectedTypes } from '../kube/discovery.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { clusterPrefix } from '../model/object-path.ts';
import type { ResourceType } from '../model/resource-type.ts';
import type { ObjectBatch } from '../store/pack.ts';
import type { FileMap, Repo } from '../store/repo.ts';
import { RenderCache } from '../sync/render-cache.ts';
import { typeRenderer } from '../sync/render.ts';
import { commitMessage, compareFiles, type FileChanges } from '../sync/result.ts';
import type { SyncEvents } from '../sync/events.ts';
import { housekeeping } from '../sync/run.ts';
import { commitClusterTree, syncCluster } from '../sync/sync.ts';
import { collectGarbage } from '../util/collect-garbage.ts';
import { dropScope, fileMap, scopePrefix, type WatchedFiles } from './files.ts';
import { scopeListPath, sleep, watchScope, type ScopeContext } from './scope-watch.ts';

export interface WatchClusterOptions {
  config: Config;
  cluster: ClusterConfig;
  repo: Repo;
  commitIntervalMs: number;
  discoveryIntervalMs: number;
  /** Stops the watch: what is pending is committed, then it resolves. */
  signal: AbortSignal;
  assertLocked: () => Promise<void>;
  /** One line for a person (stderr). */
  report: (line: string) => void;
  onCommit?: (commit: string, changes: FileChanges) => void;
  /** The initial sync is done and every selected type is being watched. */
  onWatching?: (types: number) => void;
  env?: Record<string, string | undefined>;
  /** How long one watch request stays open (default 300 s). */
  watchTimeoutSeconds?: number;
  /** Runs each commit (with its publish) after the other clusters' (a publish may move the branch). */
  serially?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** After each commit, in `serially`: sends it on (push or pull request); never throws. */
  publish?: (clusterId: string, failedTypes: string[]) => Promise<void>;
  /** The initial sync's events, and `change.detected` for each window's commit (webhooks, metrics). */
  events?: SyncEvents;
}

interface Scope { stop: AbortController; done: Promise<void> }

async function subtreeAtHead(repo: Repo, prefix: string): Promise<string | undefined> {
  const head = await repo.head();
  return head ? repo.entryAt((await repo.readCommit(head)).tree, prefix) : undefined;
}

/** The cluster's subtree at HEAD and its files. */
async function committedSubtree(repo: Repo, prefix: string): Promise<{ tree: string | undefined; files: FileMap }> {
  const tree = await subtreeAtHead(repo, prefix);
  return { tree, files: await repo.listFiles(tree) };
}

export async function watchCluster(o: WatchClusterOptions): Promise<void> {
  const { config, cluster, repo } = o;
  const settings = cluster.discovery;
  const prefix = clusterPrefix(cluster.id);
  const serially = o.serially ?? ((fn) => fn());
  // Only the initial sync's failed types are kept: its result lists every path it added (50k strings at 50k objects).
  const failedAtStart = await serially(async () => {
    const r = await syncCluster({ config, cluster, repo, assertLocked: o.assertLocked, env: o.env, events: o.events });
    if (r.commit) {
      o.onCommit?.(r.commit, r.changes);
      await o.publish?.(cluster.id, r.failedTypes.map((f) => f.type));
    }
    if (r.status === 'failed' || r.status === 'refused') throw new Error(r.error ?? `cluster ${cluster.id}: initial sync ${r.status}`);
    return r.failedTypes;
  });
  for (const f of failedAtStart) o.report(`cluster ${cluster.id}: ${f.type} could not be read: ${f.reason}`);
  collectGarbage(); // the initial sync's temporaries, before the first lists of every type add theirs

  const client: KubeClient = createKubeClient(cluster.id, resolveAccess(cluster, o.env), { timeoutMs: settings.requestTimeoutSeconds * 1000 });
  let committed = await committedSubtree(repo, prefix);
  let committedAt = Date.now();
  const files: WatchedFiles = new Map([...committed.files].map(([p, oid]) => [p, { oid }]));
  let dirty = false;
  let batch: ObjectBatch | undefined;
  let knownBlobs: Set<string> | undefined;
  let attribution = new AttributionCollector(committed.files);
  const renderer = typeRenderer(config, cluster, async (path) => {
    const oid = committed.files.get(path);
    return oid === undefined ? undefined : repo.readBlob(oid);
  });
  // The initial sync's render cache: the scopes' first lists reuse the blob it rendered for an object (same uid and
  // resourceVersion, a blob in the committed tree: a sync's own rule) instead of rendering every object again.
  // Let go once every type has been listed (or at the first rediscovery): ~200 bytes an object.
  let fromSync: RenderCache | undefined = new RenderCache(repo.gitdir, cluster.id, renderer.fingerprint);
  const unlisted = new Set<string>();
  const forType = new Map<string, ReturnType<typeof renderer.forType>>();
  const rulesOf = (type: ResourceType) => forType.get(type.name) ?? forType.set(type.name, renderer.forType(type)).get(type.name)!;
  const failing = new Map<string, string>();
  const saidUnwatchable = new Set<string>();
  const types = new Map<string, ResourceType>();

  const ctx: ScopeContext = {
    client, settings, files,
    async render(type: ResourceType, obj: KubeObject, path: string) {
      const rv = obj.metadata?.resourceVersion;
      const cached = fromSync?.get(RenderCache.key(type.name, obj.metadata?.uid, rv));
      if (cached !== undefined && cached === committed.files.get(path)) return { oid: cached, resourceVersion: rv as string };
      const rendered = await rulesOf(type).render(obj);
      // A sync's batch (100 loose, then one pack): one pack per window raised the watch's RSS (bench/README.md).
      batch ??= repo.objectBatch();
      const oid = batch.write('blob', rendered.bytes, (id) => (knownBlobs ??= new Set(committed.files.values())).has(id));
      attribution.saw(path, type, obj, rendered.recorded, rendered.bytes, oid);
      return { oid, resourceVersion: typeof rv === 'string' ? rv : undefined };
    },
    ignoresObject: (type) => rulesOf(type).ignoresObject,
    changed: () => { dirty = true; },
    unwatchable(type, reason) {
      if (saidUnwatchable.has(type.name)) return;
      saidUnwatchable.add(type.name);
      o.report(`cluster ${cluster.id}: ${type.name} cannot be watched (${reason}): listed again every ${o.commitIntervalMs / 1000} s instead`);
    },
    failing(type, reason) {
      if (reason === undefined && unlisted.delete(type.name) && unlisted.size === 0) fromSync = undefined; // listed
      if (reason === undefined) failing.delete(type.name);
      else if (!failing.has(type.name)) {
        failing.set(type.name, reason);
        o.report(`cluster ${cluster.id}: ${type.name}: ${reason} (retrying)`);
      }
    },
    relistMs: o.commitIntervalMs,
    watchTimeoutSeconds: o.watchTimeoutSeconds ?? 300,
  };

  // One scope per type, or per type and namespace when the cluster's namespaces are listed one by one (as a sync).
  const scopes = new Map<string, Scope>();
  const scopeKeys = (t: ResourceType) => (t.namespaced && settings.namespaces?.length ? settings.namespaces.map((ns) => [t.name, ns] as const) : [[t.name, undefined] as const]);
  const startType = (t: ResourceType) => {
    types.set(t.name, t);
    for (const [name, ns] of scopeKeys(t)) {
      const stop = new AbortController();
      scopes.set(`${name}/${ns ?? ''}`, { stop, done: watchScope(ctx, t, ns, stop.signal) });
    }
  };
  const stopType = async (t: ResourceType, drop: boolean) => {
    for (const [name, ns] of scopeKeys(t)) {
      const scope = scopes.get(`${name}/${ns ?? ''}`);
      scopes.delete(`${name}/${ns ?? ''}`);
      scope?.stop.abort();
      await scope?.done;
    }
    types.delete(t.name);
    failing.delete(t.name);
    if (drop && dropScope(files, scopePrefix(t, undefined)) > 0) dirty = true;
  };

  const commitWindow = () => (dirty ? serially(commitPending) : Promise.resolve());

  async function commitPending(): Promise<void> {
    dirty = false;
    // A pull-request publish put the branch back on the remote base: the next commit proposes all since then.
    if (await subtreeAtHead(repo, prefix) !== committed.tree) {
      committed = await committedSubtree(repo, prefix);
      knownBlobs = undefined;
    }
    const after = fileMap(files);
    const objects = batch;
    const collector = attribution;
    batch = undefined; // what renders from now on belongs to the next window
    attribution = new AttributionCollector(after);
    const changes = compareFiles(committed.files, after);
    const changed = [...changes.added, ...changes.changed, ...changes.deleted];
    if (changed.length === 0) {
      objects?.abort(); // a change undone within the window: every blob in `after` is committed already
      return;
    }
    const managers = await collector.attribute(changes, (oid) => repo.readBlob(oid), committedAt, new Map(types));
    const now = new Date();
    const commit = await commitClusterTree(repo, cluster.id, after, {
      objects, previous: { files: committed.files, tree: committed.tree, changed },
      message: commitMessage(cluster.id, changes, [...failing.keys()], managers),
      author: config.author, time: now, assertLocked: o.assertLocked,
    });
    committed = { tree: await repo.entryAt((await repo.readCommit(commit)).tree, prefix), files: after };
    committedAt = now.getTime();
    knownBlobs = undefined;
    o.onCommit?.(commit, changes);
    o.events?.emit('change.detected', { clusterId: cluster.id, commit, ...changes });
    await o.publish?.(cluster.id, [...failing.keys()]);
    // A watch runs for weeks: its commits' loose objects packed, its windows' packs merged, the commit-graph kept.
    // Collected before (the window's copies of the file map die at its commit) and after (housekeeping's own): the
    // first window's housekeeping indexes the 50k-file first commit on top of the window's garbage otherwise.
    collectGarbage();
    await housekeeping(repo, o.assertLocked);
    collectGarbage(); // util/collect-garbage.ts
  }

  // A type missing from discovery is gone only when its own endpoint says so (404): an apiserver that has just
  // started again serves discovery before its CRDs are back, and answers 503 for them meanwhile.
  async function noLongerServed(t: ResourceType): Promise<boolean> {
    const [, ns] = scopeKeys(t)[0]!;
    try {
      const res = await client.request(`${scopeListPath(t, ns)}?limit=1`);
      return res.status === 404;
    } catch {
      return false;
    }
  }

  // New types (a CRD created, an APIService available) start being watched; types no longer served stop, and
  // their files go as a sync would drop them (unless their group failed discovery, or the type's endpoint still
  // answers: failure is never deletion).
  async function rediscover(): Promise<void> {
    fromSync = undefined; // a type that never listed keeps it no longer
    let found;
    try {
      found = await discoverSelectedTypes(client, settings);
    } catch (e) {
      o.report(`cluster ${cluster.id}: discovery failed (${(e as Error).message}): retrying in ${o.discoveryIntervalMs / 1000} s`);
      return;
    }
    const failedGroups = new Set(found.failedGroups.map((g) => g.group));
    const now = new Map(found.selected.map((t) => [t.name, t]));
    for (const t of [...types.values()]) if (!now.has(t.name) && !failedGroups.has(t.group) && await noLongerServed(t)) await stopType(t, true);
    for (const t of found.selected) if (!types.has(t.name)) startType(t);
  }

  // Ends the loops when the caller stops the watch, or when a commit fails (the watch then ends with that error).
  const running = new AbortController();
  const stop = () => running.abort();
  o.signal.addEventListener('abort', stop, { once: true });
  if (o.signal.aborted) stop();
  const initial = await discoverSelectedTypes(client, settings);
  for (const t of initial.selected) unlisted.add(t.name);
  if (unlisted.size === 0) fromSync = undefined;
  for (const t of initial.selected) startType(t);
  o.onWatching?.(initial.selected.length);
  const discovery = (async () => {
    while (!running.signal.aborted) {
      await sleep(o.discoveryIntervalMs, running.signal);
      if (!running.signal.aborted) await rediscover();
    }
  })();
  try {
    while (!running.signal.aborted) {
      await sleep(o.commitIntervalMs, running.signal);
      await commitWindow();
    }
  } finally {
    stop();
    o.signal.removeEventListener('abort', stop);
    await discovery;
    for (const s of scopes.values()) s.stop.abort();
    await Promise.all([...scopes.values()].map((s) => s.done));
  }
  await commitWindow(); // what the last window saw
  batch?.abort();
}
