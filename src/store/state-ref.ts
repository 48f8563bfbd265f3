// A cluster's render state on the remote: `refs/kubetrail/state/<clusterId>`, one parentless commit whose tree
// holds the state's head file and its parts (`parts/00`…), replaced by a force-push of that ref only (its history
// never grows). Fetched in the same request as the branch when the local repository has no render cache of its own
// (sync/run.ts). A new state is sent as what differs from the one last fetched or pushed from here: the parts of the
// objects that changed. What the files say is checked elsewhere (sync/render-state.ts); here they are only moved.
// Credentials go through onAuth only, as in remote.ts.
import { encodeTree, type TreeEntry } from './codec.ts';
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

const PARTS = 'parts';

/** A state as stored: the head (header and digest) and the parts, each a file of its own (sync/render-state.ts). */
export interface StateFiles { head: string; parts: string[] }
const partName = (i: number) => i.toString(16).padStart(2, '0');

/** The ids of a state commit's tree, head file and parts (name order), or undefined when the commit is not one. */
async function stateObjects(repo: Repo, commit: string): Promise<{ tree: string; head: string; parts: string[] } | undefined> {
  const tree = (await repo.readCommit(commit)).tree;
  const entries = await repo.readTree(tree);
  const head = entries.find((e) => e.path === STATE_FILE && e.type === 'blob')?.oid;
  const partsTree = entries.find((e) => e.path === PARTS && e.type === 'tree')?.oid;
  if (!head) return undefined;
  const parts = partsTree ? (await repo.readTree(partsTree)).filter((e) => e.type === 'blob').sort((a, b) => a.path < b.path ? -1 : 1).map((e) => e.oid) : [];
  return { tree, head, parts };
}

/**
 * The cluster's state as the remote had it when the branch was fetched (syncFromRemote's `alsoFetch`), kept here
 * under the same ref; undefined when it has none. A state that cannot be read is no state: the run reads everything
 * in full, as a first run.
 */
export async function localState(repo: Repo, clusterId: string): Promise<StateFiles | undefined> {
  try {
    const head = await readRef(repo.gitdir, stateRef(clusterId));
    const ids = head && await stateObjects(repo, head);
    if (!ids) return undefined;
    const text = async (oid: string) => Buffer.from(await repo.readBlob(oid)).toString('utf8');
    return { head: await text(ids.head), parts: await Promise.all(ids.parts.map(text)) };
  } catch {
    return undefined;
  }
}

/**
 * A state commit made here, to be moved to the remote's state ref (with the branch's push, or on its own). `last`:
 * the state last fetched or pushed from here; while the remote's ref is still at it, only what differs is sent.
 */
export interface StateUpdate { clusterId: string; ref: string; commit: string; tree: string; last?: { commit: string; tree: string } }

/**
 * The commit replacing the cluster's state with `state`, or undefined when the state last fetched or pushed from
 * here is the same (nothing to push). Files the last state has already are not written again.
 */
export async function stateCommit(repo: Repo, clusterId: string, state: StateFiles, time: Date): Promise<StateUpdate | undefined> {
  const ref = stateRef(clusterId);
  const last = await readRef(repo.gitdir, ref);
  const before = last ? await stateObjects(repo, last).catch(() => undefined) : undefined;
  const had = new Set(before ? [before.head, ...before.parts] : []);
  const blob = (text: string) => repo.writer.write('blob', Buffer.from(text), (oid) => had.has(oid));
  const parts: TreeEntry[] = [];
  for (const [i, text] of state.parts.entries()) parts.push({ mode: '100644', name: partName(i), oid: await blob(text) });
  const tree = await repo.writer.write('tree', encodeTree([
    { mode: '100644', name: STATE_FILE, oid: await blob(state.head) },
    { mode: '40000', name: PARTS, oid: await repo.writer.write('tree', encodeTree(parts)) },
  ]));
  if (tree === before?.tree) return undefined;
  const who = { name: 'kubetrail', email: 'kubetrail@localhost', timestamp: Math.floor(time.getTime() / 1000), timezoneOffset: 0 };
  const commit = await repo.writeCommit({ tree, parents: [], author: who, message: `kubetrail render state of ${clusterId}\n` });
  repo.writer.sync();
  await writeRef(repo.gitdir, outgoingRef(clusterId), commit);
  return { clusterId, ref, commit, tree, last: last && before ? { commit: last, tree: before.tree } : undefined };
}

/**
 * The state commit as a ref update from whatever the remote has (`old`): it replaces it, whatever it was. When that is
 * the state last fetched or pushed from here, the remote has its files and only the new ones are sent.
 */
export const stateRefUpdate = (u: StateUpdate, old: string | undefined): RefUpdate => ({
  ref: u.ref, old, commits: [{ oid: u.commit, tree: u.tree, parentTree: old !== undefined && old === u.last?.commit ? u.last.tree : undefined }],
});

/** The remote has the state commit now: the state ref here follows. */
export const stateLanded = (repo: Repo, u: StateUpdate) => writeRef(repo.gitdir, u.ref, u.commit);

/** Pushes a state commit on its own (force, that ref only); throws a one-line error when the push failed. */
export async function pushState(repo: Repo, target: RemoteTarget, u: StateUpdate): Promise<void> {
  try {
    const { refs, capabilities } = await advertisedRefs(to(target));
    await sendPack(to(target), repo.objects, [stateRefUpdate(u, refs.get(u.ref))], capabilities);
  } catch (e) {
    throw new Error(`push of ${u.ref} to ${target.url} failed: ${describe(e, target)}`);
  }
  await stateLanded(repo, u);
}
