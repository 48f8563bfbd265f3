// A person's own `git commit` beside clusters/ in a repository that kubetrail pushes: it travels to the remote as
// is when the remote has not moved, and when it has, kubetrail says what to do instead of re-making it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const token = `person-token-${runtime}`;
const person = ['-c', 'user.name=Person', '-c', 'user.email=person@example.com'];

describe(`a person's commit in a pushing repository (CLI under ${runtime})`, () => {
  let server: GitServer;
  const root = tempDir('remotes');
  const work = tempDir('person');
  const id = `person-${runtime}`;
  const repo = join(work, id);
  const config = join(work, `${id}.yaml`);
  const sync = () => runCli(['sync', '--config', config, '--push', '--json'], { env: { KUBETRAIL_GIT_TOKEN: token } });
  const authUrl = () => server.repoUrl('fleet.git').replace('http://', `http://x:${token}@`);
  const bump = (round: number) => kubectl(['-n', id, 'patch', 'configmap', 'state', '-p', JSON.stringify({ data: { round: String(round) } })]);

  beforeAll(async () => {
    server = await startGitServer({ root, token });
    server.createBareRepo('fleet.git');
    const client = adminClient();
    await ensureNamespace(client, id);
    await createMany(client, `/api/v1/namespaces/${id}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state' }, data: { round: '0' } }]);
    writeFileSync(config, [`repo: ${repo}`, `remote: {url: ${server.repoUrl('fleet.git')}, branch: main, allowInsecureHttp: true}`,
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${id}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
  });
  afterAll(() => server?.close());

  it('a local commit on top of the remote head is pushed as is, with kubetrail\'s next commit on top', async () => {
    const first = await sync();
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(repo, 'NOTES.md'), 'written by a person\n');
    git(repo, ['add', 'NOTES.md']);
    git(repo, [...person, 'commit', '-q', '-m', 'notes beside the clusters']);
    const mine = git(repo, ['rev-parse', 'HEAD']).trim();
    bump(1);

    const run = await sync();
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout).results[0].commit).toMatch(/^[0-9a-f]{40}$/);

    const clone = join(tempDir('verify'), 'fleet');
    git(work, ['clone', '-q', authUrl(), clone]);
    expect(git(clone, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(git(clone, ['log', '--format=%H %an %s']).trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^[0-9a-f]{40} kubetrail ${id}: \\+0 ~1 -0$`)),
      `${mine} Person notes beside the clusters`, // the person's commit itself, not a re-made copy
      expect.stringMatching(new RegExp(`^[0-9a-f]{40} kubetrail ${id}: \\+1 ~0 -0$`)),
    ]);
    expect(git(clone, ['show', 'HEAD:NOTES.md'])).toBe('written by a person\n');
    expect(git(repo, ['status', '--porcelain'])).toBe('');

    const again = await sync(); // nothing changed: nothing is re-made, the head stays
    expect(again.code, again.stderr).toBe(0);
    expect(git(repo, ['rev-parse', 'HEAD']).trim()).toBe(git(clone, ['rev-parse', 'HEAD']).trim());
  }, 180_000);

  it('when the remote moved meanwhile, the error says to pull with git and rerun', async () => {
    const theirs = join(tempDir('theirs'), 'fleet');
    git(work, ['clone', '-q', authUrl(), theirs]);
    writeFileSync(join(theirs, 'OTHER.md'), 'someone else\n');
    git(theirs, ['add', 'OTHER.md']);
    git(theirs, [...person, 'commit', '-q', '-m', 'someone else pushed']);
    git(theirs, ['push', '-q', 'origin', 'HEAD:main']);

    writeFileSync(join(repo, 'NOTES.md'), 'edited again\n');
    git(repo, [...person, 'commit', '-q', '-am', 'more notes']);
    bump(2);
    const run = await sync();
    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n').filter((l) => l.includes('git pull --rebase --unshallow'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(repo);
    expect(lines[0]).toContain('then rerun kubetrail');

    // Doing what it says works (kubetrail fetched the moved head shallow, so git needs the history to rebase).
    git(repo, [...person, 'pull', '-q', '--rebase', '--unshallow', authUrl(), 'main']);
    const after = await sync();
    expect(after.stderr).toBe('');
    expect(after.code, after.stdout).toBe(0);
    const clone = join(tempDir('verify'), 'fleet');
    git(work, ['clone', '-q', authUrl(), clone]);
    expect(git(clone, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(git(clone, ['log', '--format=%s', '-3']).trim().split('\n')).toEqual([`${id}: +0 ~1 -0`, 'more notes', 'someone else pushed']);
  }, 180_000);
});
