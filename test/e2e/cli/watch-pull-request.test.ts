// `kubetrail watch` in pull-request mode against a real Gitea: the initial sync opens the cluster's PR, each
// window with a change updates it with one commit, the base branch is never pushed to, and SIGTERM leaves the
// local branch on the remote base with a valid repository. Runs with the CLI under Node and under Deno.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitWithToken, startForge, type Forge } from '../../helpers/forge.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { waitFor, until as waitUntil } from '../../helpers/wait.ts';

const id = `watch-pr-${runtime}`;

const until = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 90_000) => waitUntil(what, fn, ms);

describe(`kubetrail watch in pull-request mode (CLI under ${runtime}, real Gitea)`, () => {
  const dir = tempDir('watch-pr');
  const repo = join(dir, 'repo');
  const branch = `kubetrail/${id}`;
  let forge: Forge;
  let child: ReturnType<typeof spawnCli> | undefined;
  let output = '';
  const R = () => `/repos/${forge.owner}/${forge.repo}`;
  const remoteHead = (ref: string) => gitWithToken(forge, dir, ['ls-remote', forge.gitUrl, `refs/heads/${ref}`]).split('\t')[0] || undefined;
  const openPr = async () => ((await forge.api('GET', `${R()}/pulls?state=open&limit=50`)).body as any[]).find((p) => p.head.ref === branch);
  const comments = async (n: number) => ((await forge.api('GET', `${R()}/issues/${n}/comments`)).body as any[]).map((c) => c.body as string);
  const onBranch = (clone: string, rev: string) => execFileSync('git', ['-C', clone, 'show', `${rev}:clusters/${id}/core.v1.ConfigMap/${id}/state.yaml`], { encoding: 'utf8' });
  let initialMain: string | undefined;

  beforeAll(async () => {
    forge = startForge();
    initialMain = remoteHead('main');
    await ensureNamespace(adminClient(), id);
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: state, namespace: ${id}}\ndata: {v: "1"}\n`);
    writeFileSync(join(dir, 'k.yaml'), [
      `repo: ${repo}`,
      'remote:', `  url: ${forge.gitUrl}`, '  allowInsecureHttp: true', '  pullRequest: {base: main, forge: gitea}',
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${id}]`, '    select: [core.v1.ConfigMap]',
    ].join('\n'));
    child = spawnCli(['watch', '--config', join(dir, 'k.yaml'), '--push', '--commit-interval', '2'], { env: { KUBETRAIL_GIT_TOKEN: forge.token } });
    child.stdout!.on('data', (d: Buffer) => (output += d));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    await waitFor('watching', () => output.includes(`${id}: watching`), 120_000, () => output);
  }, 300_000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    forge?.stop();
  });

  it('the initial sync opens the PR; each window with a change adds one commit to it; base is never pushed to; SIGTERM leaves the repository on base', async () => {
    const pr = await until('the PR', openPr);
    expect(pr.title).toMatch(new RegExp(`^${id}: \\+1 ~0 -0 since `));
    expect(output).toContain(`${id}: pull request opened #${pr.number}`);

    for (const v of ['2', '3']) {
      const before = remoteHead(branch)!;
      const said = (await comments(pr.number)).length;
      kubectl(['-n', id, 'patch', 'configmap', 'state', '--type=merge', '-p', JSON.stringify({ data: { v } })]);
      const after = await until('the PR branch to move', async () => (remoteHead(branch) !== before ? remoteHead(branch) : undefined));
      await until('the comment', async () => ((await comments(pr.number)).length > said ? true : undefined));
      const clone = join(tempDir('watch-pr-clone'), 'c');
      gitWithToken(forge, dir, ['clone', '-q', '--mirror', forge.gitUrl, clone]);
      expect(execFileSync('git', ['-C', clone, 'rev-parse', `${after}^`], { encoding: 'utf8' }).trim()).toBe(before); // one new commit
      expect(onBranch(clone, after)).toContain(`v: "${v}"`);
      expect((await openPr()).number).toBe(pr.number);
      expect(remoteHead('main')).toBe(initialMain);
    }

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(remoteHead('main')).toBe(initialMain);
    expect(git(repo, ['rev-parse', 'HEAD']).trim()).toBe(initialMain); // proposals live on the PR branch only
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  }, 240_000);
});
