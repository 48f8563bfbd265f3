// A cluster's render state on the remote: `refs/kubetrail/state/<clusterId>`, one parentless commit whose tree
// holds one file, replaced by a force-push of that ref only (its history never grows). Fetched in the same request
// as the branch when the local repository has no render cache of its own (sync/run.ts). What the file says is
// checked elsewhere (sync/render-state.ts); here it is only moved. Credentials go through onAuth only, as in remote.ts.
import { encodeTree } from './codec.ts';
import { readRef, writeRef } from './refs.ts';
import type { RemoteTarget } from './remote.ts';
import type { Repo } from './repo.ts';
import { advertisedHead, sendPack } from './send-pack.ts';

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

/**
 * Replaces the remote's state of the cluster with `text` (force, that ref only), unless the state last fetched or
 * pushed from here has the same text. Returns whether it pushed; throws a one-line error when the push failed.
 */
export async function pushState(repo: Repo, target: RemoteTarget, clusterId: string, text: string, time: Date): Promise<boolean> {
  const ref = stateRef(clusterId);
  const blob = await repo.writer.write('blob', Buffer.from(text));
  const last = await readRef(repo.gitdir, ref);
  if (last && await stateBlob(repo, last).catch(() => undefined) === blob) return false;
  const tree = await repo.writer.write('tree', encodeTree([{ mode: '100644', name: STATE_FILE, oid: blob }]));
  const who = { name: 'kubetrail', email: 'kubetrail@localhost', timestamp: Math.floor(time.getTime() / 1000), timezoneOffset: 0 };
  const commit = await repo.writeCommit({ tree, parents: [], author: who, message: `kubetrail render state of ${clusterId}\n` });
  repo.writer.sync();
  await writeRef(repo.gitdir, outgoingRef(clusterId), commit);
  try {
    // Replaced whatever it was: the update names the value the server has now as the old one.
    const { head: remoteNow, capabilities } = await advertisedHead(to(target), ref);
    await sendPack(to(target), repo.objects, ref, remoteNow, [{ oid: commit, tree }], capabilities);
  } catch (e) {
    throw new Error(`push of ${ref} to ${target.url} failed: ${describe(e, target)}`);
  }
  await writeRef(repo.gitdir, ref, commit);
  return true;
}
