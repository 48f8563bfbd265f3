// `kubetrail run` (the daemon) in pull-request mode against a real Gitea: scheduled syncs open the cluster's PR, a
// change updates it with one commit and one comment, ticks without a change write nothing (counted from Gitea's log),
// and an HTTP trigger reports what it did to the PR.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForge, gitWithToken, type Forge } from '../../helpers/forge.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { until as waitUntil } from '../../helpers/wait.ts';

const id = `daemon-pr-${runtime}`;
const apiToken = 'daemon-pr-api-token';

const until = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 90_000) => waitUntil(what, fn, ms);

describe(`kubetrail run in pull-request mode (daemon under ${runtime}, real Gitea)`, () => {
  const dir = tempDir('daemon-pr');
  const repo = join(dir, 'repo');
  const branch = `kubetrail/${id}`;
  let forge: Forge;
  let child: ReturnType<typeof spawnCli>;
  let stderr = '';
  let port = 0;
  const R = () => `/repos/${forge.owner}/${forge.repo}`;
  const logLines = () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const ticksDone = () => logLines().filter((l) => l.msg === 'scheduled sync done' && l.cluster === id);
  const remoteHead = (ref: string) => gitWithToken(forge, dir, ['ls-remote', forge.gitUrl, `refs/heads/${ref}`]).split('\t')[0] || undefined;
  const openPr = async () => ((await forge.api('GET', `${R()}/pulls?state=open&limit=50`)).body as any[]).find((p) => p.head.ref === branch);
  const comments = async (n: number) => ((await forge.api('GET', `${R()}/issues/${n}/comments`)).body as any[]).map((c) => c.body as string);
  const trigger = () => fetch(`http://127.0.0.1:${port}/api/v1/clusters/${id}/sync`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}` } });
  /** A trigger that lands between two scheduled runs (409 while one runs). */
  const triggerWhenIdle = () => until('a trigger between scheduled runs', async () => {
    const res = await trigger();
    if (res.status === 409) return undefined;
    return { status: res.status, body: await res.json() as any };
  });

  let initialMain: string | undefined;

  beforeAll(async () => {
    forge = startForge();
    initialMain = remoteHead('main');
    await ensureNamespace(adminClient(), id);
    await createMany(adminClient(), `/api/v1/namespaces/${id}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state' }, data: { v: '1' } }]);
    writeFileSync(join(dir, 'k.yaml'), [
      `repo: ${repo}`, 'schedule: "*/2 * * * * *"', 'api: {host: 127.0.0.1}',
      'remote:',
      `  url: ${forge.gitUrl}`,
      '  allowInsecureHttp: true',
      '  pullRequest: {base: main, forge: gitea}',
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${id}]`, '    select: [core.v1.ConfigMap]',
    ].join('\n'));
    child = spawnCli(['run', '--config', join(dir, 'k.yaml'), '--port', '0'], { env: { KUBETRAIL_API_TOKEN: apiToken, KUBETRAIL_GIT_TOKEN: forge.token } });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    port = await until('the API', () => Number(stderr.match(/"msg":"listening","port":(\d+)/)?.[1] ?? 0));
  }, 300_000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    forge?.stop();
  });

  it('a scheduled sync opens the cluster\'s PR; base untouched; the log says which PR', async () => {
    const pr = await until('the PR', openPr);
    expect(pr.title).toMatch(new RegExp(`^${id}: \\+1 ~0 -0 since `));
    expect(remoteHead('main')).toBe(initialMain);
    const opened = await until('the log line', () => ticksDone().find((l) => l.pullRequest?.action === 'opened'));
    expect(opened.pullRequest).toMatchObject({ action: 'opened', number: pr.number, url: pr.html_url });
  }, 120_000);

  it('a change updates the same PR: one new commit on the branch and one comment', async () => {
    const pr = await openPr();
    const before = remoteHead(branch)!;
    const writes = forge.apiWrites().length;
    kubectl(['-n', id, 'patch', 'configmap', 'state', '--type=merge', '-p', '{"data":{"v":"2"}}']);
    const after = await until('the branch to move', () => (remoteHead(branch) !== before ? remoteHead(branch) : undefined));
    await until('the comment', async () => ((await comments(pr.number)).length > 0 ? true : undefined));
    await until('the run to finish', () => ticksDone().some((l) => l.pullRequest?.action === 'updated'));
    const clone = join(tempDir('daemon-pr-clone'), 'c');
    gitWithToken(forge, dir, ['clone', '-q', '--mirror', forge.gitUrl, clone]);
    expect(execFileSync('git', ['-C', clone, 'rev-parse', `${after}^`], { encoding: 'utf8' }).trim()).toBe(before); // one new commit
    expect(await comments(pr.number)).toHaveLength(1);
    expect((await openPr()).number).toBe(pr.number);
    const made = forge.apiWrites().slice(writes).map((w) => w.replace(/\/repos\/[^/]+\/[^/]+/, '').replace(/\/\d+(?=[/ ])/g, '/N'));
    expect(made.sort()).toEqual(['PATCH /api/v1/pulls/N 201', 'POST /api/v1/issues/N/comments 201']);
    expect(remoteHead('main')).toBe(initialMain);
  }, 120_000);

  it('no change: scheduled ticks and an HTTP trigger write nothing; the trigger reports the PR unchanged', async () => {
    const pr = await openPr();
    const head = remoteHead(branch);
    await until('a tick after the update', () => ticksDone().at(-1)?.pullRequest?.action === 'unchanged');
    const writes = forge.apiWrites().length;
    const ticks = ticksDone().length;
    await until('three more ticks', () => ticksDone().length >= ticks + 3);
    const triggered = await triggerWhenIdle();
    expect(triggered.status).toBe(200);
    expect(triggered.body).toMatchObject({ clusterId: id, status: 'complete', pullRequest: { action: 'unchanged', number: pr.number } });
    expect(forge.apiWrites().slice(writes)).toEqual([]);
    expect(remoteHead(branch)).toBe(head);
    expect(ticksDone().slice(ticks).every((l) => l.pullRequest?.action === 'unchanged' && !l.pushError)).toBe(true);
  }, 120_000);

  it('a trigger after a change reports what it did; SIGTERM stops cleanly, repository fsck clean', async () => {
    const pr = await openPr();
    kubectl(['-n', id, 'patch', 'configmap', 'state', '--type=merge', '-p', '{"data":{"v":"3"}}']);
    // Whichever run sees the change first (a tick or this trigger) updates the PR; then it holds two comments.
    const triggered = await triggerWhenIdle();
    expect(triggered.status).toBe(200);
    expect(['updated', 'unchanged']).toContain(triggered.body.pullRequest.action);
    await until('the second comment', async () => ((await comments(pr.number)).length === 2 ? true : undefined));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(repo, '.git', 'kubetrail.lock'))).toBe(false);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(logLines().filter((l) => l.level === 'error')).toEqual([]);
  }, 120_000);
});
