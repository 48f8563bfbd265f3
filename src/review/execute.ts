// Pull-request mode for one cluster after its sync: gather what the plan needs (trees, the PR branch, the open PR,
// rejected states), plan (plan.ts), then do it: commit + push the branch under its lease, and drive the forge.
import { attributionInMessage, type Attribution } from '../attribution/managed-fields.ts';
import type { ForgeClient, PullRequest } from '../forge/client.ts';
import { compareUrl, type ForgeLocation } from '../forge/settings.ts';
import { compareFiles, type FileChanges } from '../store/files.ts';
import type { RemoteTarget } from '../store/remote.ts';
import type { Repo } from '../store/repo.ts';
import { clusterPrefix } from '../model/object-path.ts';
import { commitMessage, type MassDeletion } from '../sync/result.ts';
import { clusterOfCommit, withBaseTrailer } from '../model/trailers.ts';
import { branchCommitInfo, fetchBranchHead, prBranch, pushBranch, readLease } from './branch.ts';
import type { TypePattern } from '../model/type-name.ts';
import { classifyChanges } from './guarded.ts';
import { planPullRequest, type PrAction, type PrPlan } from './plan.ts';
import {
  changesComment, clusterMarker, foreignPushComment, markedTree, prBody, prTitle, revertedComment, supersededComment,
} from './text.ts';

export interface PullRequestOptions {
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  draft: boolean;
  /** Guarded mode: only changes touching these types go to review. Undefined: every change is reviewed. */
  guarded?: TypePattern[];
}

export interface ReviewContext {
  repo: Repo;
  target: RemoteTarget; // target.branch is the base branch
  client: ForgeClient;
  location: ForgeLocation;
  options: PullRequestOptions;
  baseHead: string;
  /** Where the run's syncs left the local branch: each cluster's snapshot is its subtree here. */
  snapshotHead: string;
  remoteBranches: Map<string, string>;
  author: { name: string; email: string };
  now: Date;
}

