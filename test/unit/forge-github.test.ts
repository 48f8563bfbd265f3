// GitHub-only behaviour of the forge client (422 "already exists", the head filter, drafts, Bearer auth, rate limits),
// against GitHub's recorded response bodies (test/fixtures/github/README.md) served by a local HTTP server.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createForgeClient, type ForgeClient } from '../../src/forge/client.ts';
import { ForgeError } from '../../src/forge/http.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/github/${name}`, import.meta.url), 'utf8');
const TOKEN = 'ghp_secretsecretsecretsecretsecret0123';
const MARKER = '<!-- kubetrail:cluster=prod-us -->';

interface Seen { method: string; path: string; query: URLSearchParams; auth?: string; body: any }
interface Reply { status: number; body?: string; headers?: Record<string, string> }

let server: Server;
let apiUrl: string;
let seen: Seen[];
let replies: ((s: Seen) => Reply | undefined)[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      const s: Seen = { method: req.method!, path: u.pathname, query: u.searchParams, auth: req.headers.authorization, body: data ? JSON.parse(data) : undefined };
      seen.push(s);
      const i = replies.findIndex((r) => r(s) !== undefined);
      const reply = i >= 0 ? replies[i](s)! : { status: 599, body: '{"message":"no recorded reply"}' };
      if (i >= 0) replies.splice(i, 1); // each recorded reply answers once
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => { seen = []; replies = []; });

const on = (method: string, path: string, reply: Reply) =>
  replies.push((s) => (s.method === method && s.path === path ? reply : undefined));

function client(o: { sleeps?: number[]; maxRetries?: number; maxWaitMs?: number } = {}): ForgeClient {
  return createForgeClient({
    forge: 'github', apiUrl, owner: 'acme', repo: 'history', token: TOKEN, tokenName: 'KUBETRAIL_GIT_TOKEN',
    sleep: async (ms) => { o.sleeps?.push(ms); }, now: () => 1_700_000_000_000, maxRetries: o.maxRetries, maxWaitMs: o.maxWaitMs,
  });
}

const P = '/repos/acme/history';

