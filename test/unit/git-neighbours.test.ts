// kubetrail's store next to a person's git CLI in the same repository, checked with the real git: index versions
// 3 and 4, index and ref locks held by git, other top-level entries kept byte for byte.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Repo } from '../../src/store/repo.ts';
import { commitClusterTree } from '../../src/sync/sync.ts';

const git = (dir: string, args: string[]) => execFileSync('git', ['-c', 'protocol.file.allow=always', ...args], { cwd: dir, encoding: 'utf8' });
const gitBytes = (dir: string, args: string[]) => execFileSync('git', args, { cwd: dir });

/** A repository where a person committed a README and a notes file. */
function personsRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-neighbours-'));
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Person']);
  git(dir, ['config', 'user.email', 'person@example.com']);
  writeFileSync(join(dir, 'README.md'), 'hello\n');
  writeFileSync(join(dir, 'notes.txt'), 'notes\n');
  git(dir, ['add', '.']);
  git(dir, ['commit', '-q', '-m', 'person']);
  return dir;
}

/** One kubetrail commit of cluster `id` with `n` files, as a sync makes it. */
async function syncCommit(repo: Repo, id: string, n: number, version: string, before = new Map<string, string>()) {
  const files = new Map<string, string>();
  for (let i = 0; i < n; i++) files.set(`core.v1.ConfigMap/ns/c-${i}.yaml`, await repo.writer.write('blob', Buffer.from(`v: ${version}-${i}\n`)));
  const changed = [...new Set([...before.keys(), ...files.keys()])].filter((p) => before.get(p) !== files.get(p));
  const head = await repo.head();
  const tree = head ? await repo.entryAt((await repo.readCommit(head)).tree, `clusters/${id}`) : undefined;
  await commitClusterTree(repo, id, files, {
    message: `${id}\n`, author: { name: 'kubetrail', email: 'k@example.com' }, time: new Date(),
    previous: { files: before, tree, changed },
  });
  return files;
}

describe('the git index as a person left it', () => {
  for (const version of [3, 4]) {
    it(`keeps a version ${version} index with skip-worktree and intent-to-add entries`, async () => {
      const dir = personsRepo();
      if (version === 4) git(dir, ['update-index', '--index-version', '4']);
      git(dir, ['update-index', '--skip-worktree', 'notes.txt']); // extended flags: the index becomes version 3
      writeFileSync(join(dir, 'todo.txt'), 'todo\n');
      git(dir, ['add', '-N', 'todo.txt']);
      expect(readFileSync(join(dir, '.git/index')).readUInt32BE(4)).toBe(version);
      const repo = await Repo.open(dir);
      const first = await syncCommit(repo, 'a', 30, 'one');
      await syncCommit(repo, 'a', 31, 'two', first);

      expect(readFileSync(join(dir, '.git/index')).readUInt32BE(4)).toBe(version);
      expect(git(dir, ['status', '--porcelain'])).toBe(' A todo.txt\n'); // still intent-to-add; nothing else differs
      expect(git(dir, ['ls-files', '-v', 'notes.txt', 'todo.txt'])).toBe('S notes.txt\nH todo.txt\n'); // skip-worktree kept
      expect(git(dir, ['ls-files', 'clusters']).trim().split('\n')).toHaveLength(31);
      expect(git(dir, ['diff', '--cached', '--stat'])).toBe('');
      expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    });
  }

  it('refuses a split index before committing, naming what to change', async () => {
    const dir = personsRepo();
    git(dir, ['update-index', '--split-index']);
    const index = readFileSync(join(dir, '.git/index'));
    const head = git(dir, ['rev-parse', 'HEAD']);
    const repo = await Repo.open(dir);
    await expect(syncCommit(repo, 'a', 3, 'one')).rejects.toThrow(/split index.*git update-index --no-split-index/);
    expect(readFileSync(join(dir, '.git/index'))).toEqual(index);
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(head);
  });
});

