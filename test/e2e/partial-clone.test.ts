// A CronJob's empty volume becomes a partial clone (git's `--filter=blob:none`): what it fetches, what it fetches
// later by id, and that git itself takes the result as a sound partial clone. Remote: git http-backend.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { syncFromRemote } from '../../src/store/remote.ts';
import { Repo } from '../../src/store/repo.ts';
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
