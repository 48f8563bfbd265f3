// `kubetrail watch` as a user runs it, against the real apiserver, checked with the git CLI: changes become one
// commit per window, the commit equals what a sync writes, a CRD created after start is picked up, and SIGTERM
// commits what is pending and leaves a valid repository. Runs with the CLI under Node and under Deno.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrd } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { sleep, waitFor as waitUntil } from '../../helpers/wait.ts';

const ns = `watch-${runtime}`;
const id = `watch-${runtime}`;
const client = adminClient();
const COMMIT_INTERVAL = 3;
const DISCOVERY_INTERVAL = 3;

function writeConfig(dir: string, repo: string): string {
  const file = join(dir, `${repo}.yaml`);
  writeFileSync(file, [
    `repo: ${join(dir, repo)}`,
    'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`,
  ].join('\n'));
  return file;
}

const configMap = (name: string, data: Record<string, string>) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: ${JSON.stringify(data)}\n`;


describe(`kubetrail watch (CLI under ${runtime})`, () => {
  const dir = tempDir('watch');
  const repo = join(dir, 'repo');
  const config = writeConfig(dir, 'repo');
  const base = `clusters/${id}`;
  const cmPath = (name: string) => `${base}/core.v1.ConfigMap/${ns}/${name}.yaml`;
  let proc: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;

  const commits = () => Number(git(repo, ['rev-list', '--count', 'HEAD']));
  const subject = (rev = 'HEAD') => git(repo, ['log', '-1', '--format=%s', rev]).trim();
  const filesAt = (rev = 'HEAD') => git(repo, ['ls-tree', '-r', '--name-only', rev, base]).split('\n').filter(Boolean);
  const waitFor = <T>(what: string, check: () => T | undefined | false, ms: number) =>
    waitUntil(what, check, ms, () => `\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  /** Waits for the next commit after `before` commits; returns how long it took, and checks no second one follows at once. */
  async function nextCommit(before: number, started: number): Promise<number> {
    await waitFor('a commit', () => commits() > before, (COMMIT_INTERVAL + 8) * 1000);
    return Date.now() - started;
  }

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    apply(configMap('before-start', { a: '1' }));
    proc = spawnCli(['watch', '--config', config, '--commit-interval', String(COMMIT_INTERVAL), '--discovery-interval', String(DISCOVERY_INTERVAL)]);
    proc.stdout!.on('data', (c) => { stdout += c; });
    proc.stderr!.on('data', (c) => { stderr += c; });
    exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor('watching', () => stdout.includes(`${id}: watching`), 60_000);
  });

  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('starts with the initial sync', () => {
    expect(filesAt()).toContain(cmPath('before-start'));
    expect(commits()).toBe(1);
  });

  it('commits ConfigMaps created together as one commit within the window', async () => {
    const before = commits();
    const started = Date.now();
    apply(configMap('one', { x: '1' }) + '---\n' + configMap('two', { y: '2' }));
    const took = await nextCommit(before, started);
    expect(took).toBeLessThan((COMMIT_INTERVAL + 4) * 1000);
    await sleep((COMMIT_INTERVAL + 1) * 1000); // a second commit would show by now
    expect(commits()).toBe(before + 1);
    expect(subject()).toBe(`${id}: +2 ~0 -0`);
    expect(filesAt()).toEqual(expect.arrayContaining([cmPath('one'), cmPath('two')]));
  });

  it('commits a change and a deletion, and the tree is what a sync into a fresh repository writes', async () => {
    const before = commits();
    apply(configMap('one', { x: 'changed' }));
    kubectl(['delete', 'configmap', 'two', '-n', ns]);
    // The change and the deletion are two watch events: they may fall into one window or two.
    await waitFor('the change and the deletion committed', () => commits() > before && !filesAt().includes(cmPath('two')) &&
      git(repo, ['show', `HEAD:${cmPath('one')}`]).includes('x: changed'), (2 * COMMIT_INTERVAL + 10) * 1000);
    const log = git(repo, ['log', '--format=%s', `-${commits() - before}`]).trim().split('\n');
    expect(log.join(' ')).toMatch(/~1/);
    expect(log.join(' ')).toMatch(/-1/);

    const fresh = writeConfig(dir, 'fresh');
    const res = await runCli(['sync', '--config', fresh]);
    expect(res.code, res.stderr).toBe(0);
    expect(git(join(dir, 'fresh'), ['rev-parse', `HEAD:${base}`])).toBe(git(repo, ['rev-parse', `HEAD:${base}`]));
  });

  it('records the custom resources of a CRD created after the start, within the discovery interval', async () => {
    const before = commits();
    await createCrd(client, 'watch.example.com', 'Widget', 'widgets');
    apply(`apiVersion: watch.example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: ${ns}}\nspec: {size: 3}\n`);
    const path = `${base}/watch.example.com.v1.Widget/${ns}/w1.yaml`;
    await waitFor('the Widget recorded', () => commits() > before && filesAt().includes(path), (DISCOVERY_INTERVAL + COMMIT_INTERVAL + 10) * 1000);
    expect(git(repo, ['show', `HEAD:${path}`])).toContain('size: 3');
  });

  it('records an object being deleted (deletionTimestamp, held by a finalizer) as a sync does, and drops it once it is gone', async () => {
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: ${ns}, finalizers: [example.com/hold]}\ndata: {h: "1"}\n`);
    await waitFor('held recorded', () => filesAt().includes(cmPath('held')), (COMMIT_INTERVAL + 8) * 1000);
    kubectl(['delete', 'configmap', 'held', '-n', ns, '--wait=false']);
    await sleep((COMMIT_INTERVAL + 2) * 1000);
    expect(filesAt()).toContain(cmPath('held')); // still there while finalizing
    kubectl(['patch', 'configmap', 'held', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await waitFor('held dropped', () => !filesAt().includes(cmPath('held')), (COMMIT_INTERVAL + 8) * 1000);
  });

  it('commits what is pending on SIGTERM, exits 0, and leaves git fsck and git status clean', async () => {
    apply(configMap('last', { z: '1' }));
    await sleep(700); // the event reached the watch; the window has not closed yet
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(filesAt()).toContain(cmPath('last'));
    git(repo, ['fsck', '--strict']);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  });
});