describe('locks git holds', () => {
  it('waits for git\'s index.lock and never overwrites it; fails naming it when git keeps it', async () => {
    const dir = personsRepo();
    const repo = await Repo.open(dir);
    const lock = join(dir, '.git/index.lock');
    writeFileSync(lock, 'held by git');
    const started = Date.now();
    const waiting = syncCommit(repo, 'a', 3, 'one');
    await new Promise((r) => setTimeout(r, 1000));
    expect(readFileSync(lock, 'utf8')).toBe('held by git');
    execFileSync('rm', [lock]); // git finishes
    await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(git(dir, ['status', '--porcelain'])).toBe('');

    writeFileSync(lock, 'held by git');
    const failed = await syncCommit(repo, 'a', 4, 'two').catch((e: Error) => e);
    expect(String(failed)).toMatch(/index\.lock exists.*Another git process seems to be running/);
    expect(readFileSync(lock, 'utf8')).toBe('held by git');
  }, 30_000);

  it('takes over an index.lock that a killed kubetrail run left, and only that', async () => {
    const dir = personsRepo();
    const repo = await Repo.open(dir);
    const temp = join(dir, '.git/.index.kubetrail-999-dead');
    writeFileSync(temp, 'half an index');
    linkSync(temp, join(dir, '.git/index.lock')); // as a run killed while holding the lock leaves it
    await syncCommit(repo, 'a', 3, 'one');
    expect(existsSync(join(dir, '.git/index.lock'))).toBe(false);
    expect(readdirSync(join(dir, '.git')).filter((n) => n.includes('kubetrail-'))).toEqual([]);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('moves the branch under its lock: a commit git is making meanwhile is kept, the sync lands on top of it', async () => {
    const dir = personsRepo();
    const repo = await Repo.open(dir);
    // git commit's ref update: refs/heads/main.lock holds the new commit until git renames it into place.
    const person = git(dir, ['commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'person again']).trim();
    const ref = join(dir, '.git/refs/heads/main');
    writeFileSync(`${ref}.lock`, `${person}\n`);
    const syncing = syncCommit(repo, 'a', 2, 'one');
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(`${ref}.lock`, 'utf8')).toBe(`${person}\n`); // waited for, not overwritten
    renameSync(`${ref}.lock`, ref);
    await syncing;
    expect(git(dir, ['log', '--format=%s']).trim().split('\n')).toEqual(['a', 'person again', 'person']);
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
});

describe('other content of the repository', () => {
  it('keeps a submodule, a symlink, an executable and a Latin-1 name byte for byte across syncs', async () => {
    const sub = personsRepo();
    const dir = personsRepo();
    git(dir, ['submodule', 'add', '-q', sub, 'vendor/sub']);
    symlinkSync('README.md', join(dir, 'link'));
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1\n');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'neighbours']);
    const listing = () => gitBytes(dir, ['ls-tree', '-r', '-z', 'HEAD']).toString('latin1').split('\0').filter((e) => !e.includes('\tclusters/'));
    const before = listing();
    expect(before).toContainEqual(expect.stringMatching(/^160000 commit [0-9a-f]{40}\tvendor\/sub$/));
    expect(before).toContainEqual(expect.stringMatching(/^120000 blob [0-9a-f]{40}\tlink$/));
    expect(before).toContainEqual(expect.stringMatching(/^100755 blob [0-9a-f]{40}\trun.sh$/));
    expect(before).toContainEqual(expect.stringMatching(/^100644 blob [0-9a-f]{40}\tcaf\xe9.txt$/));
    const repo = await Repo.open(dir);
    let files = await syncCommit(repo, 'a', 5, 'one');
    files = await syncCommit(repo, 'a', 6, 'two', files);
    await syncCommit(repo, 'b', 2, 'one');
    expect(listing()).toEqual(before);
    const root = (rev: string) => gitBytes(dir, ['ls-tree', '-z', rev]).toString('latin1').split('\0').filter((e) => !e.endsWith('\tclusters'));
    expect(root('HEAD')).toEqual(root('HEAD~3')); // the root tree's other entries, modes and name bytes included
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });
});
