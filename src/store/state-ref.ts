// A cluster's render state on the remote: `refs/kubetrail/state/<clusterId>`, one parentless commit whose tree
// holds one file, replaced by a force-push of that ref only (its history never grows). Fetched in the same request
// as the branch when the local repository has no render cache of its own (sync/run.ts). What the file says is
// checked elsewhere (sync/render-state.ts); here it is only moved. Credentials go through onAuth only, as in remote.ts.
import { encodeTree } from './codec.ts';
import { readRef, writeRef } from './refs.ts';
import type { RemoteTarget } from './remote.ts';
import type { Repo } from './repo.ts';
import { advertisedRefs, sendPack, type RefUpdate } from './send-pack.ts';

export const stateRef = (clusterId: string) => `refs/kubetrail/state/${clusterId}`;
export const STATE_FILE = 'render-state';
/** Where a state waits while it is pushed: the state ref moves only once the remote has it. */
const outgoingRef = (clusterId: string) => `refs/kubetrail/state-outgoing/${clusterId}`;

const to = (t: RemoteTarget) => ({ url: t.url, username: t.username, token: t.token });
const describe = (e: unknown, t: RemoteTarget) => {
  const m = (e as Error).message ?? String(e);
  return t.token ? m.replaceAll(t.token, '***') : m;
};

/** The blob id of the state file in a state commit, or undefined when the commit is not one. */
async function stateBlob(repo: Repo, commit: string): Promise<string | undefined> {
  const tree = (await repo.readCommit(commit)).tree;
  return (await repo.readTree(tree)).find((e) => e.path === STATE_FILE && e.type === 'blob')?.oid;
}

/**
 * The cluster's state text as the remote had it when the branch was fetched (syncFromRemote's `alsoFetch`), kept
 * here under the same ref; undefined when it has none. A state that cannot be read is no state: the run reads
 * everything in full, as a first run.
 */
export async function localState(repo: Repo, clusterId: string): Promise<string | undefined> {
  try {
    const head = await readRef(repo.gitdir, stateRef(clusterId));
    const blob = head && await stateBlob(repo, head);
    return blob ? Buffer.from(await repo.readBlob(blob)).toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** A state commit made here, to be moved to the remote's state ref (with the branch's push, or on its own). */
export interface StateUpdate { clusterId: string; ref: string; commit: string; tree: string }

/**
 * The commit replacing the cluster's state with `text`, or undefined when the state last fetched or pushed from here
 * has the same text (nothing to push).
 */
export async function stateCommit(repo: Repo, clusterId: string, text: string, time: Date): Promise<StateUpdate | undefined> {
  const ref = stateRef(clusterId);
  const blob = await repo.writer.write('blob', Buffer.from(text));
  const last = await readRef(repo.gitdir, ref);
  if (last && await stateBlob(repo, last).catch(() => undefined) === blob) return undefined;
  const tree = await repo.writer.write('tree', encodeTree([{ mode: '100644', name: STATE_FILE, oid: blob }]));
  const who = { name: 'kubetrail', email: 'kubetrail@localhost', timestamp: Math.floor(time.getTime() / 1000), timezoneOffset: 0 };
  const commit = await repo.writeCommit({ tree, parents: [], author: who, message: `kubetrail render state of ${clusterId}\n` });
  repo.writer.sync();
  await writeRef(repo.gitdir, outgoingRef(clusterId), commit);
  return { clusterId, ref, commit, tree };
}

/** The state commit as a ref update from whatever the remote has (`old`): it replaces it, whatever it was. */
export const stateRefUpdate = (u: StateUpdate, old?: string): RefUpdate => ({ ref: u.ref, old, commits: [{ oid: u.commit, tree: u.tree }] });

/** The remote has the state commit now: the state ref here follows. */
export const stateLanded = (repo: Repo, u: StateUpdate) => writeRef(repo.gitdir, u.ref, u.commit);

/** Pushes a state commit on its own (force, that ref only); throws a one-line error when the push failed. */
export async function pushState(repo: Repo, target: RemoteTarget, u: StateUpdate): Promise<void> {
  try {
    // Replaced whatever it was: the update names the value the server has now as the old one.
    const { refs, capabilities } = await advertisedRefs(to(target));
    await sendPack(to(target), repo.objects, [stateRefUpdate(u, refs.get(u.ref))], capabilities);
  } catch (e) {
    throw new Error(`push of ${u.ref} to ${target.url} failed: ${describe(e, target)}`);
  }
  await stateLanded(repo, u);
}
