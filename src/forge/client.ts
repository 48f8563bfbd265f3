// Pull requests on GitHub (api.github.com, GitHub Enterprise) and Gitea (/api/v1) through one code path. Plain `fetch`:
// @octokit/core would need two plugins (retry, throttling + bottleneck) for what http.ts does in 100 lines, and its
// GitHub-shaped defaults (per_page, 200 on PATCH, the head filter, drafts) are exactly where Gitea differs.
import { createRequest, ForgeError, redact, unexpected, type Fetch, type JsonResponse } from './http.ts';

export type ForgeKind = 'github' | 'gitea';

export interface ForgeOptions {
  forge: ForgeKind;
  apiUrl: string;
  owner: string;
  repo: string;
  token?: string;
  tokenName?: string;
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  maxRetries?: number;
  maxWaitMs?: number;
  /** Bound on pages read when listing pull requests (Gitea lists every branch's: it ignores the head filter). */
  maxPages?: number;
  /** PRs per page (default GitHub 100, Gitea 50: its default MAX_RESPONSE_ITEMS). */
  pageSize?: number;
}

export interface PullRequest {
  number: number;
  url: string; // the web page
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  title: string;
  body: string;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
}

export interface NewPullRequest {
  head: string;
  base: string;
  title: string;
  body: string;
  /** The body must contain it: how an existing PR is recognized as this cluster's. */
  marker: string;
  labels?: string[];
  reviewers?: string[];
  teamReviewers?: string[];
  /** GitHub only: Gitea has no draft pull requests, and the field is not sent there. */
  draft?: boolean;
}

export interface CreateResult { pr: PullRequest; created: boolean; warnings: string[] }

export interface ForgeClient {
  readonly forge: ForgeKind;
  findOpenPullRequest(head: string, marker: string): Promise<PullRequest | undefined>;
  /** Closed without merging: the rejected states of this branch, newest first. */
  listClosedUnmerged(head: string, marker: string): Promise<PullRequest[]>;
  /** Opens the PR; when the forge says one already exists (GitHub 422, Gitea 409) finds it and updates it instead. */
  createPullRequest(pr: NewPullRequest): Promise<CreateResult>;
  updatePullRequest(number: number, change: { title?: string; body?: string }): Promise<PullRequest>;
  comment(number: number, body: string): Promise<void>;
  closePullRequest(number: number, comment?: string): Promise<PullRequest>;
  /** True when deleted, false when it did not exist. */
  deleteBranch(branch: string): Promise<boolean>;
  getPullRequest(number: number): Promise<PullRequest>;
}

function toPullRequest(j: unknown): PullRequest {
  const p = j as Record<string, any>;
  if (!p || typeof p.number !== 'number') throw new ForgeError('forge API answered something that is not a pull request');
  return {
    number: p.number,
    url: String(p.html_url ?? ''),
    state: p.state === 'open' ? 'open' : 'closed',
    // GitHub's list items have no `merged`, only `merged_at`; Gitea has both.
    merged: Boolean(p.merged ?? p.merged_at),
    draft: Boolean(p.draft),
    title: String(p.title ?? ''),
    body: String(p.body ?? ''),
    head: { ref: String(p.head?.ref ?? ''), sha: String(p.head?.sha ?? '') },
    base: { ref: String(p.base?.ref ?? ''), sha: String(p.base?.sha ?? '') },
  };
}

/** A branch name in a URL path: each segment encoded, the slashes kept (both forges route `kubetrail/<id>` so). */
const branchPath = (branch: string) => branch.split('/').map(encodeURIComponent).join('/');

const alreadyExists = (r: JsonResponse) =>
  r.status === 409 || (r.status === 422 && /already exists/i.test(JSON.stringify(r.body ?? '')));

