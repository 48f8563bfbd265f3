// Where a watch's commits go, as a sync run's do: pushed to the remote branch (a rejected push re-applied on the
// new remote head and retried), or, in pull-request mode, proposed in each cluster's PR (routine changes of the
// guarded mode straight to base). A failed publish is reported and retried after the next window: the commits
// stay on the local branch, and each publish carries everything not yet published.
import type { Config } from '../config/types.ts';
import { clusterOfCommit } from '../model/trailers.ts';
import type { ReviewOutcome } from '../review/execute.ts';
import { reviewRun } from '../review/run.ts';
import { pushWithRetry, syncFromRemote, type RemoteTarget } from '../store/remote.ts';
import type { Repo } from '../store/repo.ts';

export interface Publisher {
  /** Starts the local branch from the remote's (before the initial syncs). */
  start(): Promise<void>;
  /** Publishes what was committed since the last publish (`failedTypes`: each cluster's, as its last commit said); false when that failed. */
  publish(failedTypes: Map<string, string[]>): Promise<boolean>;
}

export interface PublishReport {
  pushed?: string;
  pullRequests?: ReviewOutcome[];
  error?: string;
}

export function remotePublisher(
  config: Config, repo: Repo, target: RemoteTarget, o: { assertLocked: () => Promise<void>; onPublished: (r: PublishReport) => void },
): Publisher {
  const pr = config.remote?.pullRequest;
  let base: string | undefined; // PR mode: the base branch's head the next proposals start from
  const push = () => pushWithRetry(repo, target, { assertLocked: o.assertLocked, attempts: config.remote!.pushAttempts });

  async function review(failedTypes: Map<string, string[]>): Promise<PublishReport> {
    const head = await repo.head();
    if (!head || head === base) return {};
    const clusters = base ? await clustersSince(repo, head, base) : []; // no base on the remote: reviewRun says so
    const results = clusters.map((clusterId) => ({ clusterId, status: 'complete' as const, failedTypes: (failedTypes.get(clusterId) ?? []).map((type) => ({ type })) }));
    const outcome = await reviewRun(config, pr!, repo, target, base, results, o.assertLocked);
    const errors = [outcome.error, ...outcome.pullRequests.map((p) => p.error)].filter((e) => e !== undefined);
    const pushed = outcome.pushBase ? (await push()).commit : undefined;
    base = await repo.head();
    return { pushed, pullRequests: outcome.pullRequests, ...(errors.length ? { error: errors.join('\n') } : {}) };
  }

  return {
    async start() {
      await syncFromRemote(repo, target, { assertLocked: o.assertLocked });
      base = await repo.head();
    },
    async publish(failedTypes) {
      let report: PublishReport;
      try {
        report = pr ? await review(failedTypes) : { pushed: (await push()).commit };
      } catch (e) {
        report = { error: (e as Error).message };
      }
      o.onPublished(report);
      return report.error === undefined;
    },
  };
}

/** The clusters whose commits are on the first-parent line from `head` down to `base`. */
async function clustersSince(repo: Repo, head: string, base: string): Promise<string[]> {
  const clusters = new Set<string>();
  for (let oid: string | undefined = head; oid && oid !== base;) {
    const c = await repo.readCommit(oid);
    const cluster = clusterOfCommit(c.message);
    if (cluster) clusters.add(cluster);
    oid = c.parents[0];
  }
  return [...clusters];
}
