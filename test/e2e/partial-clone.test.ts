// A CronJob's empty volume becomes a partial clone (git's `--filter=blob:none`): what it fetches, what it fetches
// later by id, and that git itself takes the result as a sound partial clone. Remote: git http-backend.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { pushWithRetry, syncFromRemote } from '../../src/store/remote.ts';
import { Repo } from '../../src/store/repo.ts';
import { commitClusterTree } from '../../src/sync/sync.ts';
import { tempDir } from '../helpers/testenv.ts';

const token = 'partial-token';
const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: 'pipe' });
const blobsIn = (gitdir: string) =>
  git(gitdir, ['cat-file', '--batch-all-objects', '--batch-check=%(objecttype)']).split('\n').filter((t) => t === 'blob').length;

describe('a CronJob run fetches the head without blobs, and blobs by id when it reads them', () => {
  let server: GitServer;
  const work = tempDir('partial');
  const authed = (name: string) => server.repoUrl(name).replace('http://', `http://x:${token}@`);

  /** A remote with two clusters' files (100 each) on main and a state ref, pushed with the git CLI. */
  function remoteWithFiles(name: string, filter: boolean) {
    const bare = server.createBareRepo(name);
    if (!filter) git(bare, ['config', 'uploadpack.allowFilter', 'false']);
    const clone = join(work, `${name}-src`);
    git(work, ['init', '-q', '-b', 'main', clone]);
    for (const c of ['a', 'b']) {
      const dir = join(clone, 'clusters', c, 'core.v1.ConfigMap', 'ns');
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 100; i++) writeFileSync(join(dir, `cm-${i}.yaml`), `cluster: ${c}\ni: ${i}\n`);
    }
    const commit = (m: string) => git(clone, ['-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', m]);
    git(clone, ['add', '-A']);
    commit('files');
    git(clone, ['push', '-q', authed(name), 'HEAD:main']);
    git(clone, ['checkout', '-q', '--orphan', 'state']);
    git(clone, ['rm', '-rqf', '.']);
    writeFileSync(join(clone, 'render-state'), 'a state\n');
    git(clone, ['add', '-A']);
    commit('state');
    git(clone, ['push', '-q', authed(name), 'HEAD:refs/kubetrail/state/a']);
    return { bare, file: (path: string) => git(bare, ['rev-parse', `main:${path}`]).trim() };
  }

  beforeAll(async () => {
    server = await startGitServer({ root: join(work, 'remotes'), token });
  });
  afterAll(() => server?.close());

  it('an empty bare repository gets the trees and the state whole; a blob read later is fetched by id', async () => {
    const remote = remoteWithFiles('filtering.git', true);
    const repo = await Repo.open(join(work, 'run-1'), { bare: true });
    const target = { url: server.repoUrl('filtering.git'), branch: 'main', username: 'x', token };
    server.clearRequests();
    await syncFromRemote(repo, target, { alsoFetch: ['refs/kubetrail/state/a'], blobless: true });
    // The ref listing, then the branch (filtered) and the state (whole) side by side.
    expect(server.requests().map((r) => r.replace(/^(\w+) \/filtering\.git\//, '$1 '))).toEqual([
      'GET info/refs?service=git-upload-pack', 'POST git-upload-pack', 'POST git-upload-pack',
    ]);
    expect(blobsIn(repo.gitdir)).toBe(1); // the state's file; none of the 200 cluster files
    const tree = (await repo.readCommit((await repo.head())!)).tree;
    expect(await repo.listFiles(await repo.entryAt(tree, 'clusters/a'))).toHaveProperty('size', 100); // every tree is here
    // git itself sees a partial clone: the missing blobs are promised by the remote, nothing else is missing.
    expect(git(repo.gitdir, ['config', 'extensions.partialClone']).trim()).toBe('origin');
    expect(readdirSync(join(repo.gitdir, 'objects', 'pack')).filter((f) => f.endsWith('.promisor'))).toHaveLength(1);
    expect(git(repo.gitdir, ['fsck', '--strict', '--no-dangling'])).toBe('');

    // A read of a file left out fetches it (protocol v2, by id); a second read does not fetch again.
    const oid = remote.file('clusters/a/core.v1.ConfigMap/ns/cm-7.yaml');
    server.clearRequests();
    expect(Buffer.from(await repo.readBlob(oid)).toString()).toBe('cluster: a\ni: 7\n');
    await repo.readBlob(oid);
    expect(server.requests()).toHaveLength(1);
    // Several at once: one request.
    await repo.objects.prefetch([3, 4, 5, 7].map((i) => remote.file(`clusters/b/core.v1.ConfigMap/ns/cm-${i}.yaml`)));
    expect(server.requests()).toHaveLength(2);
    expect(blobsIn(repo.gitdir)).toBe(1 + 1 + 4);
    expect(git(repo.gitdir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('a server that takes only protocol v0 is asked in v0; an object the server does not have gives a clear error', async () => {
    const remote = remoteWithFiles('v0.git', true);
    writeFileSync(join(remote.bare, 'no-protocol-v2'), ''); // as behind a proxy that drops the Git-Protocol header
    const repo = await Repo.open(join(work, 'run-v0'), { bare: true });
    await syncFromRemote(repo, { url: server.repoUrl('v0.git'), branch: 'main', username: 'x', token }, { blobless: true });
    server.clearRequests();
    // Over HTTP, version 0 takes a want the refs reach (git checks reachability for a stateless request).
    expect(Buffer.from(await repo.readBlob(remote.file('clusters/a/core.v1.ConfigMap/ns/cm-1.yaml'))).toString()).toBe('cluster: a\ni: 1\n');
    expect(server.requests()).toHaveLength(2); // version 2 refused, then version 0
    expect(git(repo.gitdir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    await expect(repo.readBlob('0123456789abcdef0123456789abcdef01234567'))
      .rejects.toThrow(/cannot fetch 1 object\(s\) left out of this partial clone: .*in protocol v0: .*not our ref/);
  });

  it('a branch gone from the remote before the push: a clear error at once, nothing sent, nothing lost', async () => {
    const remote = remoteWithFiles('gone.git', true);
    const repo = await Repo.open(join(work, 'run-gone'), { bare: true });
    const target = { url: server.repoUrl('gone.git'), branch: 'main', username: 'x', token };
    await syncFromRemote(repo, target, { blobless: true });
    const head = (await repo.head())!;
    const tree = await repo.entryAt((await repo.readCommit(head)).tree, 'clusters/a');
    const files = await repo.listFiles(tree);
    const path = 'core.v1.ConfigMap/ns/cm-1.yaml';
    const next = new Map(files).set(path, await repo.writer.write('blob', Buffer.from('cluster: a\ni: changed\n')));
    await commitClusterTree(repo, 'a', next, {
      message: 'a: one\n\nKubetrail-Cluster: a\n', author: { name: 'k', email: 'k@x' }, time: new Date(),
      previous: { files, tree, changed: [path] },
    });
    git(remote.bare, ['update-ref', '-d', 'refs/heads/main']); // deleted meanwhile
    server.clearRequests();
    await expect(pushWithRetry(repo, target)).rejects.toThrow(/branch main is gone or was recreated since this run fetched it without blobs/);
    expect(server.requests().filter((r) => r.includes('POST'))).toEqual([]); // no pack sent, no blob fetched one by one
    expect(() => git(remote.bare, ['rev-parse', '--verify', 'refs/heads/main'])).toThrow();
  });

  it('a server that does not filter sends everything, as before', async () => {
    remoteWithFiles('plain.git', false);
    const repo = await Repo.open(join(work, 'run-2'), { bare: true });
    const target = { url: server.repoUrl('plain.git'), branch: 'main', username: 'x', token };
    await syncFromRemote(repo, target, { blobless: true });
    expect(blobsIn(repo.gitdir)).toBe(200);
    expect(() => git(repo.gitdir, ['config', 'extensions.partialClone'])).toThrow(); // not set
    expect(repo.objects.lazyFetch).toBeUndefined();
    expect(git(repo.gitdir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
});
