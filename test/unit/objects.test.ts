// Our object encoding must agree byte for byte with the git CLI's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTree, hashObject, ObjectWriter, parseTree } from '../../src/store/objects.ts';

const gitIn = (dir: string, args: string[], input?: string) => execFileSync('git', args, { cwd: dir, input, encoding: 'utf8' }).trim();

describe('git objects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-objects-'));
  gitIn(dir, ['init', '-q']);

  it('hashes blobs like git hash-object', () => {
    expect(hashObject('blob', Buffer.from('hello\n')).oid).toBe(gitIn(dir, ['hash-object', '--stdin'], 'hello\n'));
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
