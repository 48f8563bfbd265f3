// Deltas in packs git made, read by the project's own pack reader and compared with `git cat-file`: offset deltas
// (git's default), reference deltas (repack.useDeltaBaseOffset=false), and long chains (--depth=50).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyDelta, IndexedPack, keptBases } from '../../src/store/pack-reader.ts';

const git = (dir: string, args: string[]) => execFileSync('git', args, { cwd: dir, maxBuffer: 256 << 20 });

/** 60 commits of YAML files that change a little each time, and one that grows: good delta material. */
function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-delta-'));
  git(dir, ['init', '-q', '-b', 'main']);
  const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'c', GIT_COMMITTER_EMAIL: 'c@x' };
  for (let i = 0; i < 60; i++) {
    for (let f = 0; f < 4; f++) {
      const lines = Array.from({ length: 300 }, (_, l) => `key${l}: ${l % 7 === f ? i : l}`);
      writeFileSync(join(dir, `cm-${f}.yaml`), `${lines.join('\n')}\n`);
    }
    writeFileSync(join(dir, 'log.txt'), Array.from({ length: i * 40 }, (_, l) => `entry ${l}`).join('\n'));
    execFileSync('git', ['add', '-A'], { cwd: dir });
    execFileSync('git', ['commit', '-q', '-m', `step ${i}`], { cwd: dir, env });
  }
  return dir;
}

function packOf(dir: string): { idx: string; deltas: number } {
  const packs = join(dir, '.git/objects/pack');
  const idx = join(packs, readdirSync(packs).find((f) => f.endsWith('.idx'))!);
  const verify = git(dir, ['verify-pack', '-v', idx]).toString();
  const deltas = verify.split('\n').filter((l) => /^[0-9a-f]{40} \w+ +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(l)).length;
  return { idx, deltas };
}

function expectEveryObjectAsGitReadsIt(dir: string): void {
  const { idx, deltas } = packOf(dir);
  expect(deltas).toBeGreaterThan(100); // the pack really is mostly deltas
  const pack = IndexedPack.open(idx)!;
  // Every object with its content, in one git call: `<oid> <type> <size>\n<content>\n` each.
  const all = git(dir, ['cat-file', '--batch-all-objects', '--batch']);
  let count = 0;
  for (let at = 0; at < all.length; count++) {
    const eol = all.indexOf(10, at);
    const [oid, , size] = all.toString('latin1', at, eol).split(' ');
    const content = all.subarray(eol + 1, eol + 1 + Number(size));
    expect(pack.read(Buffer.from(oid, 'hex')), oid).toEqual(content);
    at = eol + 1 + Number(size) + 1;
  }
  expect(count).toBeGreaterThan(400);
  pack.close();
}

