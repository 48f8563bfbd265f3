// refs.ts against the real git CLI: what kubetrail writes git reads, and packed refs are deleted too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLockedError } from '../../src/store/atomic-write.ts';
import { BranchMovedError, deleteRef, readRef, swapRef, writeRef } from '../../src/store/refs.ts';

const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

function repoWithCommits(): { dir: string; gitdir: string; a: string; b: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kt-refs-'));
  git(dir, ['init', '-q', '-b', 'main']);
  const commit = (m: string) => (git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', m]), git(dir, ['rev-parse', 'HEAD']));
  return { dir, gitdir: join(dir, '.git'), a: commit('a'), b: commit('b') };
}

describe('refs', () => {
  it('a written ref is what git reads; no lock file is left', async () => {
    const { dir, gitdir, a } = repoWithCommits();
    await writeRef(gitdir, 'refs/kubetrail/remote-head', a);
    expect(git(dir, ['rev-parse', 'refs/kubetrail/remote-head'])).toBe(a);
    expect(await readRef(gitdir, 'refs/kubetrail/remote-head')).toBe(a);
    expect(existsSync(join(gitdir, 'refs/kubetrail/remote-head.lock'))).toBe(false);
  });

  it('deletes a ref that `git pack-refs` packed, so it does not come back', async () => {
    const { dir, gitdir, a } = repoWithCommits();
    await writeRef(gitdir, 'refs/kubetrail/remote-head', a);
    git(dir, ['pack-refs', '--all']);
    expect(existsSync(join(gitdir, 'refs/kubetrail/remote-head'))).toBe(false);
    await deleteRef(gitdir, 'refs/kubetrail/remote-head');
    expect(await readRef(gitdir, 'refs/kubetrail/remote-head')).toBeUndefined();
    expect(git(dir, ['for-each-ref', 'refs/kubetrail'])).toBe('');
    expect(git(dir, ['rev-parse', 'main'])).not.toBe(''); // other packed refs stay
  });

  it('swaps only from the expected value', async () => {
    const { gitdir, a, b } = repoWithCommits();
    await expect(swapRef(gitdir, 'refs/heads/main', a, a)).rejects.toThrow(BranchMovedError);
    await expect(swapRef(gitdir, 'refs/heads/main', a, a)).rejects.toThrow(`branch main moved from ${a} to ${b}`);
    await swapRef(gitdir, 'refs/heads/main', b, a);
    expect(await readRef(gitdir, 'refs/heads/main')).toBe(a);
  });

  it("waits for git's lock on the ref, then fails naming it", async () => {
    const { gitdir, a } = repoWithCommits();
    writeFileSync(join(gitdir, 'refs/heads/main.lock'), '');
    await expect(writeRef(gitdir, 'refs/heads/main', a)).rejects.toThrow(FileLockedError);
  }, 30_000);
});
