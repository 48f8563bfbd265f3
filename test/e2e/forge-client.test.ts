// The forge client against a real Gitea: every operation the pull-request mode uses, and Gitea's differences
// (the head filter ignored, 409 for a duplicate, 201 on PATCH, limit paging, no drafts).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForgeClient, type ForgeClient } from '../../src/forge/client.ts';
import { startForge, gitWithToken, type Forge } from '../helpers/forge.ts';
import { tempDir } from '../helpers/testenv.ts';

let forge: Forge;
let client: ForgeClient;
let work: string;
const marker = (id: string) => `<!-- kubetrail:cluster=${id} -->`;

function pushBranch(branch: string, file: string): void {
  execFileSync('git', ['-C', work, 'checkout', '-q', '-B', branch, 'origin/main']);
  writeFileSync(join(work, file), `${branch}\n`);
  execFileSync('git', ['-C', work, 'add', '.']);
  execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-qm', branch]);
  gitWithToken(forge, work, ['push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`]);
}

beforeAll(async () => {
  forge = startForge();
  client = createForgeClient({ forge: 'gitea', apiUrl: forge.apiUrl, owner: forge.owner, repo: forge.repo, token: forge.token });
  const dir = tempDir('forge-client');
  gitWithToken(forge, dir, ['clone', '-q', forge.gitUrl, 'w']);
  work = join(dir, 'w');
  for (const id of ['c1', 'c2', 'c3']) pushBranch(`kubetrail/${id}`, `${id}.txt`);
  // A reviewer other than the PR's author (Gitea refuses the author as reviewer) and a label to set.
  const user = await forge.api('POST', '/admin/users', { username: 'reviewer', email: 'r@example.test', password: 'pw-0123456789abcdef', must_change_password: false });
  expect(user.status).toBe(201);
  expect((await forge.api('PUT', `/repos/${forge.owner}/${forge.repo}/collaborators/reviewer`, { permission: 'write' })).status).toBe(204);
  expect((await forge.api('POST', `/repos/${forge.owner}/${forge.repo}/labels`, { name: 'kubetrail', color: '#00aabb' })).status).toBe(201);
}, 300_000);
afterAll(() => forge?.stop());

describe('forge client against a real Gitea', () => {
  let c1: number;

  it('opens a PR with labels and reviewers; a draft request opens a normal PR (Gitea has no drafts)', async () => {
    const r = await client.createPullRequest({
      head: 'kubetrail/c1', base: 'main', title: 'c1: +1 ~0 -0', body: `${marker('c1')}\nfirst`, marker: marker('c1'),
      labels: ['kubetrail'], reviewers: ['reviewer'], draft: true,
    });
    expect(r.created).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(r.pr).toMatchObject({ state: 'open', merged: false, draft: false, head: { ref: 'kubetrail/c1' }, base: { ref: 'main' } });
    expect(r.pr.url).toBe(`${forge.url}/${forge.owner}/${forge.repo}/pulls/${r.pr.number}`);
    c1 = r.pr.number;
    const issue = await forge.api('GET', `/repos/${forge.owner}/${forge.repo}/issues/${c1}`);
    expect(issue.body.labels.map((l: any) => l.name)).toEqual(['kubetrail']);
    const pr = await forge.api('GET', `/repos/${forge.owner}/${forge.repo}/pulls/${c1}`);
    expect(pr.body.requested_reviewers.map((u: any) => u.login)).toEqual(['reviewer']);
  });

  it('reads Gitea\'s 409 for a second PR on the same head as: find it and update it', async () => {
    const writes = forge.apiWrites().length;
    const r = await client.createPullRequest({ head: 'kubetrail/c1', base: 'main', title: 'c1: +2 ~0 -0', body: `${marker('c1')}\nsecond`, marker: marker('c1'), labels: ['kubetrail'] });
    expect(r).toMatchObject({ created: false, pr: { number: c1, title: 'c1: +2 ~0 -0', body: `${marker('c1')}\nsecond` } });
    expect(forge.apiWrites().slice(writes).map((w) => w.replace(/\/repos\/[^/]+\/[^/]+/, ''))).toEqual([
      'POST /api/v1/pulls 409', `PATCH /api/v1/pulls/${c1} 201`, // labels are set once, when the PR is opened
    ]);
  });

  it('finds the cluster\'s open PR by head and marker although Gitea ignores the head filter', async () => {
    expect(await client.findOpenPullRequest('kubetrail/c2', marker('c2'))).toBeUndefined();
    const c2 = (await client.createPullRequest({ head: 'kubetrail/c2', base: 'main', title: 'c2', body: marker('c2'), marker: marker('c2') })).pr;
    expect((await client.findOpenPullRequest('kubetrail/c1', marker('c1')))?.number).toBe(c1);
    expect((await client.findOpenPullRequest('kubetrail/c2', marker('c2')))?.number).toBe(c2.number);
    expect(await client.findOpenPullRequest('kubetrail/c1', marker('c2'))).toBeUndefined(); // right branch, not our marker
  });

  it('pages with limit: a PR past the first page is found', async () => {
    // Three more open PRs from other branches, newer than c3's (Gitea lists the newest first); pages of 2.
    const c3 = (await client.createPullRequest({ head: 'kubetrail/c3', base: 'main', title: 'c3', body: marker('c3'), marker: marker('c3') })).pr;
    gitWithToken(forge, work, ['push', '-q', 'origin', ...[0, 1, 2].map((i) => `kubetrail/c1:refs/heads/other-${i}`)]);
    for (const i of [0, 1, 2]) {
      expect((await forge.api('POST', `/repos/${forge.owner}/${forge.repo}/pulls`, { head: `other-${i}`, base: 'main', title: `other ${i}` })).status).toBe(201);
    }
    const paged = createForgeClient({ forge: 'gitea', apiUrl: forge.apiUrl, owner: forge.owner, repo: forge.repo, token: forge.token, pageSize: 2 });
    const reads = forge.apiWrites().length;
    expect((await paged.findOpenPullRequest('kubetrail/c3', marker('c3')))?.number).toBe(c3.number);
    const onePage = createForgeClient({ forge: 'gitea', apiUrl: forge.apiUrl, owner: forge.owner, repo: forge.repo, token: forge.token, pageSize: 2, maxPages: 1 });
    expect(await onePage.findOpenPullRequest('kubetrail/c3', marker('c3'))).toBeUndefined(); // so the second page was needed
    expect(forge.apiWrites().length).toBe(reads); // finding writes nothing
  });

  it('updates title and body (Gitea answers 201), comments, closes with a comment', async () => {
    const updated = await client.updatePullRequest(c1, { title: 'c1: +3 ~0 -0', body: `${marker('c1')}\nthird` });
    expect(updated.title).toBe('c1: +3 ~0 -0');
    await client.comment(c1, 'new since the last comment: x');
    const closed = await client.closePullRequest(c1, 'reverted in the cluster');
    expect(closed).toMatchObject({ number: c1, state: 'closed', merged: false });
    const comments = await forge.api('GET', `/repos/${forge.owner}/${forge.repo}/issues/${c1}/comments`);
    expect(comments.body.map((c: any) => c.body)).toEqual(['new since the last comment: x', 'reverted in the cluster']);
    expect(await client.findOpenPullRequest('kubetrail/c1', marker('c1'))).toBeUndefined();
    expect((await client.listClosedUnmerged('kubetrail/c1', marker('c1'))).map((p) => p.number)).toEqual([c1]);
  });

  it('deletes a branch (a missing one is not an error)', async () => {
    expect(await client.deleteBranch('kubetrail/c1')).toBe(true);
    expect(await client.deleteBranch('kubetrail/c1')).toBe(false);
    expect(gitWithToken(forge, work, ['ls-remote', 'origin', 'refs/heads/kubetrail/c1'])).toBe('');
  });

  it('tells a merged PR from a closed one', async () => {
    const c2 = (await client.findOpenPullRequest('kubetrail/c2', marker('c2')))!;
    const merge = await forge.merge(c2.number);
    expect(merge.status).toBe(200);
    expect(await client.getPullRequest(c2.number)).toMatchObject({ state: 'closed', merged: true });
    expect(await client.listClosedUnmerged('kubetrail/c2', marker('c2'))).toEqual([]);
  });

  it('a wrong token: 401 naming what to check, token not printed; an unreachable forge: one clear error', async () => {
    const wrong = 'f'.repeat(40);
    const bad = createForgeClient({ forge: 'gitea', apiUrl: forge.apiUrl, owner: forge.owner, repo: forge.repo, token: wrong, tokenName: 'KUBETRAIL_GIT_TOKEN' });
    const e = await bad.getPullRequest(1).catch((x) => x);
    expect(e.message).toMatch(/refused the token \(401\).*KUBETRAIL_GIT_TOKEN/);
    expect(e.message).not.toContain(wrong);
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const gone = createForgeClient({ forge: 'gitea', apiUrl: `http://127.0.0.1:${closedPort}/api/v1`, owner: 'o', repo: 'r', token: forge.token, sleep: async () => {} });
    const u = await gone.findOpenPullRequest('kubetrail/c1', marker('c1')).catch((x) => x);
    expect(u.message).toMatch(/forge API unreachable: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/repos\/o\/r\/pulls.*ECONNREFUSED/);
    expect(u.message).not.toContain(forge.token);
  });
});
