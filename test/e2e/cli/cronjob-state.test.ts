// A CronJob's run starts from an empty directory: the render state pushed to refs/kubetrail/state/<id> by the run
// before lets it read the types on record as metadata only. A state that does not match (tampered, stale, another
// cluster's) is ignored and the record is still exactly what a full sync writes. Real apiserver (seen through a
// counting proxy), real smart-HTTP remote, the CLI as a separate process under Node or Deno.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../src/sync/render-state.ts';
import type { StateFiles } from '../../../src/store/state-ref.ts';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { startCountingProxy, type CountingProxy, type SeenRequest } from '../../helpers/counting-proxy.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, runCli, runtime, tempDir } from '../../helpers/testenv.ts';

const token = `state-token-${runtime}`;
const hmacKey = `state-hmac-${runtime}`;
const ns = `cronstate-${runtime}`;
const OBJECTS = 300;
const configMaps = `/api/v1/namespaces/${ns}/configmaps`;
const ids = { a: `sa-${runtime}`, b: `sb-${runtime}` }; // two clusters reading the same objects: identical subtrees

interface Reads { metadataLists: number; fullLists: number; gets: string[]; listBytes: number; allBytes: number; requests: number }

function reads(seen: SeenRequest[]): Reads {
  const lists = seen.filter((s) => s.path === configMaps);
  return {
    metadataLists: lists.filter((s) => s.metadataOnly).length,
    fullLists: lists.filter((s) => !s.metadataOnly).length,
    gets: seen.filter((s) => s.path.startsWith(`${configMaps}/`)).map((s) => s.path.slice(configMaps.length + 1)).sort(),
    listBytes: lists.reduce((n, s) => n + s.bytes, 0),
    allBytes: seen.reduce((n, s) => n + s.bytes, 0),
    requests: seen.length,
  };
}

