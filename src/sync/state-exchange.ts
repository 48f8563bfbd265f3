// The render cache to and from the remote around one run (see render-state.ts for what is checked): taken from
// the remote state only when this repository has no cache of its own and the state was made for exactly the
// cluster subtree the run starts from (fetched with the branch); made for the subtree the run pushes and sent in the
// branch's push request (or after it, on its own), so it is on the remote when the branch is.
import type { Config } from '../config/types.ts';
import { clusterPrefix } from '../model/object-path.ts';
import type { Repo } from '../store/repo.ts';
import { localState, pushState, stateCommit, stateLanded, stateRef, type StateFiles, type StateUpdate } from '../store/state-ref.ts';
import type { RemoteTarget } from '../store/remote.ts';
import { RenderCache } from './render-cache.ts';
import { decodeState, encodeState } from './render-state.ts';
import type { SyncResult } from './result.ts';

/** The digest key of states: the deployment's HMAC key when it has one. */
export const stateKey = (config: Config) => config.secrets.hmacKey ?? '';

/** Reads the remote state for one cluster; what to do with it is `adoptState`'s. */
export type StateSource = () => Promise<StateFiles | undefined>;

/**
 * The state refs a run fetches with the branch: those of the clusters this repository has no render cache for (a
 * CronJob's empty volume: all of them; a daemon's repository: none).
 */
export const statesToFetch = (repo: Repo, clusterIds: string[]) =>
  clusterIds.filter((id) => !RenderCache.exists(repo.gitdir, id)).map(stateRef);

/** The cluster's state as fetched with the branch. */
export function remoteStateSource(repo: Repo, clusterId: string): StateSource {
  return () => localState(repo, clusterId);
}

/**
 * Seeds an empty cache from the remote state when it was made for this cluster, these settings and exactly
 * `subtree` (the cluster's subtree in the commit the run starts from). Returns why it was not used, if it was not.
 */
export async function adoptState(
  cache: RenderCache, source: StateSource | undefined, o: { clusterId: string; subtree: string | undefined; key: string },
): Promise<string | undefined> {
  if (!source || cache.size > 0) return 'not needed';
  if (!o.subtree) return 'the cluster is not on the branch';
  const state = await source();
  if (state === undefined) return 'no state on the remote';
  const decoded = decodeState(state, { cluster: o.clusterId, fingerprint: cache.fingerprint, subtree: o.subtree }, o.key);
  if ('ignored' in decoded) return decoded.ignored;
  cache.seed(decoded.entries, decoded.readAt);
  return undefined;
}

/** The state commits a run made, and one line for each cluster whose state could not be made. */
export interface PreparedStates { updates: StateUpdate[]; warnings: string[] }

const notSaved = (clusterId: string, e: unknown) =>
  `${clusterId}: render state not saved on the remote (the next run from an empty directory reads in full): ${(e as Error).message}`;

/**
 * Each cluster's saved cache, restricted to the blobs in its subtree at the local branch head, as a state commit
 * (none when the state did not change). The head is the one about to be pushed (a replay on another writer's head
 * keeps each of our clusters' subtrees) or, in pull-request mode, the base, which the next run starts from. A cluster
 * whose sync failed or was refused saved no cache this run and is left alone.
 */
export async function prepareStates(repo: Repo, config: Config, results: SyncResult[]): Promise<PreparedStates> {
  const prepared: PreparedStates = { updates: [], warnings: [] };
  const head = await repo.head();
  if (!head) return prepared;
  const rootTree = (await repo.readCommit(head)).tree;
  for (const r of results) {
    if (r.status === 'failed' || r.status === 'refused') continue;
    try {
      const saved = RenderCache.readSaved(repo.gitdir, r.clusterId);
      const subtree = await repo.entryAt(rootTree, clusterPrefix(r.clusterId));
      if (!saved || !subtree) continue;
      const blobs = new Set((await repo.listFiles(subtree)).values());
      const entries = saved.entries.filter(([, oid]) => blobs.has(oid));
      const state = encodeState({ cluster: r.clusterId, fingerprint: saved.fingerprint, subtree, readAt: saved.readAt }, entries, stateKey(config));
      const update = await stateCommit(repo, r.clusterId, state, new Date());
      if (update) prepared.updates.push(update);
    } catch (e) {
      prepared.warnings.push(notSaved(r.clusterId, e));
    }
  }
  return prepared;
}

/**
 * After the branch is on the remote: the states that moved with its push (`landed`) are recorded here, the others
 * pushed on their own. Returns one line per cluster whose state could not be saved: a cache, never the run's failure.
 */
export async function publishStates(repo: Repo, target: RemoteTarget, prepared: PreparedStates, landed = new Set<string>()): Promise<string[]> {
  const warnings = [...prepared.warnings];
  for (const u of prepared.updates) {
    try {
      await (landed.has(u.ref) ? stateLanded(repo, u) : pushState(repo, target, u));
    } catch (e) {
      warnings.push(notSaved(u.clusterId, e));
    }
  }
  return warnings;
}
