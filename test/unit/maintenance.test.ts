// Packing loose objects, checked with the git CLI: every object stays readable, nothing else is touched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateLooseObjects, packLooseObjects } from '../../src/store/maintenance.ts';
import { encodeCommit, encodeTree } from '../../src/store/codec.ts';
import { ObjectWriter } from '../../src/store/loose.ts';

const git = (dir: string, args: string[], input?: string) => execFileSync('git', args, { cwd: dir, input, encoding: 'utf8' }).trim();
const looseCount = (dir: string) => Number(git(dir, ['count-objects', '-v']).match(/^count: (\d+)/m)![1]);

async function repoWithLooseObjects(blobs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-maint-'));
  git(dir, ['init', '-q', '-b', 'main']);
  const gitdir = join(dir, '.git');
  const w = new ObjectWriter(gitdir);
  const oids = [];
  for (let i = 0; i < blobs; i++) oids.push(await w.write('blob', Buffer.from(`kind: ConfigMap\nname: c-${i}\n`)));
  const tree = await w.write('tree', encodeTree(oids.map((oid, i) => ({ mode: '100644' as const, name: `c-${i}.yaml`, oid }))));
  const who = { name: 't', email: 't@example.com', timestamp: 1_700_000_000 };
  const commit = await w.write('commit', encodeCommit({ tree, parents: [], author: who, committer: who, message: 'm\n' }));
  git(dir, ['update-ref', 'refs/heads/main', commit]);
  return { dir, gitdir, oids: [...oids, tree, commit] };
}

describe('packing loose objects', () => {
  it('moves every loose object into one pack that git reads, once there are enough of them', async () => {
    const { dir, gitdir, oids } = await repoWithLooseObjects(2000);
    expect(looseCount(dir)).toBe(2002);
    expect(estimateLooseObjects(gitdir)).toBeGreaterThan(0);
    expect(packLooseObjects(gitdir, 1_000_000)).toBe(0); // below the limit: nothing happens
    expect(looseCount(dir)).toBe(2002);

    expect(packLooseObjects(gitdir, 0)).toBe(2002);
    expect(looseCount(dir)).toBe(0);
    expect(git(dir, ['count-objects', '-v'])).toMatch(/^in-pack: 2002$/m);
    expect(git(dir, ['fsck', '--strict'])).toBe('');
    const checked = git(dir, ['cat-file', '--batch-check'], oids.join('\n')).split('\n');
    expect(checked.every((line, i) => line.startsWith(`${oids[i]} `) && !line.endsWith('missing'))).toBe(true);
    expect(git(dir, ['show', 'main:c-7.yaml'])).toBe('kind: ConfigMap\nname: c-7');
  }, 60_000); // 2,000 loose objects, each fsynced as it is written

  it('leaves alone what it cannot read back as itself, and temp files of writes in progress', async () => {
    const { dir, gitdir } = await repoWithLooseObjects(5);
    const fanout = join(gitdir, 'objects', 'ab');
    mkdirSync(fanout, { recursive: true });
    const corrupt = join(fanout, 'c'.repeat(38));
    writeFileSync(corrupt, 'not zlib');
    const temp = join(fanout, 'tmp_obj_1_2_3');
    writeFileSync(temp, 'partial');
    expect(packLooseObjects(gitdir, 0)).toBe(7);
    expect(existsSync(corrupt) && existsSync(temp)).toBe(true);
    expect(git(dir, ['show', 'main:c-3.yaml'])).toBe('kind: ConfigMap\nname: c-3');
  });
});
