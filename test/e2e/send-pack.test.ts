// A push sends what is new, not the repository: a 10-file change to a 2,000-file branch reaches a real smart-HTTP
// remote (git http-backend) as the 10 blobs, the trees on their paths and the commit — counted on the server.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { pushWithRetry } from '../../src/store/remote.ts';
import { Repo } from '../../src/store/repo.ts';
import type { FileMap } from '../../src/store/files.ts';
import { commitClusterTree } from '../../src/sync/sync.ts';
import { tempDir } from '../helpers/testenv.ts';

const token = 'send-pack-token';
const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
/** Objects the server stored loose (git unpacks a received pack of fewer than 100 objects) and packs it kept. */
const stored = (bare: string) => ({
  loose: readdirSync(join(bare, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(bare, 'objects', d)).map((f) => d + f)),
  packs: readdirSync(join(bare, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length,
});

describe('push sends only the objects a change adds', () => {
  let server: GitServer;
  let bare: string;
  const work = tempDir('send-pack');
  beforeAll(async () => {
    server = await startGitServer({ root: join(work, 'remotes'), token });
    bare = server.createBareRepo('r.git');
  });
  afterAll(() => server?.close());

  it('a 10-file change to 2,000 files: 10 blobs, the trees on their paths, 1 commit', async () => {
    const repo = await Repo.open(join(work, 'local'));
    const target = { url: server.repoUrl('r.git'), branch: 'main', username: 'x', token };
    const author = { name: 'kubetrail', email: 'k@x' };
    const files: FileMap = new Map();
    for (let i = 0; i < 2000; i++) files.set(`core.v1.ConfigMap/ns-${i % 20}/cm-${i}.yaml`, await repo.writer.write('blob', Buffer.from(`i: ${i}\n`)));
    await commitClusterTree(repo, 'c1', files, { message: 'c1: first\n\nKubetrail-Cluster: c1\n', author, time: new Date(), previous: { files: new Map(), tree: undefined, changed: [] } });
    expect((await pushWithRetry(repo, target)).upToDate).toBe(false);
    expect(git(bare, ['rev-list', '--objects', '--all']).trim().split('\n')).toHaveLength(2000 + 20 + 4 + 1); // blobs, ns dirs, type, cluster, clusters, root… and the commit
    const before = stored(bare);

    const tree = await repo.entryAt((await repo.readCommit((await repo.head())!)).tree, 'clusters/c1');
    const next = new Map(files);
    const changed = [3, 23, 43, 63, 83, 5, 25, 45, 65, 85].map((i) => `core.v1.ConfigMap/ns-${i % 20}/cm-${i}.yaml`); // in ns-3 and ns-5
    for (const path of changed) next.set(path, await repo.writer.write('blob', Buffer.from(`${path}: changed\n`)));
    await commitClusterTree(repo, 'c1', next, { message: 'c1: ten\n\nKubetrail-Cluster: c1\n', author, time: new Date(), previous: { files, tree, changed } });
    const head = (await repo.head())!;
    expect((await pushWithRetry(repo, target)).commit).toBe(head);

    const after = stored(bare);
    expect(after.packs).toBe(before.packs); // small enough to be unpacked: fewer than 100 objects arrived
    const arrived = after.loose.filter((o) => !before.loose.includes(o)).sort();
    // What git itself says the commit adds: `git rev-list --objects head^..head`, minus what head^ has.
    const added = git(bare, ['rev-list', '--objects', head, `^${head}^`]).trim().split('\n').map((l) => l.split(' ')[0]).sort();
    expect(arrived).toEqual(added);
    expect(arrived).toHaveLength(10 + 2 + 4 + 1); // 10 blobs; ns-3, ns-5; ConfigMap dir, c1, clusters, root; commit
    expect(git(bare, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
});
