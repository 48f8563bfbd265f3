// Pure: what one pull-request-mode run does for one cluster, from the trees and refs it found (issue 17, steps 1-5).
// Subtree ids stand for content: equal ids are equal snapshots, so "no change" needs no file comparison.

export interface PlanInput {
  /** The base branch's head and this cluster's subtree id in it (undefined: the cluster has no files there). */
  base: { head: string; clusterTree?: string };
  /** The remote `kubetrail/<id>` branch: its head, the cluster's subtree there, and the base commit it starts from. */
  branch?: { head: string; clusterTree?: string; basedOn: string };
  /** The last commit kubetrail pushed to the branch: any other head is someone else's work. */
  lease?: string;
  openPr?: { number: number };
  /** Cluster subtree ids of this cluster's PRs closed without merging: states a reviewer rejected. */
  rejectedTrees: string[];
  /** The new snapshot's cluster subtree id (undefined: no objects). */
  snapshotTree?: string;
  /** Guarded mode only: whether this run's changes against base touch the guarded set. Undefined: review everything. */
  guarded?: boolean;
}

export type PrAction = 'opened' | 'updated' | 'unchanged' | 'closed' | 'refused-foreign-push' | 'rejected' | 'direct';

export type PrComment = 'changes' | 'reverted' | 'superseded' | 'foreign-push';

export interface PrPlan {
  action: PrAction;
  /** Make one commit holding the snapshot's subtree, on the branch head or on the base head (a fresh or re-made branch). */
  commitOn?: 'branch' | 'base';
  /** Push it to the PR branch only if the remote branch is still at `expect` (undefined: it must not exist yet). */
  push?: { expect?: string };
  /** Guarded mode, routine change: commit to the base branch as without pull requests. */
  commitToBase?: boolean;
  openPr?: boolean;
  /** Regenerate title and body. */
  updatePr?: boolean;
  comment?: PrComment;
  closePr?: boolean;
  deleteBranch?: boolean;
  /** The run fails with this one line (exit non-zero). */
  failure?: string;
}

export function planPullRequest(i: PlanInput, clusterId: string): PrPlan {
  const { base, branch, openPr } = i;
  const own = branch !== undefined && branch.head === i.lease;
  const foreign = branch !== undefined && !own;
  const equalsBase = i.snapshotTree === base.clusterTree;
  const refuse = (): PrPlan => ({
    action: 'refused-foreign-push',
    comment: openPr ? 'foreign-push' : undefined,
    failure: `${clusterId}: kubetrail/${clusterId} has commits kubetrail did not push (head ${branch!.head.slice(0, 12)}); left as it is`,
  });

  // Step 4: the drift was reverted (or merged): nothing to review.
  if (equalsBase) {
    if (openPr) return foreign ? refuse() : { action: 'closed', comment: 'reverted', closePr: true, deleteBranch: own };
    return { action: 'unchanged', deleteBranch: own || undefined };
  }

  // Guarded mode, routine change: straight to base; a PR for guarded changes no longer in the snapshot is obsolete.
  if (i.guarded === false) {
    if (openPr && !foreign) return { action: 'direct', commitToBase: true, comment: 'superseded', closePr: true, deleteBranch: own };
    return { action: 'direct', commitToBase: true, deleteBranch: !openPr && own ? true : undefined };
  }

  // Step 3: never overwrite someone else's commits.
  if (foreign) return refuse();

  const baseMoved = branch !== undefined && branch.basedOn !== base.head;
  const contentChanged = branch?.clusterTree !== i.snapshotTree;

  if (!openPr) {
    // Step 5: a reviewer closed this exact state without merging.
    if (i.snapshotTree !== undefined && i.rejectedTrees.includes(i.snapshotTree)) return { action: 'rejected' };
    // An earlier run pushed the branch and failed before the PR was opened: open it, no new commit.
    if (branch && !baseMoved && !contentChanged) return { action: 'opened', openPr: true };
    // Step 1 (and after a merge or a rejection): a fresh branch at the base head.
    return { action: 'opened', commitOn: 'base', push: { expect: branch?.head }, openPr: true };
  }

  // Step 2: the open PR's branch is already at this snapshot.
  if (branch && !baseMoved && !contentChanged) return { action: 'unchanged' };
  return {
    action: 'updated',
    // Step 3: base moved → re-made on the new base (only this cluster's subtree differs); else one more observation.
    commitOn: branch && !baseMoved ? 'branch' : 'base',
    push: { expect: branch?.head },
    updatePr: true,
    comment: contentChanged ? 'changes' : undefined,
  };
}
