// Our object encoding must agree byte for byte with the git CLI's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTree, objectId, parseTree } from '../../src/store/codec.ts';
import { ObjectWriter } from '../../src/store/loose.ts';
import { Repo } from '../../src/store/repo.ts';
import { applyToWorktree } from '../../src/store/worktree.ts';

const gitIn = (dir: string, args: string[], input?: string) => execFileSync('git', args, { cwd: dir, input, encoding: 'utf8' }).trim();

describe('git objects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-objects-'));
  gitIn(dir, ['init', '-q']);

  it('hashes blobs like git hash-object', () => {
    expect(objectId('blob', Buffer.from('hello\n'))).toBe(gitIn(dir, ['hash-object', '--stdin'], 'hello\n'));
  });

  it('writes loose objects git can read, and trees in git order', async () => {
    const w = new ObjectWriter(join(dir, '.git'));
    const stats = { written: 0 };
    const a = await w.write('blob', Buffer.from('a\n'), undefined, stats);
    const b = await w.write('blob', Buffer.from('b\n'), undefined, stats);
    await w.write('blob', Buffer.from('a\n'), undefined, stats);
    expect(stats.written).toBe(2);
    const sub = await w.write('tree', encodeTree([{ mode: '100644', name: 'x.yaml', oid: a }]));
    // "foo" (tree) sorts after "foo.yaml" in git because trees compare as "foo/".
    const root = await w.write('tree', encodeTree([
      { mode: '040000', name: 'foo', oid: sub }, { mode: '100644', name: 'foo.yaml', oid: b }, { mode: '100644', name: 'a:b', oid: a },
    ]));
    const mktree = gitIn(dir, ['mktree'], `100644 blob ${b}\tfoo.yaml\n040000 tree ${sub}\tfoo\n100644 blob ${a}\ta:b\n`);
    expect(root).toBe(mktree);
    expect(gitIn(dir, ['cat-file', '-p', `${root}:foo/x.yaml`])).toBe('a');
    expect(gitIn(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(parseTree(encodeTree([{ mode: '040000', name: 'foo', oid: sub }, { mode: '100644', name: 'a:b', oid: a }]))).toEqual([
      { mode: '100644', path: 'a:b', oid: a, type: 'blob' }, { mode: '040000', path: 'foo', oid: sub, type: 'tree' },
    ]);
  });
});