export function createForgeClient(o: ForgeOptions): ForgeClient {
  const request = createRequest({
    apiUrl: o.apiUrl, token: o.token, tokenName: o.tokenName, fetch: o.fetch, sleep: o.sleep, now: o.now,
    maxRetries: o.maxRetries, maxWaitMs: o.maxWaitMs, authScheme: o.forge === 'github' ? 'Bearer' : 'token',
  });
  const repoPath = `/repos/${encodeURIComponent(o.owner)}/${encodeURIComponent(o.repo)}`;
  const github = o.forge === 'github';
  const pageSize = o.pageSize ?? (github ? 100 : 50);
  const maxPages = o.maxPages ?? 20;

  async function call(method: string, path: string, ok: number[], body?: unknown): Promise<JsonResponse> {
    const r = await request(method, `${repoPath}${path}`, body);
    if (!ok.includes(r.status)) throw unexpected(method, `${o.apiUrl}${repoPath}${path}`, r, o.token);
    return r;
  }

  async function listPulls(state: 'open' | 'closed', head: string, keep: (p: PullRequest) => boolean): Promise<PullRequest[]> {
    const found: PullRequest[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const q = new URLSearchParams({ state, page: String(page) });
      if (github) {
        q.set('per_page', String(pageSize));
        q.set('head', `${o.owner}:${head}`);
        q.set('sort', 'updated');
        q.set('direction', 'desc');
      } else {
        q.set('limit', String(pageSize));
        q.set('sort', 'recentupdate');
      }
      const r = await call('GET', `/pulls?${q}`, [200]);
      if (!Array.isArray(r.body)) throw new ForgeError(`forge API: GET ${repoPath}/pulls did not answer a list`);
      // Gitea ignores `head`, and on GitHub a same-named branch of a fork must not count: filter here for both.
      found.push(...r.body.map(toPullRequest).filter((p) => p.head.ref === head && keep(p)));
      if (r.body.length < pageSize) break;
    }
    return found;
  }

  const client: ForgeClient = {
    forge: o.forge,

    async findOpenPullRequest(head, marker) {
      return (await listPulls('open', head, (p) => p.body.includes(marker)))[0];
    },

    async listClosedUnmerged(head, marker) {
      return listPulls('closed', head, (p) => !p.merged && p.body.includes(marker));
    },

    async createPullRequest(n) {
      const payload: Record<string, unknown> = { title: n.title, body: n.body, head: n.head, base: n.base };
      if (github && n.draft) payload.draft = true;
      const r = await request('POST', `${repoPath}/pulls`, payload);
      let pr: PullRequest;
      let created = true;
      if (r.status === 201) pr = toPullRequest(r.body);
      else if (alreadyExists(r)) {
        // A run that opened it and then failed, or a concurrent run: take that PR and make it say what we would have.
        const existing = await client.findOpenPullRequest(n.head, n.marker);
        if (!existing) throw unexpected('POST', `${o.apiUrl}${repoPath}/pulls`, r, o.token);
        pr = await client.updatePullRequest(existing.number, { title: n.title, body: n.body });
        created = false;
      } else throw unexpected('POST', `${o.apiUrl}${repoPath}/pulls`, r, o.token);
      const warnings: string[] = [];
      const attempt = async (what: string, f: () => Promise<unknown>) => {
        try { await f(); } catch (e) { warnings.push(`${what}: ${redact((e as Error).message, o.token)}`); }
      };
      if (created && n.labels?.length) await attempt('labels', () => call('POST', `/issues/${pr.number}/labels`, [200], { labels: n.labels }));
      if (created && (n.reviewers?.length || n.teamReviewers?.length)) {
        await attempt('reviewers', () => call('POST', `/pulls/${pr.number}/requested_reviewers`, [200, 201],
          { reviewers: n.reviewers ?? [], team_reviewers: n.teamReviewers ?? [] }));
      }
      return { pr, created, warnings };
    },

    async updatePullRequest(number, change) {
      // GitHub answers 200, Gitea 201.
      return toPullRequest((await call('PATCH', `/pulls/${number}`, [200, 201], change)).body);
    },

    async comment(number, body) {
      await call('POST', `/issues/${number}/comments`, [201], { body });
    },

    async closePullRequest(number, comment) {
      if (comment) await client.comment(number, comment);
      return toPullRequest((await call('PATCH', `/pulls/${number}`, [200, 201], { state: 'closed' })).body);
    },

    async deleteBranch(branch) {
      if (github) {
        const r = await call('DELETE', `/git/refs/heads/${branchPath(branch)}`, [204, 422]); // 422: "Reference does not exist"
        return r.status === 204;
      }
      const r = await call('DELETE', `/branches/${branchPath(branch)}`, [204, 404]);
      return r.status === 204;
    },

    async getPullRequest(number) {
      return toPullRequest((await call('GET', `/pulls/${number}`, [200])).body);
    },
  };
  return client;
}
