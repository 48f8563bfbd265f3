// kubetrail and a person using the git CLI in one repository, pushing to one smart-HTTP remote: the person's
// submodule, symlink, executable and Latin-1 file name stay byte-exact, their index (version 4, skip-worktree,
// intent-to-add) survives, a commit they make while a sync runs lands too, and after every run (replayed pushes
// included) the working tree and index match HEAD.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, git, kubectl, runCli, runtime, tempDir, testenv } from '../helpers/testenv.ts';

const token = `neighbours-token-${runtime}`;
const gitRaw = (dir: string, args: string[]) => execFileSync('git', ['-c', 'protocol.file.allow=always', ...args], { cwd: dir });
/** Every entry outside clusters/, as git lists it (mode, type, id, name bytes). */
const neighbours = (dir: string) => gitRaw(dir, ['ls-tree', '-r', '-z', 'HEAD']).toString('latin1').split('\0').filter((e) => e && !e.includes('\tclusters/'));
const indexVersion = (dir: string) => readFileSync(join(dir, '.git/index')).readUInt32BE(4);

describe(`kubetrail next to a person's git CLI (${runtime})`, () => {
  let server: GitServer;
  const work = tempDir('neighbours');
  const person = join(work, 'person');
  const other = join(work, 'other');
  const [nsA, nsB] = [`nb-a-${runtime}`, `nb-b-${runtime}`];
  const cfg = (name: string, repo: string, id: string, ns: string) => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, [`repo: ${repo}`, `remote: {url: ${server.repoUrl('shared.git')}, branch: main, allowInsecureHttp: true}`, 'clusters:', `  - id: ${id}`,
      `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    return file;
  };
  const sync = (file: string) => runCli(['sync', '--config', file, '--push', '--json'], { env: { KUBETRAIL_GIT_TOKEN: token } });

  beforeAll(async () => {
    server = await startGitServer({ root: tempDir('neighbours-remote'), token });
    server.createBareRepo('shared.git');
    const client = adminClient();
    for (const ns of [nsA, nsB]) {
      await ensureNamespace(client, ns);
      await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: 5 }, (_, i) => ({
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` }, data: { round: '0' },
      })));
    }
    // The person's repository: a submodule, a symlink, an executable script and a Latin-1 file name.
    const lib = join(work, 'lib');
    for (const dir of [lib, person]) {
      gitRaw(work, ['init', '-q', '-b', 'main', dir]);
      gitRaw(dir, ['config', 'user.name', 'Person']);
      gitRaw(dir, ['config', 'user.email', 'person@example.com']);
      writeFileSync(join(dir, 'README.md'), 'hello\n');
      gitRaw(dir, ['add', '.']);
      gitRaw(dir, ['commit', '-q', '-m', 'start']);
    }
    gitRaw(person, ['submodule', 'add', '-q', lib, 'vendor/lib']);
    symlinkSync('README.md', join(person, 'link'));
    writeFileSync(join(person, 'deploy.sh'), '#!/bin/sh\necho deploy\n');
    chmodSync(join(person, 'deploy.sh'), 0o755);
    // A CLI under Deno 2 cannot create a file whose name is not UTF-8 (its node:fs decodes Buffer paths).
    if (runtime === 'node') writeFileSync(Buffer.concat([Buffer.from(`${person}/r`), Buffer.from([0xe9]), Buffer.from('sum\xe9.txt', 'latin1')]), 'latin-1 name\n');
    writeFileSync(join(person, 'notes.txt'), 'notes\n');
    gitRaw(person, ['add', '-A']);
    gitRaw(person, ['commit', '-q', '-m', 'neighbours']);
    gitRaw(person, ['push', '-q', server.repoUrl('shared.git').replace('http://', `http://x:${token}@`), 'main']);
    // feature.manyFiles-style index: version 4; a skip-worktree entry and an intent-to-add one (version 3 flags).
    gitRaw(person, ['update-index', '--index-version', '4']);
    gitRaw(person, ['update-index', '--skip-worktree', 'notes.txt']);
    writeFileSync(join(person, 'todo.txt'), 'todo\n');
    gitRaw(person, ['add', '-N', 'todo.txt']);
  });
  afterAll(() => server?.close());

  it('keeps their entries byte-exact and their index, across syncs and replayed pushes; working tree and index match HEAD', async () => {
    const before = neighbours(person);
    expect(before).toContainEqual(expect.stringMatching(/^160000 commit [0-9a-f]{40}\tvendor\/lib$/));
    expect(before).toContainEqual(expect.stringMatching(/^120000 blob [0-9a-f]{40}\tlink$/));
    expect(before).toContainEqual(expect.stringMatching(/^100755 blob [0-9a-f]{40}\tdeploy\.sh$/));
    if (runtime === 'node') expect(before).toContainEqual(expect.stringMatching(/^100644 blob [0-9a-f]{40}\tr\xe9sum\xe9\.txt$/));
    const a = cfg('a', person, 'ga', nsA);
    const b = cfg('b', other, 'gb', nsB);
    let replayed = 0;
    for (let round = 1; round <= 4; round++) {
      for (const ns of [nsA, nsB]) kubectl(['-n', ns, 'patch', 'configmap', `c${round % 5}`, '-p', JSON.stringify({ data: { round: String(round) } })]);
      const runs = await Promise.all([sync(a), sync(b)]); // racing pushes: one is rejected and replayed
      for (const run of runs) expect(run.code, `round ${round}: ${run.stdout} ${run.stderr}`).toBe(0);
      replayed += runs.reduce((n, run) => n + JSON.parse(run.stdout).push.replayed, 0);

      expect(neighbours(person)).toEqual(before);
      expect(indexVersion(person)).toBe(4);
      expect(git(person, ['status', '--porcelain'])).toBe(' A todo.txt\n'); // only the person's intent-to-add
      expect(git(person, ['ls-files', '-v', 'notes.txt'])).toBe('S notes.txt\n');
      expect(git(person, ['diff', '--cached', '--stat'])).toBe('');
      expect(git(other, ['status', '--porcelain'])).toBe('');
      expect(git(other, ['diff', '--cached', '--stat'])).toBe('');
      expect(git(person, ['fsck', '--strict', '--no-dangling'])).toBe('');
    }
    expect(replayed).toBeGreaterThan(0); // some run's push was replayed on the other's head, and its checkout followed
    // Both clusters' latest files are checked out in both repositories.
    for (const dir of [person, other]) expect(git(dir, ['ls-files', 'clusters']).trim().split('\n')).toHaveLength(10);
    const clone = join(tempDir('neighbours-clone'), 'c');
    git(work, ['clone', '-q', server.repoUrl('shared.git').replace('http://', `http://x:${token}@`), clone]);
    expect(neighbours(clone)).toEqual(before);
    expect(git(clone, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('a commit the person makes while a sync runs and the sync both land', async () => {
    // Without a remote: re-applying a person's commits on a moved remote head is the push's business (remote.ts).
    const local = join(work, 'local.yaml');
    writeFileSync(local, [`repo: ${person}`, 'clusters:', '  - id: ga', `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    namespaces: [${nsA}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    kubectl(['-n', nsA, 'patch', 'configmap', 'c0', '-p', JSON.stringify({ data: { round: 'concurrent' } })]);
    const running = runCli(['sync', '--config', local, '--json']);
    let done = false;
    running.then(() => done = true, () => done = true);
    // The person commits again and again while the sync runs (git refuses while kubetrail holds a lock: retry).
    let commits = 0;
    let refused = 0;
    let staged = false; // an add that went through and its commit not yet: the person finishes it
    for (let i = 0; !done || commits === 0 || staged; i++) {
      writeFileSync(join(person, 'journal.txt'), `entry ${i}\n`);
      try {
        execFileSync('git', ['add', 'journal.txt'], { cwd: person, stdio: 'pipe' });
        staged = true;
        execFileSync('git', ['commit', '-q', '-m', `journal ${i}`], { cwd: person, stdio: 'pipe' });
        staged = false;
        commits++;
      } catch (e) {
        if (!/index\.lock|cannot lock ref/.test(String((e as { stderr?: Buffer }).stderr))) throw e;
        refused++;
      }
      await new Promise((r) => setTimeout(r, 50)); // let the sync's exit be noticed
    }
    const run = await running;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const subjects = git(person, ['log', '--format=%s', '-n', String(commits + 5)]);
    expect(subjects.match(/^journal \d+$/mg)).toHaveLength(commits);
    expect(subjects).toMatch(/^ga: \+0 ~1 -0$/m);
    expect(git(person, ['show', `HEAD:clusters/ga/core.v1.ConfigMap/${nsA}/c0.yaml`])).toContain('round: concurrent');
    expect(git(person, ['status', '--porcelain'])).toBe(' A todo.txt\n');
    expect(git(person, ['diff', '--cached', '--stat'])).toBe('');
    expect(git(person, ['fsck', '--strict', '--no-dangling'])).toBe('');
    console.log(`person: ${commits} commits during the sync, ${refused} refused by a kubetrail lock and retried`);
  });
});
