// The pack a server sends is indexed by our own code: for packs git itself made (with deltas, offset and ref
// based), our index must be the one `git index-pack` writes, byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UploadPackResponse } from '../../src/store/fetch-pack.ts';
import { PackIndexer } from '../../src/store/pack-indexer.ts';
import { encodeIndex } from '../../src/store/pack.ts';

const git = (dir: string, args: string[], input?: string | Buffer) => execFileSync('git', ['-C', dir, ...args], { input, maxBuffer: 64 << 20 });

function indexPack(pack: Buffer, o: { cacheBytes?: number } = {}) {
  const indexer = new PackIndexer();
  indexer.add(pack);
  return indexer.finish(o).ids;
}

function parseUploadPackResponse(data: Buffer) {
  const pack: Buffer[] = [];
  const response = new UploadPackResponse((bytes) => pack.push(Buffer.from(bytes)));
  response.add(data);
  return { pack: Buffer.concat(pack), ...response.end() };
}

function repoWithHistory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-fetch-pack-'));
  git(dir, ['init', '-q']);
  for (let c = 0; c < 5; c++) {
    for (let f = 0; f < 40; f++) writeFileSync(join(dir, `f${f}.yaml`), `${Array.from({ length: 80 }, (_, l) => `key${l}: ${l === (c + f) % 80 ? `v${c}` : l}`).join('\n')}\n`);
    git(dir, ['add', '-A']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-qm', `c${c}`]);
  }
  return dir;
}

describe('indexing a received pack', () => {
  const dir = repoWithHistory();
  const objects = git(dir, ['rev-list', '--objects', 'HEAD']).toString().split('\n').filter(Boolean).map((l) => l.split(' ')[0]).join('\n');

  it.each([
    ['offset deltas', ['--delta-base-offset'], undefined], ['ref deltas', [], undefined],
    // Nothing kept: every base is made again from the pack, through its own chain.
    ['offset deltas, no cache', ['--delta-base-offset'], 0], ['ref deltas, no cache', [], 0],
  ] as const)('%s: the same index as git index-pack', (_, flags, cacheBytes) => {
    const out = mkdtempSync(join(tmpdir(), 'kt-fetch-pack-out-'));
    const name = git(dir, ['pack-objects', '-q', ...flags, '--window=10', '--depth=50', join(out, 'p')], objects).toString().trim();
    const pack = readFileSync(join(out, `p-${name}.pack`));
    const ours = encodeIndex(indexPack(pack, { cacheBytes }), pack.subarray(-20));
    expect(git(dir, ['verify-pack', '-v', join(out, `p-${name}.pack`)]).toString()).toMatch(/chain length = [1-9]/); // deltas are in it
    expect(ours.equals(readFileSync(join(out, `p-${name}.idx`)))).toBe(true);
  });

  it('a pack indexed as it arrives, in pieces of any size, gets the same index; cut short, it is refused', () => {
    const out = mkdtempSync(join(tmpdir(), 'kt-fetch-pack-pieces-'));
    const name = git(dir, ['pack-objects', '-q', '--delta-base-offset', '--window=10', join(out, 'p')], objects).toString().trim();
    const pack = readFileSync(join(out, `p-${name}.pack`));
    const expected = readFileSync(join(out, `p-${name}.idx`));
    for (const piece of [1, 7, 100, 4096, 65536]) {
      const indexer = new PackIndexer();
      for (let at = 0; at < pack.length; at += piece) indexer.add(pack.subarray(at, at + piece));
      const { pack: received, ids } = indexer.finish();
      expect(received.equals(pack)).toBe(true);
      expect(encodeIndex(ids, pack.subarray(-20)).equals(expected), `pieces of ${piece} bytes`).toBe(true);
    }
    for (const cut of [5, 12, Math.floor(pack.length / 2), pack.length - 21, pack.length - 1]) {
      const indexer = new PackIndexer();
      indexer.add(pack.subarray(0, cut));
      expect(() => indexer.finish(), `cut at ${cut}`).toThrow();
    }
  });

  it('a damaged pack is refused', () => {
    const out = mkdtempSync(join(tmpdir(), 'kt-fetch-pack-bad-'));
    const name = git(dir, ['pack-objects', '-q', join(out, 'p')], objects).toString().trim();
    const pack = readFileSync(join(out, `p-${name}.pack`));
    pack[pack.length - 30] ^= 0xff;
    expect(() => indexPack(pack)).toThrow();
  });

  it('reads the shallow update, skips NAK, takes side band 1, fails on band 3', () => {
    const pkt = (b: Buffer | string) => { const x = Buffer.from(b); return Buffer.concat([Buffer.from((x.length + 4).toString(16).padStart(4, '0')), x]); };
    const A = 'a'.repeat(40);
    const res = parseUploadPackResponse(Buffer.concat([pkt(`shallow ${A}\n`), pkt(`unshallow ${'b'.repeat(40)}\n`), Buffer.from('0000'), pkt('NAK\n'),
      pkt(Buffer.concat([Buffer.from([2]), Buffer.from('progress')])), pkt(Buffer.concat([Buffer.from([1]), Buffer.from('PACK')])), pkt(Buffer.concat([Buffer.from([1]), Buffer.from('rest')])), Buffer.from('0000')]));
    expect(res).toEqual({ pack: Buffer.from('PACKrest'), shallowNow: [A], unshallow: new Set(['b'.repeat(40)]) });
    // Read as it arrives: pkt-lines split anywhere between chunks.
    const whole = Buffer.concat([pkt(`shallow ${A}\n`), Buffer.from('0000'), pkt('NAK\n'), pkt(Buffer.concat([Buffer.from([1]), Buffer.from('PACK')])), pkt(Buffer.concat([Buffer.from([1]), Buffer.from('rest')])), Buffer.from('0000')]);
    for (let piece = 1; piece < whole.length; piece += 3) {
      const pack: Buffer[] = [];
      const reader = new UploadPackResponse((b) => pack.push(Buffer.from(b)));
      for (let at = 0; at < whole.length; at += piece) reader.add(whole.subarray(at, at + piece));
      expect({ pack: Buffer.concat(pack), ...reader.end() }).toEqual({ pack: Buffer.from('PACKrest'), shallowNow: [A], unshallow: new Set() });
    }
    expect(() => parseUploadPackResponse(Buffer.concat([Buffer.from('0000'), pkt(Buffer.concat([Buffer.from([3]), Buffer.from('out of memory')]))]))).toThrow('out of memory');
  });
});
