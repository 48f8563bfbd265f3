// A sync run over the configured clusters: one repository lock, clusters in parallel up to `concurrency`.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/types.ts';
import { updateIndexFile } from '../history/index-file.ts';
import { GitReader } from '../history/reader.ts';
import { mapLimit } from '../util/map-limit.ts';
import { DEFAULT_STALE_MS, lockRepo } from '../store/lock.ts';
import { maintainRepository } from '../store/maintenance.ts';
import { updateCommitGraph } from '../store/commit-graph.ts';
import { pushWithRetry, syncFromRemote, type PushResult, type RemoteTarget } from '../store/remote.ts';
import { Repo } from '../store/repo.ts';
import { stateRefUpdate } from '../store/state-ref.ts';
import type { ReviewOutcome } from '../review/execute.ts';
import { reviewRun } from '../review/run.ts';
import type { SyncEvents } from './events.ts';
import type { SyncResult, TypeCounts } from './result.ts';
import { discoverCluster, syncCluster } from './sync.ts';
import { prepareStates, publishStates, remoteStateSource, statesToFetch, type PreparedStates } from './state-exchange.ts';

export interface RunOptions {
  clusterIds?: string[];
  dryRun?: boolean;
  allowMassDelete?: boolean;
  events?: SyncEvents;
  lockWaitMs?: number;
  /** Start from the remote's head and push what this run committed (needs `config.remote`). */
  push?: boolean;
  /** With `push`: read the render state from the remote when there is no local cache (default true; benches compare). */
  remoteState?: boolean;
  /**
   * With `push`, for a one-shot run (the CronJob's `sync`): an empty directory for a bare repository becomes a
   * partial clone (see syncFromRemote). Not for a daemon, whose API reads any file of its repository, nor in
   * pull-request mode, whose branches isomorphic-git pushes with whole trees.
   */
  partialClone?: boolean;
  env?: Record<string, string | undefined>;
  /** Writes heard from the clusters' audit webhooks (a daemon's): changes that match one name their user. */
  audit?: AuditLog;
  onTypeDone?: (clusterId: string, type: string, counts: TypeCounts | undefined, error?: string) => void;
}

export async function openRepo(config: Config): Promise<Repo> {
  return Repo.open(config.repo, { bare: config.bare, branch: config.branch });
}

export interface RunResult {
  results: SyncResult[]; push?: PushResult; pushError?: string; pullRequests?: ReviewOutcome[];
  /** Where the run's time went, in ms: start from the remote, sync the clusters, push (or review; with the render states). */
  timings?: { fetchMs: number; syncMs: number; pushMs: number };
  /** Render states that could not be pushed (a cache: the run still succeeded). */
  stateWarnings?: string[];
}

export function remoteTarget(config: Config, env: Record<string, string | undefined> = process.env): RemoteTarget {
  if (!config.remote) throw new Error('no remote configured: set remote.url in the config or pass --remote');
  // In pull-request mode the branch the run starts from (and guarded mode pushes to) is the PRs' base.
  const branch = config.remote.pullRequest?.base ?? config.remote.branch;
  return { url: config.remote.url, branch, username: config.remote.username, token: env[config.remote.tokenEnv] || undefined };
}

export async function syncClusters(config: Config, o: RunOptions = {}): Promise<SyncResult[]> {
  return (await runSync(config, o)).results;
}

