// The pull-request planner: issue 17's steps 1-5 and guarded mode, one case per situation a run can find.
import { describe, expect, it } from 'vitest';
import { planPullRequest, type PlanInput } from '../../src/review/plan.ts';

const B0 = 'b0'.repeat(20), B1 = 'b1'.repeat(20); // base heads
const H1 = 'c1'.repeat(20), H2 = 'c2'.repeat(20), HX = 'ee'.repeat(20); // branch heads (HX: someone else's)
const T_BASE = 'a0'.repeat(20), T1 = 'a1'.repeat(20), T2 = 'a2'.repeat(20); // cluster subtree ids

const input = (o: Partial<PlanInput>): PlanInput => ({ base: { head: B0, clusterTree: T_BASE }, rejectedTrees: [], snapshotTree: T1, ...o });
const plan = (o: Partial<PlanInput>) => planPullRequest(input(o), 'prod');
const ownBranch = (tree = T1, basedOn = B0, head = H1) => ({ branch: { head, clusterTree: tree, basedOn }, lease: head });
const PR = { openPr: { number: 7 } };

describe('planPullRequest: step 1, no open PR', () => {
  it('no branch: a commit on the base head, pushed as a new branch, and a PR', () => {
    expect(plan({})).toEqual({ action: 'opened', commitOn: 'base', push: { expect: undefined }, openPr: true });
  });
  it('the cluster has no files on base yet (first sync in PR mode)', () => {
    expect(plan({ base: { head: B0 } })).toMatchObject({ action: 'opened', commitOn: 'base', openPr: true });
  });
  it('a branch kubetrail pushed, at this snapshot, but no PR (the API failed last run): opens the PR only', () => {
    expect(plan({ ...ownBranch(T1) })).toEqual({ action: 'opened', openPr: true });
  });
  it('a branch kubetrail pushed, with older content: re-made on base under the lease, then a PR', () => {
    expect(plan({ ...ownBranch(T2) })).toEqual({ action: 'opened', commitOn: 'base', push: { expect: H1 }, openPr: true });
  });
  it('the branch of a merged PR (base moved since): a fresh branch on the new base over the old one', () => {
    expect(plan({ base: { head: B1, clusterTree: T2 }, ...ownBranch(T2, B0) , snapshotTree: T1 }))
      .toEqual({ action: 'opened', commitOn: 'base', push: { expect: H1 }, openPr: true });
  });
});

describe('planPullRequest: step 2, an open PR', () => {
  it('snapshot equals the branch head: no commit, no push, no API write', () => {
    expect(plan({ ...PR, ...ownBranch(T1) })).toEqual({ action: 'unchanged' });
  });
  it('snapshot differs: one commit on the branch, fast-forward push, body regenerated, one comment', () => {
    expect(plan({ ...PR, ...ownBranch(T2) }))
      .toEqual({ action: 'updated', commitOn: 'branch', push: { expect: H1 }, updatePr: true, comment: 'changes' });
  });
  it('the branch vanished under an open PR: re-created from base, PR updated', () => {
    expect(plan({ ...PR })).toMatchObject({ action: 'updated', commitOn: 'base', push: { expect: undefined }, updatePr: true, comment: 'changes' });
  });
});

