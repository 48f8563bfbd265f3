// The pure parts of kubetrail's commit-graph: git's Bloom hashing (values from git's own t0095-bloom.sh and from
// filters git 2.x writes), and a layer's encoding read back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bloomKey, changedPathsFilter, murmur3, TOO_LARGE_FILTER } from '../../src/store/bloom.ts';
import { encodeLayer, GraphLayer, InvalidGraphError, type LayerRow } from '../../src/store/commit-graph-format.ts';

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const bytes = (s: string) => Buffer.from(s);

describe('Bloom hashing as git does it', () => {
  it('murmur3 gives the values of git t0095-bloom.sh', () => {
    expect(hex(murmur3(0, bytes('')))).toBe('0x00000000');
    expect(hex(murmur3(0, bytes('Hello world!')))).toBe('0x627b0c2c');
    expect(hex(murmur3(0, bytes('The quick brown fox jumps over the lazy dog')))).toBe('0x2e4ff723');
    expect(hex(murmur3(0, Buffer.from([0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]), 2))).toBe('0xa183ccfd');
  });

  it('keys and filters are those of git t0095-bloom.sh', () => {
    expect(bloomKey(bytes('Hello world!')).map(hex).join('|'))
      .toBe('0xb270de9b|0x1bb6f26e|0x84fd0641|0xee431a14|0x57892de7|0xc0cf41ba|0x2a15558d');
    // "get bloom filter for commit with 10 changes": smallDir/0..9 (smallDir itself is a key too)
    const files = Array.from({ length: 10 }, (_, i) => bytes(`smallDir/${i}`));
    expect(Buffer.from(changedPathsFilter(files)).toString('hex')).toBe('02b3c4a034e7feebcb47fea0e872');
  });

  it('a commit with no change has one zero byte; more than 512 paths, directories included, one byte all set', () => {
    expect([...changedPathsFilter([])]).toEqual([0]);
    expect(changedPathsFilter(Array.from({ length: 513 }, (_, i) => bytes(`f${i}`)))).toBe(TOO_LARGE_FILTER);
    // 300 files in 300 directories are 600 keys: too many, though the files alone are not
    expect(changedPathsFilter(Array.from({ length: 300 }, (_, i) => bytes(`d${i}/f`)))).toBe(TOO_LARGE_FILTER);
    expect(changedPathsFilter(Array.from({ length: 300 }, (_, i) => bytes(`d/f${i}`)))).not.toBe(TOO_LARGE_FILTER);
  });

  it('includes each leading directory of a changed file', () => {
    const filter = changedPathsFilter([bytes('clusters/prod-us/apps.v1.Deployment/shop/checkout.yaml')]);
    const contains = (path: string) => bloomKey(bytes(path)).every((h) => filter[(h % (filter.length * 8)) >>> 3] & (1 << (h % (filter.length * 8) & 7)));
    for (const dir of ['clusters', 'clusters/prod-us', 'clusters/prod-us/apps.v1.Deployment', 'clusters/prod-us/apps.v1.Deployment/shop']) expect(contains(dir)).toBe(true);
    expect(filter.length).toBe(7); // 5 keys × 10 bits
  });

  it('hashes a path with bytes >= 0x80 as the installed git writes it (version 1, signed chars)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-bloom-'));
    const git = (args: string[], input?: Buffer) => execFileSync('git', args, { cwd: dir, input, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git(['init', '-q']);
    const dirName = Buffer.concat([bytes('caf'), Buffer.from([0xc3, 0xa9])]);
    const fileName = Buffer.concat([bytes('men'), Buffer.from([0xc3, 0xbc]), bytes('.yaml')]);
    const name = Buffer.concat([dirName, bytes('/'), fileName]);
    const mktree = (entry: string, entryName: Buffer) => git(['mktree', '-z'], Buffer.concat([bytes(entry), entryName, Buffer.from([0])])).toString().trim();
    const blob = git(['hash-object', '-w', '--stdin'], bytes('x\n')).toString().trim();
    const tree = mktree(`040000 tree ${mktree(`100644 blob ${blob}\t`, fileName)}\t`, dirName);
    const commit = git(['commit-tree', tree, '-m', 'm']).toString().trim();
    git(['update-ref', 'refs/heads/main', commit]);
    git(['-c', 'commitGraph.changedPathsVersion=1', 'commit-graph', 'write', '--reachable', '--changed-paths']);
    const layer = new GraphLayer(readFileSync(join(dir, '.git/objects/info/commit-graph')));
    expect(layer.hasOurFilters).toBe(true); // git wrote version 1 (the BDAT header says so)
    const paths = [name, name.subarray(0, 5)];
    expect(Buffer.from(changedPathsFilter(paths)).toString('hex')).toBe(Buffer.from(layer.filter(0)!).toString('hex'));
    expect(Buffer.from(changedPathsFilter(paths, 2)).toString('hex')).not.toBe(Buffer.from(layer.filter(0)!).toString('hex'));
  });
});

describe('a commit-graph layer', () => {
  const oid = (n: number) => Buffer.from(n.toString(16).padStart(40, '0'), 'hex');
  const row = (n: number, parents: number[], extra: Partial<LayerRow> = {}): LayerRow =>
    ({ oid: oid(n), tree: oid(1000 + n), parents, date: 1_700_000_000 + n, level: 1, corrected: 1_700_000_000 + n, filter: Uint8Array.of(n), ...extra });

  it('reads back what it encodes: octopus parents, 34-bit dates, overflowing offsets, filters, bases', () => {
    const rows = [
      row(1, []), row(2, [5]), row(3, [5, 6, 7, 8], { level: 9 }),
      row(4, [6], { date: 2 ** 33 + 5, corrected: 2 ** 33 + 5 }), row(5, [6, 7], { corrected: 1_700_000_000 + 5 + 2 ** 31 }),
    ];
    const base = [oid(77), oid(88)];
    const layer = new GraphLayer(encodeLayer(rows, base, true), 5);
    expect(layer.checksumMatches()).toBe(true);
    expect(layer.count).toBe(5);
    expect(layer.baseHashes()).toEqual(base.map((b) => b.toString('hex')));
    expect(rows.map((r) => layer.find(r.oid))).toEqual([0, 1, 2, 3, 4]);
    expect(layer.find(oid(6))).toBe(-1);
    expect(rows.map((_, i) => layer.parents(i))).toEqual(rows.map((r) => r.parents));
    expect(rows.map((_, i) => layer.date(i))).toEqual(rows.map((r) => r.date));
    expect(rows.map((_, i) => layer.corrected(i))).toEqual(rows.map((r) => r.corrected));
    expect(layer.level(2)).toBe(9);
    expect(rows.map((_, i) => [...layer.filter(i)!])).toEqual(rows.map((r) => [...r.filter]));
    expect(layer.tree(3)).toEqual(oid(1004));
  });

  it('refuses a file that is not a layer, and a damaged one fails its checksum', () => {
    expect(() => new GraphLayer(Buffer.from('not a commit graph at all, really not'))).toThrow(InvalidGraphError);
    const bytes = encodeLayer([row(1, [])], [], true);
    bytes[bytes.length - 30] ^= 1;
    expect(new GraphLayer(bytes).checksumMatches()).toBe(false);
  });
});