describe('forge client against recorded GitHub responses', () => {
  it('asks GitHub to filter by head (owner:branch, per_page) and still keeps only the PR with the marker', async () => {
    on('GET', `${P}/pulls`, { status: 200, body: fixture('pulls-open.json') });
    const pr = await client().findOpenPullRequest('kubetrail/prod-us', MARKER);
    expect(pr?.number).toBe(1347);
    expect(pr?.draft).toBe(true);
    expect(seen[0].query.get('head')).toBe('acme:kubetrail/prod-us');
    expect(seen[0].query.get('per_page')).toBe('100');
    expect(seen[0].query.get('limit')).toBeNull();
    expect(seen[0].auth).toBe(`Bearer ${TOKEN}`);
  });

  it('reads 422 "already exists" as: find the open PR and update it (200 on PATCH)', async () => {
    on('POST', `${P}/pulls`, { status: 422, body: fixture('create-422-exists.json') });
    on('GET', `${P}/pulls`, { status: 200, body: fixture('pulls-open.json') });
    on('PATCH', `${P}/pulls/1347`, { status: 200, body: fixture('pull.json') });
    const r = await client().createPullRequest({ head: 'kubetrail/prod-us', base: 'main', title: 'T', body: `${MARKER}\nB`, marker: MARKER, labels: ['kubetrail'] });
    expect(r.created).toBe(false);
    expect(r.pr.number).toBe(1347);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`POST ${P}/pulls`, `GET ${P}/pulls`, `PATCH ${P}/pulls/1347`]);
    expect(seen[2].body).toEqual({ title: 'T', body: `${MARKER}\nB` });
  });

  it('keeps any other 422 an error with GitHub\'s message', async () => {
    on('POST', `${P}/pulls`, { status: 422, body: fixture('create-422-no-commits.json') });
    const e = await client().createPullRequest({ head: 'kubetrail/prod-us', base: 'main', title: 'T', body: MARKER, marker: MARKER }).catch((x) => x);
    expect(e).toBeInstanceOf(ForgeError);
    expect(e.status).toBe(422);
    expect(e.message).toContain('No commits between main and kubetrail/prod-us');
  });

  it('sends draft: true, then labels and reviewers, to GitHub', async () => {
    on('POST', `${P}/pulls`, { status: 201, body: fixture('pull.json') });
    on('POST', `${P}/issues/1347/labels`, { status: 200, body: '[]' });
    on('POST', `${P}/pulls/1347/requested_reviewers`, { status: 201, body: fixture('pull.json') });
    const r = await client().createPullRequest({
      head: 'kubetrail/prod-us', base: 'main', title: 'T', body: MARKER, marker: MARKER, draft: true,
      labels: ['kubetrail', 'rbac'], reviewers: ['alice'], teamReviewers: ['platform'],
    });
    expect(r).toMatchObject({ created: true, warnings: [] });
    expect(r.pr).toMatchObject({ number: 1347, url: 'https://github.com/acme/history/pull/1347', head: { ref: 'kubetrail/prod-us' }, merged: false });
    expect(seen[0].body).toEqual({ title: 'T', body: MARKER, head: 'kubetrail/prod-us', base: 'main', draft: true });
    expect(seen[1].body).toEqual({ labels: ['kubetrail', 'rbac'] });
    expect(seen[2].body).toEqual({ reviewers: ['alice'], team_reviewers: ['platform'] });
  });

  it('waits as Retry-After says on a secondary rate limit, then succeeds', async () => {
    const sleeps: number[] = [];
    on('GET', `${P}/pulls/1347`, { status: 403, body: fixture('rate-limited-403.json'), headers: { 'retry-after': '7' } });
    on('GET', `${P}/pulls/1347`, { status: 200, body: fixture('pull.json') });
    expect((await client({ sleeps }).getPullRequest(1347)).number).toBe(1347);
    expect(sleeps).toEqual([7000]);
  });

  it('waits until x-ratelimit-reset when the primary limit is used up', async () => {
    const sleeps: number[] = [];
    const reset = String(1_700_000_000 + 42);
    on('GET', `${P}/pulls/1347`, { status: 403, body: fixture('rate-limited-403.json'), headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } });
    on('GET', `${P}/pulls/1347`, { status: 200, body: fixture('pull.json') });
    await client({ sleeps }).getPullRequest(1347);
    expect(sleeps).toEqual([42_000]);
  });

  it('gives up after bounded retries, and at once when the wait is longer than allowed', async () => {
    const sleeps: number[] = [];
    for (let i = 0; i < 5; i++) on('GET', `${P}/pulls/1`, { status: 429, body: '{}', headers: { 'retry-after': '1' } });
    const e = await client({ sleeps, maxRetries: 2 }).getPullRequest(1).catch((x) => x);
    expect(e.message).toMatch(/429 after 3 attempts/);
    expect(sleeps).toEqual([1000, 1000]);
    on('GET', `${P}/pulls/2`, { status: 429, body: '{}', headers: { 'retry-after': '3600' } });
    const long = await client({ maxWaitMs: 60_000 }).getPullRequest(2).catch((x) => x);
    expect(long.message).toMatch(/asks to wait 3600 s/);
  });

  it('says which token to check on 401 and never prints it', async () => {
    on('GET', `${P}/pulls/1`, { status: 401, body: fixture('bad-credentials-401.json') });
    const e = await client().getPullRequest(1).catch((x) => x);
    expect(e.message).toMatch(/refused the token \(401\).*KUBETRAIL_GIT_TOKEN/);
    expect(e.message).not.toContain(TOKEN);
  });

  it('deletes a branch through git/refs; a missing one (422) is not an error', async () => {
    on('DELETE', `${P}/git/refs/heads/kubetrail/prod-us`, { status: 204 });
    on('DELETE', `${P}/git/refs/heads/kubetrail/prod-us`, { status: 422, body: fixture('delete-ref-422.json') });
    expect(await client().deleteBranch('kubetrail/prod-us')).toBe(true);
    expect(await client().deleteBranch('kubetrail/prod-us')).toBe(false);
  });

  it('reads a merged PR from merged_at (list items have no merged field)', async () => {
    const merged = { ...JSON.parse(fixture('pull.json')), state: 'closed', merged_at: '2011-01-26T19:01:12Z' };
    delete merged.merged;
    on('GET', `${P}/pulls`, { status: 200, body: JSON.stringify([merged, { ...merged, number: 9, merged_at: null }]) });
    const closed = await client().listClosedUnmerged('kubetrail/prod-us', MARKER);
    expect(closed.map((p) => p.number)).toEqual([9]);
  });
});