describe('planPullRequest: step 3, base moved', () => {
  it('re-made on the new base under the lease; a comment only when the content changed', () => {
    expect(plan({ ...PR, base: { head: B1, clusterTree: T_BASE }, ...ownBranch(T2, B0) }))
      .toEqual({ action: 'updated', commitOn: 'base', push: { expect: H1 }, updatePr: true, comment: 'changes' });
    expect(plan({ ...PR, base: { head: B1, clusterTree: T_BASE }, ...ownBranch(T1, B0) }))
      .toEqual({ action: 'updated', commitOn: 'base', push: { expect: H1 }, updatePr: true, comment: undefined });
  });
  it('someone else pushed to the branch: no commit, no push, a comment on the PR, and a failure line', () => {
    const p = plan({ ...PR, branch: { head: HX, clusterTree: T2, basedOn: B0 }, lease: H1 });
    expect(p).toEqual({ action: 'refused-foreign-push', comment: 'foreign-push', failure: expect.stringContaining('kubetrail/prod has commits kubetrail did not push') });
    expect(p.commitOn ?? p.push ?? p.updatePr ?? p.closePr ?? p.deleteBranch).toBeUndefined();
  });
  it('a branch with no lease at all (not kubetrail\'s) is foreign too, with or without a PR', () => {
    expect(plan({ branch: { head: HX, clusterTree: T2, basedOn: B0 } })).toMatchObject({ action: 'refused-foreign-push', comment: undefined });
    expect(plan({ ...PR, branch: { head: HX, clusterTree: T1, basedOn: B0 } })).toMatchObject({ action: 'refused-foreign-push' });
  });
  it('a foreign push is refused even when base moved or the snapshot went back to base', () => {
    expect(plan({ ...PR, base: { head: B1, clusterTree: T_BASE }, branch: { head: HX, basedOn: B0 }, lease: H1 }).action).toBe('refused-foreign-push');
    expect(plan({ ...PR, snapshotTree: T_BASE, branch: { head: HX, basedOn: B0 }, lease: H1 }).action).toBe('refused-foreign-push');
  });
});

describe('planPullRequest: step 4, snapshot equals base', () => {
  it('an open PR is closed with a comment and its branch deleted', () => {
    expect(plan({ ...PR, ...ownBranch(T1), snapshotTree: T_BASE })).toEqual({ action: 'closed', comment: 'reverted', closePr: true, deleteBranch: true });
  });
  it('no PR, a leftover kubetrail branch (merged PR): the branch is deleted, nothing else', () => {
    expect(plan({ ...ownBranch(T1), snapshotTree: T_BASE })).toEqual({ action: 'unchanged', deleteBranch: true });
  });
  it('no PR, no branch: nothing at all', () => {
    expect(plan({ snapshotTree: T_BASE })).toEqual({ action: 'unchanged', deleteBranch: undefined });
  });
  it('a cluster with no objects on base and none now is equal too', () => {
    expect(plan({ base: { head: B0 }, snapshotTree: undefined })).toEqual({ action: 'unchanged', deleteBranch: undefined });
  });
});

describe('planPullRequest: step 5, rejected states', () => {
  it('the exact state of a PR closed unmerged is not proposed again', () => {
    expect(plan({ rejectedTrees: [T2, T1] })).toEqual({ action: 'rejected' });
    expect(plan({ rejectedTrees: [T1], ...ownBranch(T1) })).toEqual({ action: 'rejected' });
  });
  it('different content opens a new PR', () => {
    expect(plan({ rejectedTrees: [T2] })).toMatchObject({ action: 'opened', openPr: true });
  });
  it('an open PR is updated even if its new state was rejected once (a reviewer is already looking)', () => {
    expect(plan({ ...PR, ...ownBranch(T2), rejectedTrees: [T1] })).toMatchObject({ action: 'updated' });
  });
});

describe('planPullRequest: guarded mode', () => {
  it('a routine change goes straight to base, no PR', () => {
    expect(plan({ guarded: false })).toEqual({ action: 'direct', commitToBase: true, deleteBranch: undefined });
  });
  it('a routine change with an open guarded PR: to base, and the obsolete PR closed with a comment', () => {
    expect(plan({ guarded: false, ...PR, ...ownBranch(T2) }))
      .toEqual({ action: 'direct', commitToBase: true, comment: 'superseded', closePr: true, deleteBranch: true });
  });
  it('a routine change leaves someone else\'s branch and PR alone', () => {
    expect(plan({ guarded: false, ...PR, branch: { head: HX, basedOn: B0 }, lease: H1 })).toEqual({ action: 'direct', commitToBase: true, deleteBranch: undefined });
  });
  it('a guarded change goes to the PR like in full review mode', () => {
    expect(plan({ guarded: true })).toEqual(plan({}));
    expect(plan({ guarded: true, ...PR, ...ownBranch(T2) })).toEqual(plan({ ...PR, ...ownBranch(T2) }));
  });
  it('nothing changed: nothing happens in either case', () => {
    expect(plan({ guarded: false, snapshotTree: T_BASE })).toEqual({ action: 'unchanged', deleteBranch: undefined });
  });
});
