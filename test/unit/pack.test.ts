// The pack a large batch writes must be one git reads, and reading it back must give every object's bytes,
// in any order, whatever its size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectWriter } from '../../src/store/loose.ts';
import { ObjectBatch, type WrittenPack } from '../../src/store/pack.ts';

const git = (dir: string, args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

// Deterministic, poorly compressible bytes, so large objects stay large in the pack.
function noise(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe('pack files', () => {
  it('git reads every object of a batch pack, and the pack reads back the same bytes in any order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-pack-'));
    git(dir, ['init', '-q']);
    const gitdir = join(dir, '.git');
    let pack: WrittenPack | undefined;
    const batch = new ObjectBatch(gitdir, new ObjectWriter(gitdir), (p) => { pack = p; });
    // Small YAML-like objects (many per read window), ones larger than the window, and one over 1 MiB.
    const contents: Buffer[] = Array.from({ length: 400 }, (_, i) => Buffer.from(`kind: ConfigMap\nname: c-${i}\n${'data: x\n'.repeat(i % 50)}`));
    contents.push(noise(70_000, 1), noise(200_000, 2), noise(1_500_000, 3), Buffer.alloc(0));
    const oids = contents.map((c) => batch.write('blob', c));
    batch.finish();
    expect(pack).toBeDefined();

    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe(''); // nothing refers to them yet
    expect(git(dir, ['count-objects', '-v'])).toMatch(/in-pack: 304/); // the first 100 stay loose
    const checked = execFileSync('git', ['cat-file', '--batch-check'], { cwd: dir, input: oids.join('\n'), encoding: 'utf8' });
    expect(checked.trim().split('\n')).toEqual(oids.map((oid, i) => `${oid} blob ${contents[i].length}`));
    expect(execFileSync('git', ['cat-file', 'blob', oids[402]], { cwd: dir, maxBuffer: 4 << 20 }).equals(contents[402])).toBe(true);

    const order = oids.map((_, i) => i).slice(100);
    for (const indexes of [order, [...order].reverse(), order.map((_, k) => order[(k * 37) % order.length])]) {
      for (const i of indexes) expect(pack!.read(oids[i])?.equals(contents[i]), `object ${i}`).toBe(true);
    }
    expect(pack!.read('0'.repeat(40))).toBeUndefined();
    pack!.close();
  });
});