describe('object batches', () => {
  it('writes the first 100 new objects loose and the rest into one pack that git verifies and reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-pack-'));
    gitIn(dir, ['init', '-q']);
    const repo = await Repo.open(dir);
    const batch = repo.objectBatch();
    const stats = { written: 0 };
    const contents = Array.from({ length: 1500 }, (_, i) => Buffer.from(`object ${i}\n${'x'.repeat(i)}\n`));
    const oids = contents.map((c) => batch.write('blob', c, undefined, stats));
    batch.write('blob', contents[700], undefined, stats); // again: not stored twice
    expect(stats.written).toBe(1500);
    batch.finish();

    const packs = readdirSync(join(dir, '.git/objects/pack'));
    expect(packs.filter((f) => f.endsWith('.idx'))).toHaveLength(1);
    const idx = join(dir, '.git/objects/pack', packs.find((f) => f.endsWith('.idx'))!);
    const verified = gitIn(dir, ['verify-pack', '-v', idx]);
    expect(verified).toMatch(/non delta: 1400 objects/);
    expect(gitIn(dir, ['count-objects', '-v'])).toMatch(/^count: 100$[\s\S]*^in-pack: 1400$/m);
    for (const i of [0, 99, 100, 777, 1499]) {
      expect(gitIn(dir, ['cat-file', '-p', oids[i]])).toBe(contents[i].toString().trim());
      expect(Buffer.from(await repo.readBlob(oids[i]))).toEqual(contents[i]); // from the pack just written
      expect(Buffer.from(await (await Repo.open(dir)).readBlob(oids[i]))).toEqual(contents[i]); // through isomorphic-git
    }
    const tree = await repo.writeTreeFromFiles(new Map(oids.map((oid, i) => [`d${i % 7}/f${i}.yaml`, oid])));
    const commit = await repo.writeCommit({ tree: tree!, parents: [], author: { name: 't', email: 't@x', timestamp: 0 }, message: 'm\n' });
    await repo.updateBranch(undefined, commit);
    expect(gitIn(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('leaves nothing behind when aborted, and removes temp files of killed runs but never git\'s own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-pack-'));
    gitIn(dir, ['init', '-q']);
    const repo = await Repo.open(dir);
    const batch = repo.objectBatch();
    for (let i = 0; i < 300; i++) batch.write('blob', Buffer.from(`o${i}`));
    const packDir = join(dir, '.git/objects/pack');
    expect(readdirSync(packDir).some((f) => f.startsWith('tmp_pack'))).toBe(true);
    batch.abort();
    expect(readdirSync(packDir)).toEqual([]);
    writeFileSync(join(packDir, 'tmp_pack_kubetrail_1_0_dead'), 'partial'); // as a kill -9 of pid 1 would leave them
    const orphan = join(packDir, `pack-${'1'.repeat(40)}.pack`); // killed between the pack's rename and its index's
    writeFileSync(orphan, 'PACK');
    utimesSync(orphan, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(join(packDir, `pack-${'2'.repeat(40)}.pack`), 'PACK'); // git's fetch, about to rename its index
    const oid = objectId('blob', Buffer.from('x'));
    const fanout = join(dir, '.git/objects', oid.slice(0, 2));
    mkdirSync(fanout, { recursive: true });
    const killed = join(fanout, 'tmp_obj_kubetrail_1_dead_0'); // a kubetrail write killed a minute ago
    writeFileSync(killed, '');
    utimesSync(killed, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(join(fanout, 'tmp_obj_kubetrail_7_live_0'), ''); // recent: maybe a write in progress
    writeFileSync(join(fanout, 'tmp_obj_AbC123'), ''); // git's own, of a `git add` running now
    utimesSync(join(fanout, 'tmp_obj_AbC123'), new Date(0), new Date(0));
    const rootTemp = join(dir, '.git/objects', 'tmp_obj_kubetrail_1_dead_7'); // where writes go now
    writeFileSync(rootTemp, 'deflated object, killed before its rename');
    utimesSync(rootTemp, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const next = repo.objectBatch();
    expect(readdirSync(join(dir, '.git/objects')).filter((n) => n.startsWith('tmp_'))).toEqual([]);
    expect(readdirSync(packDir)).toEqual([`pack-${'2'.repeat(40)}.pack`]);
    next.write('blob', Buffer.from('x'));
    next.abort();
    expect(readdirSync(fanout).filter((n) => n.startsWith('tmp_')).sort()).toEqual(['tmp_obj_AbC123', 'tmp_obj_kubetrail_7_live_0']);
    expect(readdirSync(fanout)).toContain(oid.slice(2));
  });
});

describe('trees from files', () => {
  it('reusing unchanged directories gives the same tree as building everything, for adds, changes and deletes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-tree-'));
    gitIn(dir, ['init', '-q']);
    const repo = await Repo.open(dir);
    const blob = (s: string) => repo.writer.write('blob', Buffer.from(s));
    const files = new Map<string, string>();
    for (let i = 0; i < 300; i++) files.set(`type${i % 3}.v1.K/ns${i % 7}/obj-${i}.yaml`, await blob(`v0 ${i}`));
    files.set('type0.v1.K/_cluster/x.yaml', await blob('x'));
    const baseTree = await repo.writeTreeFromFiles(files);

    const next = new Map(files);
    next.set('type1.v1.K/ns3/obj-10.yaml', await blob('changed'));
    next.set('type2.v1.K/ns-new/added.yaml', await blob('added'));
    next.set('type9.v1.K/ns0/new-type.yaml', await blob('new type'));
    for (const p of [...next.keys()].filter((p) => p.startsWith('type0.v1.K/ns5/'))) next.delete(p); // a whole directory goes
    next.delete('type2.v1.K/ns1/obj-8.yaml');
    const changed = [...new Set([...files.keys(), ...next.keys()])].filter((p) => files.get(p) !== next.get(p));

    const incremental = await repo.writeTreeFromFiles(next, { tree: baseTree, changed });
    const full = await repo.writeTreeFromFiles(next);
    expect(incremental).toBe(full);
    expect(gitIn(dir, ['ls-tree', '-r', '--name-only', incremental!]).split('\n').sort()).toEqual([...next.keys()].sort());
    expect(gitIn(dir, ['ls-tree', '--name-only', `${incremental}:type0.v1.K`])).not.toContain('ns5');
  });
});