/** One run: lock the repository, (optionally) start from the remote head, sync clusters, (optionally) push. */
export async function runSync(config: Config, o: RunOptions = {}): Promise<RunResult> {
  if (o.dryRun) return dryRun(config, o);
  const clusters = o.clusterIds ? config.clusters.filter((c) => o.clusterIds!.includes(c.id)) : config.clusters;
  const target = o.push ? remoteTarget(config, o.env) : undefined;
  const existed = repositoryExists(config.repo);
  const repo = await openRepo(config);
  const lock = await lockRepo(repo.gitdir, { waitMs: o.lockWaitMs ?? 0, staleMs: lockStaleMs(o.env ?? process.env) });
  const assertLocked = () => lock.assertHeld();
  const started = performance.now();
  let synced = started;
  const timed = (r: RunResult): RunResult => ({ ...r, timings: { fetchMs: fetched - started, syncMs: synced - fetched, pushMs: performance.now() - synced } });
  let fetched = started;
  try {
    const withState = target !== undefined && o.remoteState !== false;
    // Discovery of the clusters synced first runs while the remote is fetched: neither needs the other.
    const discovered = new Map(target ? clusters.slice(0, config.concurrency).map((c) => [c.id, discoverCluster(c, o.env)]) : []);
    for (const d of discovered.values()) d.catch(() => {}); // each sync awaits its own
    const alsoFetch = withState ? statesToFetch(repo, clusters.map((c) => c.id)) : [];
    if (target) await syncFromRemote(repo, target, { assertLocked, alsoFetch, blobless: o.partialClone && !existed && config.bare && !config.remote?.pullRequest });
    fetched = performance.now();
    const baseHead = await repo.head(); // in pull-request mode: the remote base, which the syncs' commits start from
    const now = new Date();
    const pr = target ? config.remote?.pullRequest : undefined;
    const results = await mapLimit(clusters, config.concurrency, (cluster) => syncCluster({
      config, cluster, repo, now, allowMassDelete: o.allowMassDelete, events: o.events, env: o.env, assertLocked, audit: o.audit,
      massDeletionToReview: pr !== undefined, // a person accepts it by merging the PR, or rejects it by closing
      onTypeDone: (type, counts, error) => o.onTypeDone?.(cluster.id, type, counts, error),
      remoteState: withState ? remoteStateSource(repo, cluster.id) : undefined, discovered: discovered.get(cluster.id),
    }));
    synced = performance.now();
    if (!target) return timed({ results });
    // Once the branch is on the remote (pushed, or nothing to push), each cluster's render state follows it: in the
    // branch's own push request when there was one, else on its own.
    const withStates = async (r: RunResult, prepared?: PreparedStates): Promise<RunResult> => {
      await assertLocked();
      const stateWarnings = await publishStates(repo, target, prepared ?? await prepareStates(repo, config, results), new Set(r.push?.alongside));
      return stateWarnings.length ? { ...r, stateWarnings } : r;
    };
    if (pr) {
      const review = await reviewRun(config, pr, repo, target, baseHead, results, assertLocked);
      const errors = [review.error, ...review.pullRequests.map((p) => p.error)].filter((e) => e !== undefined);
      const pushError = errors.length ? errors.join('\n') : undefined;
      // Nothing for base: the local base branch was reset to the remote's.
      if (!review.pushBase) return timed(await withStates({ results, pullRequests: review.pullRequests, pushError }));
      try {
        return timed(await withStates({ results, push: await pushWithRetry(repo, target, { assertLocked, attempts: config.remote!.pushAttempts }), pullRequests: review.pullRequests, pushError }));
      } catch (e) {
        return timed({ results, pullRequests: review.pullRequests, pushError: [...errors, (e as Error).message].join('\n') });
      }
    }
    try {
      const states = await prepareStates(repo, config, results);
      const alongside = states.updates.map((u) => ({ ref: u.ref, update: (old: string | undefined) => stateRefUpdate(u, old) }));
      return timed(await withStates({ results, push: await pushWithRetry(repo, target, { assertLocked, attempts: config.remote!.pushAttempts, alongside }) }, states));
    } catch (e) {
      return timed({ results, pushError: (e as Error).message });
    }
  } finally {
    // A repository this run created is a CronJob's empty volume, gone after the run: no caches for it (a volume that
    // stays gets them from its next run, which catches up).
    if (existed) await housekeeping(repo, assertLocked);
    await lock.release();
  }
}

/**
 * What a run would change, with nothing written: no lock (a dry run reads only what is committed, so it may run
 * beside a real run), no pending checkout finished, no object or temp pack touched, no repository created (a
 * missing one reads as an empty history from a throw-away directory).
 */
async function dryRun(config: Config, o: RunOptions): Promise<RunResult> {
  const clusters = o.clusterIds ? config.clusters.filter((c) => o.clusterIds!.includes(c.id)) : config.clusters;
  const exists = repositoryExists(config.repo);
  const empty = exists ? undefined : await mkdtemp(join(tmpdir(), 'kubetrail-dry-run-'));
  try {
    const repo = empty ? await Repo.open(empty, { bare: true, branch: config.branch }) : await openRepo(config);
    const now = new Date();
    const results = await mapLimit(clusters, config.concurrency, (cluster) => syncCluster({
      config, cluster, repo, now, dryRun: true, allowMassDelete: o.allowMassDelete, events: o.events, env: o.env,
      onTypeDone: (type, counts, error) => o.onTypeDone?.(cluster.id, type, counts, error),
    }));
    return { results };
  } finally {
    if (empty) await rm(empty, { recursive: true, force: true });
  }
}

const repositoryExists = (dir: string) => existsSync(join(dir, '.git', 'HEAD')) || (existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')));

/** The lock's stale timeout: KUBETRAIL_LOCK_STALE_SECONDS (tests shorten it), else 30 s. */
export function lockStaleMs(env: Record<string, string | undefined>): number {
  const seconds = Number(env.KUBETRAIL_LOCK_STALE_SECONDS);
  return env.KUBETRAIL_LOCK_STALE_SECONDS && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_STALE_MS;
}

// Housekeeping under the lock, last (after the push, whose fetches add packs): a repository that outlives its
// runs (a daemon's, or a persistent volume's) would otherwise keep every small sync's objects as loose files
// and every fetch's pack.
export async function housekeeping(repo: Repo, assertLocked: () => Promise<void>): Promise<void> {
  try {
    await assertLocked();
    if (maintainRepository(repo.gitdir).looseObjectsPacked > 0) repo.writer.refresh();
  } catch {
    // Not the sync's failure: its commits are in place. The next run tries again.
  }
  try {
    await assertLocked();
    await updateCommitGraph(repo.gitdir, (oid) => repo.objects.read(oid)); // path-limited `git log` stays fast
  } catch {
    // A cache: the next run catches up.
  }
  try {
    await assertLocked();
    await updateIndexFile(repo, new GitReader(repo, { small: true })); // history queries stay fast (history/index-file.ts)
  } catch {
    // A cache too.
  }
}

/**
 * 0 complete; 1 when any cluster failed or was refused (or the push / pull requests failed); 4 when a mass
 * deletion was held for review in a pull request instead (a person must act); 3 partial (some types failed).
 */
export function exitCodeFor(results: SyncResult[], pushError?: string): number {
  if (pushError) return 1;
  if (results.some((r) => r.status === 'failed' || r.status === 'refused')) return 1;
  if (results.some((r) => r.massDeletion !== undefined)) return 4;
  if (results.some((r) => r.status === 'partial')) return 3;
  return 0;
}
