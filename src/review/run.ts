// Pull-request mode after a run's syncs: each cluster's snapshot goes to its PR (execute.ts); the local base branch
// is then reset to the remote base plus only the commits that go straight to base (guarded mode, routine changes).
import { createForgeClient } from '../forge/client.ts';
import { locateForge } from '../forge/settings.ts';
import type { PullRequestConfig } from '../config/pull-request.ts';
import type { Config } from '../config/types.ts';
import { clusterPrefix } from '../model/object-path.ts';
import { clusterOfCommit } from '../model/trailers.ts';
import type { RemoteTarget } from '../store/remote.ts';
import type { Repo } from '../store/repo.ts';
import type { SyncResult } from '../sync/result.ts';
import { remotePrBranches } from './branch.ts';
import { reviewCluster, type ReviewOutcome } from './execute.ts';
import { compileGuarded } from './guarded.ts';

export interface ReviewRunResult {
  pullRequests: ReviewOutcome[];
  /** True when the local base branch now holds commits to push (guarded mode, routine changes). */
  pushBase: boolean;
  /** A failure that concerns every cluster (forge not reachable, branches not listable). */
  error?: string;
}

/** What review needs of a cluster's sync (a watch's window commit says the same). */
export type ReviewedResult = Pick<SyncResult, 'clusterId' | 'status' | 'massDeletion'> & { failedTypes: { type: string }[] };

export async function reviewRun(
  config: Config, pr: PullRequestConfig, repo: Repo, target: RemoteTarget, baseHead: string | undefined, results: ReviewedResult[],
  assertLocked: () => void = () => {},
): Promise<ReviewRunResult> {
  const snapshotHead = await repo.head();
  if (!baseHead || !snapshotHead) {
    return { pullRequests: [], pushBase: false, error: `pull requests need the base branch ${target.branch} on ${target.url}; push it first` };
  }
  const location = locateForge(target.url, { forge: pr.forge, apiUrl: pr.apiUrl });
  const client = createForgeClient({ ...location, token: target.token, tokenName: config.remote?.tokenEnv });
  let remoteBranches: Map<string, string>;
  try {
    remoteBranches = await remotePrBranches(target);
  } catch (e) {
    await resetBase(repo, snapshotHead, baseHead, []);
    return { pullRequests: [], pushBase: false, error: (e as Error).message };
  }
  const options = {
    labels: pr.labels, reviewers: pr.reviewers, teamReviewers: pr.teamReviewers, draft: pr.draft,
    guarded: pr.mode === 'guarded' ? compileGuarded(pr.guardedTypes) : undefined,
  };
  const now = new Date();
  const outcomes: ReviewOutcome[] = [];
  const direct: ReviewedResult[] = [];
  for (const r of results) {
    if (r.status === 'failed' || r.status === 'refused') continue; // nothing new to propose; the sync says why
    assertLocked(); // a run that lost the repository lock writes nothing more
    const outcome = await reviewCluster({
      repo, target, client, location, options, baseHead, snapshotHead, remoteBranches, author: config.author, now,
    }, r.clusterId, r.failedTypes.map((f) => f.type), r.massDeletion);
    outcomes.push(outcome);
    if (outcome.action === 'direct') direct.push(r);
  }
  assertLocked();
  const tip = await resetBase(repo, snapshotHead, baseHead, direct.map((r) => r.clusterId));
  return { pullRequests: outcomes, pushBase: tip !== baseHead };
}

/**
 * Moves the local base branch to `baseHead` plus one commit per cluster that goes straight to base (its sync's
 * commit, re-made there), so nothing meant for review is ever pushed to base. Returns the new tip.
 */
async function resetBase(repo: Repo, snapshotHead: string, baseHead: string, directClusters: string[]): Promise<string> {
  let tip = baseHead;
  const syncCommits = new Map<string, string>(); // cluster → its sync commit in this run (first parents down to base)
  for (let oid: string | undefined = snapshotHead; oid && oid !== baseHead;) {
    const c = await repo.readCommit(oid);
    const cluster = clusterOfCommit(c.message);
    if (cluster && !syncCommits.has(cluster)) syncCommits.set(cluster, oid);
    oid = c.parents[0];
  }
  for (const clusterId of directClusters) {
    const commit = syncCommits.get(clusterId);
    if (!commit) continue;
    const c = await repo.readCommit(commit);
    const subtree = await repo.entryAt(c.tree, clusterPrefix(clusterId));
    const tree = await repo.replaceSubtree((await repo.readCommit(tip)).tree, clusterPrefix(clusterId), subtree);
    tip = await repo.writeCommit({ tree, parents: [tip], author: { ...c.author, timezoneOffset: 0 }, message: c.message });
  }
  if (tip !== snapshotHead) await repo.moveBranch(snapshotHead, tip); // the working tree follows
  return tip;
}