describe('working tree and index', () => {
  it('records files in the index in git byte order, so git sees a clean tree, whatever the names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-index-'));
    gitIn(dir, ['init', '-q', '-b', 'main']);
    const repo = await Repo.open(dir);
    // UTF-16 order differs from byte order for these: U+FF5E sorts after U+1F600 by code unit, before it by byte.
    const names = ['z.yaml', 'a.yaml', 'é.yaml', '\uFF5E.yaml', '\u{1F600}.yaml', 'a-b.yaml', 'a/b.yaml'];
    const changes = await Promise.all(names.map(async (n, i) => ({ path: `core.v1.ConfigMap/ns/${n}`, oid: await repo.writer.write('blob', Buffer.from(`${i}\n`)) })));
    await applyToWorktree(repo, changes);
    const listed = execFileSync('git', ['-c', 'core.quotePath=false', 'ls-files', '-z'], { cwd: dir, encoding: 'utf8' }).split('\0').filter(Boolean);
    expect(listed).toEqual(changes.map((c) => c.path).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(listed.indexOf('core.v1.ConfigMap/ns/\uFF5E.yaml')).toBeLessThan(listed.indexOf('core.v1.ConfigMap/ns/\u{1F600}.yaml'));
    const tree = await repo.writeTreeFromFiles(new Map(changes.map((c) => [c.path, c.oid])));
    await repo.updateBranch(undefined, await repo.writeCommit({ tree: tree!, parents: [], author: { name: 't', email: 't@x', timestamp: 0 }, message: 'm\n' }));
    expect(gitIn(dir, ['status', '--porcelain'])).toBe('');

    await applyToWorktree(repo, [{ path: changes[0].path }, { path: 'core.v1.ConfigMap/ns/new.yaml', oid: changes[1].oid }]);
    expect(gitIn(dir, ['status', '--porcelain'])).toBe('A  core.v1.ConfigMap/ns/new.yaml\nD  core.v1.ConfigMap/ns/z.yaml');
  });
});

describe('a git CLI neighbour repacking between two writes', () => {
  it('a fan-out directory that `git repack -ad` removed is made again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-repack-'));
    execFileSync('git', ['init', '-q', dir]);
    const gitdir = join(dir, '.git');
    const writer = new ObjectWriter(gitdir);
    // Two blobs in one fan-out directory: the second is written after git packed the first and pruned the directory.
    const blobs: Buffer[] = [];
    for (let i = 0; blobs.length < 2; i++) {
      const b = Buffer.from(`blob ${i}\n`);
      if (blobs.length === 0 || objectId('blob', b).slice(0, 2) === objectId('blob', blobs[0]).slice(0, 2)) blobs.push(b);
    }
    const first = await writer.write('blob', blobs[0]);
    execFileSync('git', ['-C', dir, 'tag', 'keep', first]); // reachable, so repack packs it
    execFileSync('git', ['-C', dir, 'repack', '-adq']);
    expect(readdirSync(join(gitdir, 'objects')).includes(first.slice(0, 2))).toBe(false);
    const second = await writer.write('blob', blobs[1]);
    expect(execFileSync('git', ['-C', dir, 'cat-file', '-p', second], { encoding: 'utf8' })).toBe(blobs[1].toString());
  });
});