export interface ReviewOutcome {
  clusterId: string;
  action: PrAction;
  number?: number;
  url?: string;
  /** The commit pushed to the PR branch, when one was. */
  commit?: string;
  warnings: string[];
  /** Set when the run must fail for this cluster (one line). */
  error?: string;
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

async function subtreeAt(repo: Repo, commit: string, clusterId: string): Promise<string | undefined> {
  return repo.entryAt((await repo.readCommit(commit)).tree, clusterPrefix(clusterId));
}

async function filesOf(repo: Repo, tree: string | undefined) {
  return repo.listFiles(tree);
}

const firstObservedIn = (body: string) => body.match(/first observed: (\S+)/)?.[1];

/**
 * Plans and applies PR mode for one cluster. Never throws for forge or push failures: they become `error`.
 * `massDeletion`: the sync would have refused this state; it goes to review in any mode, flagged, never to base.
 */
export async function reviewCluster(
  ctx: ReviewContext, clusterId: string, failedTypes: string[], massDeletion?: MassDeletion,
): Promise<ReviewOutcome> {
  const { repo, client } = ctx;
  const branch = prBranch(clusterId);
  const marker = clusterMarker(clusterId);
  const out: ReviewOutcome = { clusterId, action: 'unchanged', warnings: [] };
  try {
    const baseTree = await subtreeAt(repo, ctx.baseHead, clusterId);
    const snapshotTree = await subtreeAt(repo, ctx.snapshotHead, clusterId);
    const remoteHead = ctx.remoteBranches.get(branch);
    let branchState: { head: string; clusterTree?: string; basedOn: string } | undefined;
    let lease = await readLease(repo, clusterId);
    if (remoteHead) {
      await fetchBranchHead(repo, ctx.target, branch, remoteHead);
      const head = await repo.readCommit(remoteHead);
      const info = branchCommitInfo(head.message);
      branchState = { head: remoteHead, clusterTree: await subtreeAt(repo, remoteHead, clusterId), basedOn: info.base ?? '' };
      // No local lease (a CronJob's empty volume): a head kubetrail made for this cluster is kubetrail's.
      if (lease === undefined && info.clusterId === clusterId && info.base) lease = remoteHead;
    }
    const openPr = await client.findOpenPullRequest(branch, marker);
    const rejectedTrees = openPr ? [] : (await client.listClosedUnmerged(branch, marker)).map((p) => markedTree(p.body)).filter((t) => t !== undefined);
    const baseFiles = await filesOf(repo, baseTree);
    const snapshotFiles = await filesOf(repo, snapshotTree);
    const sinceBase = compareFiles(baseFiles, snapshotFiles);
    const guarded = ctx.options.guarded ? classifyChanges(sinceBase, ctx.options.guarded, { massDeletion: massDeletion !== undefined }).review : undefined;
    const plan = planPullRequest({
      base: { head: ctx.baseHead, clusterTree: baseTree }, branch: branchState, lease, openPr, rejectedTrees,
      snapshotTree: snapshotTree ?? (baseTree === undefined ? undefined : EMPTY_TREE), guarded,
    }, clusterId);
    out.action = plan.action;
    if (openPr) Object.assign(out, { number: openPr.number, url: openPr.url });
    await apply(ctx, plan, { clusterId, branch, marker, openPr, branchState, snapshotTree, sinceBase, failedTypes, massDeletion, out });
    if (massDeletion && !out.error) out.warnings.push(heldWarning(clusterId, massDeletion, out));
  } catch (e) {
    out.error = `${clusterId}: pull request: ${(e as Error).message}`;
  }
  return out;
}

interface Applying {
  clusterId: string; branch: string; marker: string; openPr?: PullRequest;
  branchState?: { head: string; clusterTree?: string; basedOn: string };
  snapshotTree?: string; sinceBase: FileChanges; failedTypes: string[]; massDeletion?: MassDeletion; out: ReviewOutcome;
}

/** The one line a run prints (and `--json` reports) for a mass deletion held for review instead of refused. */
function heldWarning(clusterId: string, m: MassDeletion, out: ReviewOutcome): string {
  const where = out.action === 'rejected'
    ? 'a reviewer closed the pull request holding this state unmerged'
    : `held for review in pull request${out.number ? ` #${out.number} ${out.url}` : ''}`;
  return `${clusterId}: mass deletion (${m.deleted} of ${m.recorded} recorded objects, more than maxDeletePercent ` +
    `${m.maxDeletePercent}%) not applied to the base branch: ${where}`;
}

/**
 * Who changed what, as this run's sync commit of the cluster recorded it (attribution/): the PR branch's commit
 * carries the same lines. Paths that commit does not list (changes of earlier runs still under review) are `unknown`.
 */
async function syncAttribution(ctx: ReviewContext, clusterId: string): Promise<Map<string, Attribution> | undefined> {
  for (let oid: string | undefined = ctx.snapshotHead, n = 0; oid && oid !== ctx.baseHead && n < 100; n++) {
    const c = await ctx.repo.readCommit(oid);
    if (clusterOfCommit(c.message) === clusterId) return attributionInMessage(c.message);
    oid = c.parents[0];
  }
  return undefined;
}

async function apply(ctx: ReviewContext, plan: PrPlan, a: Applying): Promise<void> {
  const { repo, client, now } = ctx;
  let branchFilesBefore = a.branchState ? await filesOf(repo, a.branchState.clusterTree) : undefined;
  if (plan.commitOn && plan.push) {
    const parent = plan.commitOn === 'branch' ? a.branchState!.head : ctx.baseHead;
    const parentFiles = plan.commitOn === 'branch' ? branchFilesBefore! : await filesOf(repo, await subtreeAt(repo, ctx.baseHead, a.clusterId));
    const snapshotFiles = await filesOf(repo, a.snapshotTree);
    const tree = await repo.replaceSubtree((await repo.readCommit(parent)).tree, clusterPrefix(a.clusterId), a.snapshotTree);
    const commit = await repo.writeCommit({
      tree, parents: [parent],
      author: { ...ctx.author, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 },
      message: withBaseTrailer(commitMessage(a.clusterId, compareFiles(parentFiles, snapshotFiles), a.failedTypes, await syncAttribution(ctx, a.clusterId)), ctx.baseHead),
    });
    await pushBranch(repo, ctx.target, a.clusterId, commit, plan.push.expect);
    a.out.commit = commit;
  }
  const title = prTitle(a.clusterId, a.sinceBase, ctx.baseHead);
  const body = () => prBody({
    clusterId: a.clusterId, tree: a.snapshotTree ?? '', changes: a.sinceBase,
    firstObserved: new Date(firstObservedIn(a.openPr?.body ?? '') ?? now.toISOString()), lastObserved: now,
    compareUrl: compareUrl(ctx.location, ctx.target.branch, a.branch), massDeletion: a.massDeletion,
  });
  if (plan.openPr) {
    const r = await client.createPullRequest({
      head: a.branch, base: ctx.target.branch, title, body: body(), marker: a.marker, labels: ctx.options.labels,
      reviewers: ctx.options.reviewers, teamReviewers: ctx.options.teamReviewers, draft: ctx.options.draft,
    });
    Object.assign(a.out, { number: r.pr.number, url: r.pr.url });
    a.out.warnings.push(...r.warnings);
  }
  if (plan.updatePr && a.openPr) await client.updatePullRequest(a.openPr.number, { title, body: body() });
  if (plan.comment === 'changes' && a.openPr) {
    branchFilesBefore ??= new Map();
    await client.comment(a.openPr.number, changesComment(
      a.clusterId, compareFiles(branchFilesBefore, await filesOf(repo, a.snapshotTree)), now, { massDeletion: a.massDeletion },
    ));
  }
  if (plan.comment === 'foreign-push' && a.openPr) await client.comment(a.openPr.number, foreignPushComment(a.clusterId, a.branch, a.branchState!.head));
  if (plan.closePr && a.openPr) {
    await client.closePullRequest(a.openPr.number, plan.comment === 'superseded' ? supersededComment(a.clusterId, now) : revertedComment(a.clusterId, now));
  }
  if (plan.deleteBranch) await client.deleteBranch(a.branch);
  if (plan.failure) a.out.error = plan.failure;
}
