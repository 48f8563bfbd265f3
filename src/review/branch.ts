// Git for a cluster's PR branch `kubetrail/<id>`: read the remote branches, fetch one head, push under a lease.
// Credentials go through onAuth only, as for the base branch (store/remote.ts).
import fs from 'node:fs';
import git from 'isomorphic-git';
// fetch-based transport: the node one (simple-get on Node's global agent) gives up when a loaded server is silent
// for 5 s while its hooks run, which 4 concurrent pushes to one Gitea did here.
import http from 'isomorphic-git/http/web';
import { baseOfCommit, clusterOfCommit } from '../model/trailers.ts';
import { readRef, writeRef } from '../store/refs.ts';
import type { RemoteTarget } from '../store/remote.ts';
import type { Repo } from '../store/repo.ts';

export const prBranch = (clusterId: string) => `kubetrail/${clusterId}`;
/** The last commit this repository pushed to the cluster's PR branch: the lease a daemon keeps between runs. */
const leaseRef = (clusterId: string) => `refs/kubetrail/pr-pushed/${clusterId}`;
const localRef = (clusterId: string) => `refs/kubetrail/pr/${clusterId}`;

const auth = (t: RemoteTarget) => () => ({ username: t.username, password: t.token ?? '' });

export class BranchError extends Error {}

const describe = (e: unknown, t: RemoteTarget) => {
  const m = (e as Error).message ?? String(e);
  return t.token ? m.replaceAll(t.token, '***') : m;
};

/** Heads of the remote's `kubetrail/*` branches, by branch name. One request for every cluster of a run. */
export async function remotePrBranches(target: RemoteTarget): Promise<Map<string, string>> {
  try {
    const refs = await git.listServerRefs({ http, url: target.url, prefix: 'refs/heads/kubetrail/', onAuth: auth(target) });
    return new Map(refs.map((r) => [r.ref.slice('refs/heads/'.length), r.oid]));
  } catch (e) {
    throw new BranchError(`cannot list the branches of ${target.url}: ${describe(e, target)}`);
  }
}

/** Makes the branch head (and its tree) readable locally: a shallow fetch of that one branch. */
export async function fetchBranchHead(repo: Repo, target: RemoteTarget, branch: string, head: string): Promise<void> {
  if (await repo.readCommit(head).then(() => true, () => false)) return;
  try {
    await git.fetch({
      fs, http, gitdir: repo.gitdir, url: target.url, ref: branch, remoteRef: branch, singleBranch: true, depth: 1, tags: false,
      onAuth: auth(target), cache: repo.cache,
    });
  } catch (e) {
    throw new BranchError(`cannot fetch ${branch} from ${target.url}: ${describe(e, target)}`);
  }
}

export async function readLease(repo: Repo, clusterId: string): Promise<string | undefined> {
  return readRef(repo.gitdir, leaseRef(clusterId));
}

/**
 * Pushes `commit` to the cluster's PR branch if the remote branch is still at `expect` (undefined: absent).
 * The check and the push are two requests; the push itself only replaces the head it was told of.
 */
export async function pushBranch(repo: Repo, target: RemoteTarget, clusterId: string, commit: string, expect: string | undefined): Promise<void> {
  const branch = prBranch(clusterId);
  const now = (await remotePrBranches(target)).get(branch);
  if (now !== expect) throw new BranchError(`${branch} moved on ${target.url} (now ${now?.slice(0, 12) ?? 'absent'}, expected ${expect?.slice(0, 12) ?? 'absent'}); not overwriting`);
  await writeRef(repo.gitdir, localRef(clusterId), commit);
  try {
    const res = await git.push({
      fs, http, gitdir: repo.gitdir, url: target.url, ref: localRef(clusterId), remoteRef: `refs/heads/${branch}`,
      force: expect !== undefined, onAuth: auth(target),
    });
    if (!res.ok) throw new Error(res.error ?? 'push rejected');
  } catch (e) {
    const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
    if (status === 401 || status === 403) throw new BranchError(`push to ${target.url} refused (${status}): check the token`);
    throw new BranchError(`push of ${branch} to ${target.url} failed: ${describe(e, target)}`);
  }
  await writeRef(repo.gitdir, leaseRef(clusterId), commit);
}

/** What a PR-branch commit says about itself: its cluster and the base commit its branch starts from. */
export function branchCommitInfo(message: string): { clusterId?: string; base?: string } {
  return { clusterId: clusterOfCommit(message), base: baseOfCommit(message) };
}
