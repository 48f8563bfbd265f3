// Reading objects one at a time from any pack, checked against the git CLI: packs git made (with deltas) and packs
// kubetrail made, read without isomorphic-git loading them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packLooseObjects } from '../../src/store/maintenance.ts';
import { parseCommit } from '../../src/store/codec.ts';
import { Repo } from '../../src/store/repo.ts';

const run = (dir: string, args: string[], input?: string) => execFileSync('git', args, { cwd: dir, input, encoding: 'utf8', maxBuffer: 64 << 20 });
const env = { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'c', GIT_COMMITTER_EMAIL: 'c@x' };

/** A repository with 30 commits of slowly changing files: git's packs of it are full of deltas. */
function history(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-packread-'));
  run(dir, ['init', '-q', '-b', 'main']);
  for (let i = 0; i < 30; i++) {
    for (let f = 0; f < 5; f++) writeFileSync(join(dir, `f${f}.yaml`), `${'line: same\n'.repeat(200)}step: ${i}\nfile: ${f}\n`);
    execFileSync('git', ['add', '-A'], { cwd: dir });
    execFileSync('git', ['commit', '-q', '-m', `step ${i}\r\n\r\nbody ${i}\n\n`], { cwd: dir, env: { ...process.env, ...env, GIT_AUTHOR_DATE: `${1_700_000_000 + i} +0530` } });
  }
  return dir;
}

/** Every object of the repository as `oid type`. */
const allObjects = (dir: string) => run(dir, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)']).trim().split('\n').map((l) => l.split(' '));

async function expectAllReadable(dir: string): Promise<Repo> {
  const repo = await Repo.open(dir);
  for (const [oid, type] of allObjects(dir)) {
    if (type === 'blob') expect(Buffer.from(await repo.readBlob(oid)).toString()).toBe(run(dir, ['cat-file', 'blob', oid]));
    if (type === 'tree') expect((await repo.readTree(oid)).map((e) => e.oid)).toEqual(run(dir, ['ls-tree', oid]).trim().split('\n').map((l) => l.split(/\s/)[2]));
    if (type === 'commit') {
      const c = await repo.readCommit(oid);
      const { commit } = await git.readCommit({ fs, gitdir: join(dir, '.git'), oid });
      expect(c).toEqual({ oid, tree: commit.tree, parents: commit.parent, message: commit.message, author: commit.author, committer: commit.committer });
    }
  }
  return repo;
}

describe('reading packs an object at a time', () => {
  it('reads every object of a pack git made with deltas, without isomorphic-git loading the pack', async () => {
    const dir = history();
    run(dir, ['repack', '-a', '-d', '-f', '-q']);
    expect(run(dir, ['count-objects', '-v'])).toMatch(/^count: 0$/m);
    expect(run(dir, ['verify-pack', '-v', ...fs.readdirSync(join(dir, '.git/objects/pack')).filter((f) => f.endsWith('.idx')).map((f) => join(dir, '.git/objects/pack', f))]))
      .toMatch(/chain length = 1: \d+ objects?/); // there are deltas
    const repo = await expectAllReadable(dir);
    expect(Reflect.ownKeys(repo.cache)).toEqual([]); // isomorphic-git keeps loaded packs in this cache
  });

  it('reads a pack kubetrail made without isomorphic-git loading any pack', async () => {
    const dir = history();
    expect(packLooseObjects(join(dir, '.git'), 0)).toBe(allObjects(dir).length);
    expect(run(dir, ['fsck', '--strict'])).toBe('');
    const repo = await expectAllReadable(dir);
    expect(Reflect.ownKeys(repo.cache)).toEqual([]); // isomorphic-git keeps loaded packs in this cache
  });

  it('parses commits as isomorphic-git does: parents by position, continued headers, time zones, CRLF', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-commit-'));
    run(dir, ['init', '-q']);
    const tree = run(dir, ['mktree'], '').trim();
    const commits = [
      `tree ${tree}\nauthor Ann Lee <ann@x> 1700000000 -0800\ncommitter C <c@x> 1700000001 +0000\n\nsubject\n\nbody\n`,
      `tree ${tree}\nparent ${'1'.repeat(40)}\nparent ${'2'.repeat(40)}\nauthor A <a@x> 1700000000 +0000\ncommitter C <c@x> 1 +0000\n` +
        `gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\n\n\r\nmessage\r\n\n\n`,
      `tree ${tree}\nparent ${'3'.repeat(40)}\nauthor A <a@x> 5 +0530\ncommitter C <c@x> 5 +0530\nparent ${'4'.repeat(40)}\n\nx`,
    ];
    for (const text of commits) {
      const oid = run(dir, ['hash-object', '-t', 'commit', '-w', '--literally', '--stdin'], text).trim();
      const { commit } = await git.readCommit({ fs, gitdir: join(dir, '.git'), oid });
      expect(parseCommit(Buffer.from(text))).toEqual({ tree: commit.tree, parents: commit.parent, author: commit.author, committer: commit.committer, message: commit.message });
    }
  });
});