describe('pack deltas', { timeout: 120_000 }, () => {
  it('reads offset deltas of git repack -adf, chains up to 50 deep', () => {
    const dir = repository();
    git(dir, ['-c', 'pack.window=10', 'repack', '-adf', '-q', '--depth=50']);
    expect(git(dir, ['verify-pack', '-v', packOf(dir).idx]).toString()).toMatch(/chain length = (1\d|[2-5]\d): \d+ object/);
    expectEveryObjectAsGitReadsIt(dir);
  });

  it('a damaged base fails the deltas on it once, where it is (not once per attempt at each level of its chain)', () => {
    const dir = repository();
    // verify-pack -v: `oid type size size-in-pack offset [depth base]`; the deepest delta and the root of its chain.
    // How deep git's chains get varies from run to run (8-19 seen): the windows are tried until one is deep enough
    // for retries at every level (2^depth reads) to exceed the time bound below.
    let idx = '';
    let entries = new Map<string, { inPack: number; offset: number; depth: number; base?: string }>();
    let deepest: [string, { depth: number }] = ['', { depth: 0 }];
    for (const window of [10, 3, 5, 2, 20, 4, 6, 8]) {
      git(dir, ['-c', `pack.window=${window}`, 'repack', '-adf', '-q', '--depth=50']);
      idx = packOf(dir).idx;
      entries = new Map(git(dir, ['verify-pack', '-v', idx]).toString().split('\n').filter((l) => /^[0-9a-f]{40} /.test(l))
        .map((l) => l.split(/\s+/)).map(([oid, , , inPack, offset, depth, base]) => [oid, { inPack: Number(inPack), offset: Number(offset), depth: Number(depth ?? 0), base }]));
      deepest = [...entries].reduce((a, b) => (b[1].depth > a[1].depth ? b : a));
      if (deepest[1].depth >= 14) break;
    }
    expect(deepest[1].depth).toBeGreaterThanOrEqual(14);
    let root = entries.get(deepest[0])!;
    while (root.base) root = entries.get(root.base)!;
    const pack = idx.replace(/\.idx$/, '.pack');
    const bytes = readFileSync(pack);
    bytes[root.offset + root.inPack - 2] ^= 0xff; // the root's zlib checksum
    writeFileSync(pack, bytes);
    const opened = IndexedPack.open(idx)!;
    const started = performance.now();
    expect(() => opened.read(Buffer.from(deepest[0], 'hex'))).toThrow(/check|invalid/i);
    // Not a benchmark: retrying at every level took ~100 s at depth 18 here (2^depth reads, ~6 s at 14), failing
    // once takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    opened.close();
  });

  it('keeps delta bases within their 1 MiB in memory, not in slabs of Node\'s buffer pool', () => {
    const dir = repository();
    git(dir, ['-c', 'pack.window=10', 'repack', '-adf', '-q', '--depth=50']);
    const pack = IndexedPack.open(packOf(dir).idx)!;
    const oids = git(dir, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).toString().trim().split('\n');
    const otherWork: Buffer[] = [];
    for (const oid of oids) {
      expect(pack.read(Buffer.from(oid, 'hex'))).toBeDefined();
      otherWork.push(Buffer.allocUnsafe(20 << 10)); // what the rest of a daemon allocates from the same pool meanwhile
    }
    pack.close();
    // A small base cut out of a 64 KiB pool slab kept the whole slab: memory beyond the bound, growing in a daemon.
    const kept = keptBases();
    expect(kept.bytes).toBeGreaterThan(100 << 10);
    expect(kept.memory).toBe(kept.bytes);
  });

  it('reads reference deltas (base named by id)', () => {
    const dir = repository();
    git(dir, ['-c', 'pack.window=10', '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-adf', '-q']);
    expectEveryObjectAsGitReadsIt(dir);
  });

  it('keeps at most 16 files open (a pack or its index) however many packs are read (a daemon gains one per fetch)', () => {
    const dir = repository();
    git(dir, ['repack', '-adq']);
    const { idx } = packOf(dir);
    const head = git(dir, ['rev-parse', 'HEAD:cm-0.yaml']).toString().trim();
    const packs = Array.from({ length: 20 }, () => IndexedPack.open(idx)!);
    for (const pack of packs) expect(pack.read(Buffer.from(head, 'hex'))).toEqual(git(dir, ['cat-file', 'blob', head]));
    const openFiles = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return [idx, idx.replace(/\.idx$/, '.pack')].includes(readlinkSync(`/proc/self/fd/${fd}`));
      } catch {
        return false;
      }
    }).length;
    expect(openFiles()).toBe(16);
    for (const pack of packs) expect(pack.read(Buffer.from(head, 'hex'))).toEqual(git(dir, ['cat-file', 'blob', head])); // reopened
    for (const pack of packs) pack.close();
    expect(openFiles()).toBe(0);
  });

  it('refuses a delta that does not fit its base', () => {
    const base = Buffer.from('hello world');
    // base size 11, result size 5, copy offset 6 length 5 → "world"
    expect(applyDelta(base, Buffer.from([11, 5, 0x91, 6, 5])).toString()).toBe('world');
    expect(() => applyDelta(Buffer.from('short'), Buffer.from([11, 5, 0x91, 6, 5]))).toThrow(/base of 11 bytes/);
    expect(() => applyDelta(base, Buffer.from([11, 5, 0x91, 8, 5]))).toThrow(/beyond/);
    expect(() => applyDelta(base, Buffer.from([11, 5, 0]))).toThrow(/reserved/);
  });
});