describe(`a CronJob run from an empty directory reads metadata first (CLI under ${runtime})`, () => {
  let server: GitServer;
  let proxy: CountingProxy;
  const root = tempDir('state-remotes');
  const work = tempDir('state');
  let bare: string;
  const client = adminClient();
  const remoteUrl = () => server.repoUrl('fleet.git');
  const authedUrl = () => remoteUrl().replace('http://', `http://x:${token}@`);

  const configFile = (id: string, dir: string) => {
    const file = join(work, `${id}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(join(work, `${id}.kubeconfig`), proxy.kubeconfig);
    writeFileSync(file, [`repo: ${dir}`, 'bare: true', `remote: {url: ${remoteUrl()}, branch: main, allowInsecureHttp: true}`,
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${join(work, `${id}.kubeconfig`)}`, `    namespaces: [${ns}]`,
      '    select: [core.v1.ConfigMap]'].join('\n'));
    return file;
  };

  /** One CronJob-style run: a new empty directory, fetch, sync, push. What it read from the apiserver is returned. */
  async function cronRun(id: string) {
    const dir = join(work, `run-${id}-${Math.random().toString(36).slice(2)}`);
    proxy.seen.length = 0;
    const started = Date.now();
    const run = await runCli(['sync', '--config', configFile(id, dir), '--push', '--json'],
      { env: { KUBETRAIL_GIT_TOKEN: token, KUBETRAIL_HMAC_KEY: hmacKey } });
    const ms = Date.now() - started;
    expect(run.stderr, `${id}: ${run.stdout}`).toBe('');
    expect(run.code, run.stdout).toBe(0);
    // Cut history is marked where it is cut: a state commit fetched with the branch has no parents to miss.
    const shallow = existsSync(join(dir, '.git', 'shallow')) ? readFileSync(join(dir, '.git', 'shallow'), 'utf8') : '';
    const state = git(dir, ['for-each-ref', '--format=%(objectname)', 'refs/kubetrail/state/']).trim();
    if (state) expect(shallow).not.toContain(state);
    // A partial clone as git makes one: git itself accepts the blobs left out, and the run's repository is sound.
    expect(execFileSync('git', ['-C', dir, 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8', stdio: 'pipe' })).toBe('');
    const blobs = git(dir, ['cat-file', '--batch-all-objects', '--batch-check=%(objecttype)']).split('\n').filter((t) => t === 'blob').length;
    rmSync(dir, { recursive: true, force: true });
    return { out: JSON.parse(run.stdout), reads: reads(proxy.seen), ms, blobs };
  }

  /** The cluster's subtree as a full sync into a fresh repository (no remote, no cache) records it. */
  async function fullSyncTree(id: string): Promise<string> {
    const dir = join(work, `full-${id}-${Math.random().toString(36).slice(2)}`);
    const run = await runCli(['sync', '--config', configFile(id, dir), '--json'], { env: { KUBETRAIL_HMAC_KEY: hmacKey } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return git(dir, ['rev-parse', `HEAD:clusters/${id}`]).trim();
  }

  const remoteTree = (id: string) => git(bare, ['rev-parse', `main:clusters/${id}`]).trim();
  const stateText = (id: string) => git(bare, ['show', `refs/kubetrail/state/${id}:render-state`]);
  const stateFiles = (id: string): StateFiles => ({
    head: stateText(id),
    parts: git(bare, ['ls-tree', '--name-only', `refs/kubetrail/state/${id}:parts`]).trim().split('\n').filter(Boolean)
      .map((name) => git(bare, ['show', `refs/kubetrail/state/${id}:parts/${name}`])),
  });
  async function patch(name: string, value: string) {
    const obj = await client.getJSON<{ data?: Record<string, string> }>(`${configMaps}/${name}`);
    await client.sendJSON('PUT', `${configMaps}/${name}`, { ...obj, data: { ...obj.data, value } });
  }

  /** Replaces the remote's state ref of `id` with `text`, as anyone with push access could, with the git CLI. */
  function pushStateWithGit(id: string, state: StateFiles) {
    const clone = tempDir('state-forge');
    git(clone, ['init', '-q']);
    writeFileSync(join(clone, 'render-state'), state.head);
    mkdirSync(join(clone, 'parts'));
    for (const [i, part] of state.parts.entries()) writeFileSync(join(clone, 'parts', i.toString(16).padStart(2, '0')), part);
    git(clone, ['add', '-A']);
    git(clone, ['-c', 'user.name=someone', '-c', 'user.email=someone@example.com', 'commit', '-q', '-m', 'state']);
    execFileSync('git', ['-C', clone, 'push', '-q', '--force', authedUrl(), `HEAD:refs/kubetrail/state/${id}`], { stdio: 'pipe' });
  }

  beforeAll(async () => {
    server = await startGitServer({ root, token });
    bare = server.createBareRepo('fleet.git');
    proxy = await startCountingProxy();
    await ensureNamespace(client, ns);
    await createMany(client, configMaps, Array.from({ length: OBJECTS }, (_, i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { value: `v${i}`, padding: 'x'.repeat(2000) },
    })));
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  let firstRun: Reads;

  it('a first run lists in full and pushes a parentless state commit for the cluster subtree it pushed', async () => {
    const first = await cronRun(ids.a);
    firstRun = first.reads;
    expect(first.out.results[0]).toMatchObject({ status: 'complete', added: OBJECTS });
    expect(first.reads).toMatchObject({ metadataLists: 0, fullLists: 1, gets: [] });
    expect(git(bare, ['rev-list', '--count', `refs/kubetrail/state/${ids.a}`]).trim()).toBe('1'); // parentless
    expect(git(bare, ['ls-tree', '--name-only', `refs/kubetrail/state/${ids.a}`]).trim().split('\n')).toEqual(['parts', 'render-state']);
    const text = stateText(ids.a);
    expect(text.split('\n')[0]).toBe('kubetrail-render-state 2');
    expect(JSON.parse(text.split('\n')[1])).toMatchObject({ cluster: ids.a, subtree: remoteTree(ids.a), entries: OBJECTS, parts: 8 });
    expect(stateFiles(ids.a).parts).toHaveLength(8);
    console.log(`[state] ${runtime} first run: ${first.ms} ms, ${first.reads.requests} requests, ` +
      `${first.reads.allBytes} bytes read (${first.reads.listBytes} in ConfigMap lists); state ${[text, ...stateFiles(ids.a).parts].join('').length} bytes in ${stateFiles(ids.a).parts.length} parts and a head for ${OBJECTS} objects`);
  }, 180_000);

  it('the next run from another empty directory reads the types on record as metadata only', async () => {
    server.clearRequests();
    const next = await cronRun(ids.a);
    // One fetch: info/refs, then at once the branch head without blobs (a partial clone) and the state whole.
    expect(server.requests().filter((r) => r.includes('upload-pack'))).toHaveLength(3);
    expect(next.blobs).toBe(1 + 8); // none of the cluster's 300 files: the state's head and its 8 parts
    expect(next.out.results[0]).toMatchObject({ status: 'complete', unchanged: OBJECTS, blobsWritten: 0 });
    expect(next.out.results[0].commit).toBeUndefined();
    expect(next.reads).toMatchObject({ metadataLists: 1, fullLists: 0, gets: [] });
    expect(next.reads.listBytes * 3).toBeLessThan(firstRun.listBytes); // metadata (with managedFields) is a fraction of the objects
    console.log(`[state] ${runtime} nothing changed, empty directory: ${next.ms} ms, ${next.reads.requests} requests, ` +
      `${next.reads.allBytes} bytes read (${next.reads.listBytes} in ConfigMap lists, first run ${firstRun.listBytes})`);
    expect(git(bare, ['rev-list', '--count', `refs/kubetrail/state/${ids.a}`]).trim()).toBe('1'); // never grows
  }, 180_000);

  it('one change: one metadata list and one GET; the record equals a full sync', async () => {
    await patch('cm-1', 'changed');
    server.clearRequests();
    const stateBefore = git(bare, ['rev-parse', `refs/kubetrail/state/${ids.a}`]).trim();
    const run = await cronRun(ids.a);
    // One fetch (the branch without blobs and the state, side by side), the changed object's last version by id
    // (who changed it is read from its managedFields against it), one push (the branch and the new state together).
    expect(server.requests().map((r) => r.replace(/^(\w+) \/fleet\.git\//, '$1 '))).toEqual([
      'GET info/refs?service=git-upload-pack', 'POST git-upload-pack', 'POST git-upload-pack', 'POST git-upload-pack',
      'GET info/refs?service=git-receive-pack', 'POST git-receive-pack',
    ]);
    // Its two versions, the fetched state (head and 8 parts) and the new head and part: none of the other 299 files.
    expect(run.blobs).toBe(2 + 9 + 2);
    expect(run.out.results[0]).toMatchObject({ status: 'complete', changed: 1 });
    expect(run.reads).toMatchObject({ metadataLists: 1, fullLists: 0, gets: ['cm-1'] });
    expect(remoteTree(ids.a)).toBe(await fullSyncTree(ids.a));
    expect(JSON.parse(stateText(ids.a).split('\n')[1]).subtree).toBe(remoteTree(ids.a)); // replaced, for the new subtree
    // Only the changed object's part and the head are new: the rest of the state was not sent again.
    const newFiles = git(bare, ['diff-tree', '-r', '--name-only', stateBefore, `refs/kubetrail/state/${ids.a}`]).trim().split('\n');
    expect(newFiles).toHaveLength(2);
    expect(newFiles).toContain('render-state');
    expect(newFiles.find((f) => f !== 'render-state')).toMatch(/^parts\/[0-9a-f]{2}$/);
  }, 180_000);

  it('a forged state (an entry saying a changed object is unchanged, digest made without the key) is ignored', async () => {
    // The forgery that would hide a change: cm-2's new resourceVersion mapped to the blob recorded for its old one.
    const live = await client.getJSON<{ metadata: { uid: string; resourceVersion: string } }>(`${configMaps}/cm-2`);
    await patch('cm-2', 'hidden?');
    const changed = await client.getJSON<{ metadata: { resourceVersion: string } }>(`${configMaps}/cm-2`);
    const state = stateFiles(ids.a);
    const header = JSON.parse(state.head.split('\n')[1]);
    const decoded = decodeState(state, header, hmacKey);
    if (!('entries' in decoded)) throw new Error(decoded.ignored);
    const key = `core.v1.ConfigMap/${live.metadata.uid}/${live.metadata.resourceVersion}`;
    const oldBlob = decoded.entries.get(key)!;
    expect(oldBlob).toMatch(/^[0-9a-f]{40}$/);
    decoded.entries.delete(key);
    decoded.entries.set(`core.v1.ConfigMap/${live.metadata.uid}/${changed.metadata.resourceVersion}`, oldBlob);
    pushStateWithGit(ids.a, encodeState(header, decoded.entries, '')); // no key: the forger does not have it

    const run = await cronRun(ids.a);
    expect(run.out.results[0]).toMatchObject({ status: 'complete', changed: 1 });
    expect(run.reads).toMatchObject({ metadataLists: 0, fullLists: 1 }); // ignored: read as a first run
    expect(git(bare, ['show', `main:clusters/${ids.a}/core.v1.ConfigMap/${ns}/cm-2.yaml`])).toContain('value: hidden?');
    expect(remoteTree(ids.a)).toBe(await fullSyncTree(ids.a));

    pushStateWithGit(ids.a, { head: 'not a state at all\n', parts: [] });
    const garbage = await cronRun(ids.a);
    expect(garbage.reads).toMatchObject({ metadataLists: 0, fullLists: 1 });
    expect(garbage.out.results[0]).toMatchObject({ status: 'complete', unchanged: OBJECTS });
    console.log(`[state] ${runtime} nothing changed, empty directory, state ignored: ${garbage.ms} ms, ` +
      `${garbage.reads.requests} requests, ${garbage.reads.allBytes} bytes read (${garbage.reads.listBytes} in ConfigMap lists)`);
    expect(remoteTree(ids.a)).toBe(await fullSyncTree(ids.a));
    expect((await cronRun(ids.a)).reads).toMatchObject({ metadataLists: 1, fullLists: 0, gets: [] }); // and rebuilt
  }, 300_000);

  it('a stale state (another writer changed the subtree) is ignored; the record is exact again', async () => {
    const clone = join(tempDir('state-writer'), 'c');
    git(work, ['clone', '-q', authedUrl(), clone]);
    writeFileSync(join(clone, `clusters/${ids.a}/core.v1.ConfigMap/${ns}/cm-3.yaml`), 'edited: by hand\n');
    git(clone, ['-c', 'user.name=someone', '-c', 'user.email=someone@example.com', 'commit', '-q', '-am', 'hand edit']);
    git(clone, ['push', '-q', 'origin', 'HEAD:main']);
    expect(JSON.parse(stateText(ids.a).split('\n')[1]).subtree).not.toBe(remoteTree(ids.a));

    const run = await cronRun(ids.a);
    expect(run.reads).toMatchObject({ metadataLists: 0, fullLists: 1 });
    expect(run.out.results[0]).toMatchObject({ status: 'complete', changed: 1 });
    expect(remoteTree(ids.a)).toBe(await fullSyncTree(ids.a));
  }, 300_000);

  it("two clusters' states never mix: each has its own ref, and one put in place of the other is ignored", async () => {
    const b = await cronRun(ids.b);
    expect(b.reads).toMatchObject({ metadataLists: 0, fullLists: 1 });
    expect(remoteTree(ids.b)).toBe(remoteTree(ids.a)); // same objects, same subtree: only the cluster id tells them apart
    expect(JSON.parse(stateText(ids.b).split('\n')[1]).cluster).toBe(ids.b);
    expect(JSON.parse(stateText(ids.a).split('\n')[1]).cluster).toBe(ids.a);
    expect((await cronRun(ids.a)).reads).toMatchObject({ metadataLists: 1, fullLists: 0 }); // B's push left A's alone

    pushStateWithGit(ids.b, stateFiles(ids.a)); // A's state, valid in every other respect, under B's ref
    const swapped = await cronRun(ids.b);
    expect(swapped.reads).toMatchObject({ metadataLists: 0, fullLists: 1 });
    expect(JSON.parse(stateText(ids.b).split('\n')[1]).cluster).toBe(ids.b); // replaced by B's own
    expect(remoteTree(ids.b)).toBe(await fullSyncTree(ids.b));
    expect(git(bare, ['fsck', '--strict', '--no-dangling'])).toBe('');
  }, 300_000);
});
