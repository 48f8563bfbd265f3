// Merging packs, checked with the git CLI: after many small fetch-like packs (git's own, with deltas) the count
// stays bounded, every object reads (ObjectDatabase and `git cat-file`), `git fsck --full` is clean, held packs
// stay, and a kill at every step of a merge loses nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergePacks, packsToMerge, PACKS_LIMIT } from '../../src/store/maintenance.ts';
import { ObjectDatabase } from '../../src/store/object-db.ts';

const git = (dir: string, args: string[], input?: string) =>
  execFileSync('git', args, { cwd: dir, input, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'c', GIT_COMMITTER_EMAIL: 'c@x' };
const packNames = (gitdir: string) => readdirSync(join(gitdir, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).sort();
const allObjects = (dir: string) => git(dir, ['cat-file', '--batch-all-objects', '--batch-check']).split('\n').sort();

function repository(): { dir: string; gitdir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kt-merge-'));
  git(dir, ['init', '-q', '-b', 'main']);
  return { dir, gitdir: join(dir, '.git') };
}

/**
 * One round as a fetch leaves it: a commit changing `files` similar YAML files, its new objects in a pack of
 * their own with deltas between them (`git repack -d` packs only what is loose).
 */
function addPack(dir: string, round: number, files = 12): void {
  for (let f = 0; f < files; f++) {
    const lines = Array.from({ length: 60 }, (_, l) => `key${l}: ${l === round % 60 ? `round-${round}` : `value-${l}-${f}`}`);
    writeFileSync(join(dir, `cm-${f}.yaml`), `${lines.join('\n')}\n`);
  }
  execFileSync('git', ['add', '-A'], { cwd: dir });
  execFileSync('git', ['commit', '-q', '-m', `round ${round}`], { cwd: dir, env });
  git(dir, ['repack', '-dq']);
}

/** Every object git lists reads the same through the project's object database as through `git cat-file`. */
async function expectEveryObjectReads(dir: string, gitdir: string, db = new ObjectDatabase(gitdir)): Promise<void> {
  const oids = allObjects(dir).map((line) => line.split(' ')[0]);
  const batch = execFileSync('git', ['cat-file', '--batch'], { cwd: dir, input: oids.join('\n'), maxBuffer: 64 << 20 });
  let at = 0;
  for (const oid of oids) {
    const header = batch.toString('latin1', at, batch.indexOf(10, at)).split(' ');
    expect(header[0]).toBe(oid);
    const start = at + header.join(' ').length + 1;
    const expected = batch.subarray(start, start + Number(header[2]));
    at = start + expected.length + 1;
    expect((await db.read(oid)).equals(expected), oid).toBe(true);
  }
  expect(oids.length).toBeGreaterThan(10);
}

/** Runs mergePacks in a child that kills itself at `step` (src/store/failpoint.ts). */
function mergeKilledAt(gitdir: string, step: string, limit: number): void {
  const module = pathToFileURL(join(import.meta.dirname, '../../src/store/maintenance.ts')).href;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { mergePacks } from ${JSON.stringify(module)}; mergePacks(${JSON.stringify(gitdir)}, ${limit});`],
  { env: { ...process.env, KUBETRAIL_FAILPOINT: step }, encoding: 'utf8' });
  if (res.signal !== 'SIGKILL') throw new Error(`merge was not killed at ${step} (exit ${res.status}): ${res.stderr}`);
}

describe('choosing packs to merge', () => {
  it('merges none up to the limit, then the smallest back to half the limit', () => {
    expect(packsToMerge(Array(16).fill(10), 16)).toEqual([]);
    expect(packsToMerge([5, 1000, 1, 2, 3], 4)).toEqual([2, 3, 4, 0]); // 1+2+3 = 6 > 5/2: 5 joins; 1000 does not
    expect(packsToMerge([100_000, ...Array(16).fill(30)], 16)).toHaveLength(16); // the big one stays
  });

  it('takes a next pack under twice what is merged, as git repack --geometric=2 does', () => {
    // 9 of 10 are needed to come back to 8 packs (incl. the merged); 80 < 2 × 9 × 10 joins, 10,000 does not.
    expect(packsToMerge([...Array(16).fill(10), 80, 10_000], 16).sort((a, b) => a - b)).toEqual([...Array(17).keys()]);
  });
});

describe('merging packs', () => {
  it('keeps the pack count bounded over many fetch-like packs; every object reads, fsck clean', async () => {
    const { dir, gitdir } = repository();
    const counts: number[] = [];
    const db = new ObjectDatabase(gitdir); // a daemon's: it knew packs that merges removed since
    for (let round = 0; round < 40; round++) {
      addPack(dir, round);
      mergePacks(gitdir);
      counts.push(packNames(gitdir).length);
      if (round % 10 === 9) await expectEveryObjectReads(dir, gitdir, db);
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(PACKS_LIMIT);
    expect(counts.filter((c, i) => c < counts[i - 1]).length).toBeGreaterThan(0); // merges happened
    expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
    expect(git(dir, ['rev-list', '--count', 'main'])).toBe('40');
    await expectEveryObjectReads(dir, gitdir);
  }, 300_000); // 120 git commands on a loaded machine

  it('reads the same objects before and after, a pack held by .keep stays, too few packs stay as they are', async () => {
    const { dir, gitdir } = repository();
    for (let round = 0; round < 6; round++) addPack(dir, round);
    const before = allObjects(dir);
    const held = packNames(gitdir)[0].replace(/\.pack$/, '');
    writeFileSync(join(gitdir, 'objects', 'pack', `${held}.keep`), 'fetch in progress\n');
    expect(mergePacks(gitdir, 6)).toBe(0); // 5 mergeable packs: within the limit
    expect(mergePacks(gitdir, 2)).toBe(5);
    expect(packNames(gitdir)).toHaveLength(2);
    expect(packNames(gitdir)).toContain(`${held}.pack`);
    expect(allObjects(dir)).toEqual(before);
    expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
    await expectEveryObjectReads(dir, gitdir);
  }, 60_000);

  it('copies objects stored whole as they are, and stops at one whose bytes do not match its CRC, removing nothing', async () => {
    const { dir, gitdir } = repository();
    for (let round = 0; round < 5; round++) addPack(dir, round, 4 + round);
    const packs = packNames(gitdir);
    // A whole (not delta) object of the first pack, from `git verify-pack -v`: oid type size packed-size offset.
    const pack = join(gitdir, 'objects', 'pack', packs[0]);
    const whole = git(dir, ['verify-pack', '-v', pack.replace(/\.pack$/, '.idx')]).split('\n')
      .map((l) => l.split(/\s+/)).find((f) => f.length === 5 && /^[0-9a-f]{40}$/.test(f[0]) && Number(f[3]) > 12)!;
    const bytes = readFileSync(pack);
    const damaged = Buffer.from(bytes);
    damaged[Number(whole[4]) + Number(whole[3]) - 3] ^= 0xff; // inside its compressed data, before the Adler-32
    writeFileSync(pack, damaged);
    expect(() => mergePacks(gitdir, 2)).toThrow(`object ${whole[0]} does not match its CRC`);
    expect(packNames(gitdir)).toEqual(packs);
    writeFileSync(pack, bytes);
    const before = allObjects(dir);
    expect(mergePacks(gitdir, 2)).toBeGreaterThan(1);
    expect(allObjects(dir)).toEqual(before);
    expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
    await expectEveryObjectReads(dir, gitdir);
  }, 60_000);

  it('a merge killed at any step leaves every object readable; the next one completes', async () => {
    for (const step of ['merge-writing', 'pack-before-rename', 'pack-between-renames', 'merge-packed', 'merge-deleting', 'merge-deleting@3']) {
      const { dir, gitdir } = repository();
      // Different sizes, so the next merge lists the packs in the same order and writes the same pack again.
      for (let round = 0; round < 5; round++) addPack(dir, round, 4 + round);
      const before = allObjects(dir);
      mergeKilledAt(gitdir, step, 2);
      expect(allObjects(dir), step).toEqual(before);
      expect(git(dir, ['fsck', '--full', '--strict']), step).toBe('');
      mergePacks(gitdir, 2);
      expect(packNames(gitdir).length, step).toBeLessThanOrEqual(2);
      expect(allObjects(dir), step).toEqual(before);
      expect(git(dir, ['fsck', '--full', '--strict']), step).toBe('');
      await expectEveryObjectReads(dir, gitdir);
    }
  }, 180_000);
});
