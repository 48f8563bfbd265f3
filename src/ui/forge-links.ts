// Pure: where a commit and a cluster's pull request live on the forge the repository is pushed to, if any.
import type { RemoteConfig } from '../config/types.ts';
import { compareUrl, locateForge, type ForgeLocation } from '../forge/settings.ts';
import { prBranch } from '../review/branch.ts';

export interface ForgeLinks {
  commit(commit: string): string;
  /** A merge commit's pull request (`Merge pull request #12 …`, Gitea's `… (#12) from …`), else undefined. */
  mergedPullRequest(subject: string): string | undefined;
  /** The compare view of the cluster's rolling PR branch against base: the forge shows its open PR there. */
  clusterPullRequest(clusterId: string): string | undefined;
}

/** Links for an http(s) remote with `<owner>/<repo>` in its path; undefined for an ssh or file remote (no web view known). */
export function forgeLinks(remote: RemoteConfig | undefined): ForgeLinks | undefined {
  if (!remote || !/^https?:\/\//.test(remote.url)) return undefined;
  let loc: ForgeLocation;
  try {
    // The forge kind only picks the API URL, which links do not use: web paths of commits are the same on both.
    loc = locateForge(remote.url, { forge: remote.pullRequest?.forge ?? 'github', apiUrl: remote.pullRequest?.apiUrl });
  } catch {
    return undefined;
  }
  const base = `${loc.webUrl}/${encodeURIComponent(loc.owner)}/${encodeURIComponent(loc.repo)}`;
  const pulls = loc.forge === 'gitea' ? 'pulls' : 'pull';
  const pr = remote.pullRequest;
  return {
    commit: (commit) => `${base}/commit/${commit}`,
    mergedPullRequest: (subject) => {
      const n = subject.match(/^Merge pull request (?:#(\d+)|.*\(#(\d+)\))/);
      return n ? `${base}/${pulls}/${n[1] ?? n[2]}` : undefined;
    },
    clusterPullRequest: (clusterId) => (pr ? compareUrl(loc, pr.base, prBranch(clusterId)) : undefined),
  };
}
