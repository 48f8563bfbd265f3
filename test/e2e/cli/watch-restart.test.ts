// `kubetrail watch` through a restart of a real kube-apiserver (its own, with its own etcd: the shared one stays
// up for the other test files). Objects change right before the apiserver process stops and again after it is
// back on the same port; etcd keeps the data. The watch keeps running and retrying while it is down, commits no
// deletion of an object that exists, and converges to what a fresh sync writes. CLI under Node and under Deno.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../env/global-setup.ts';
import { crdManifest } from '../../helpers/objects.ts';
import { git, root, runCli, runtime, spawnCli, tempDir } from '../../helpers/testenv.ts';
import { sleep, waitFor as waitUntil } from '../../helpers/wait.ts';

const id = `restart-${runtime}`;
const ns = 'restarted';
const COMMIT_INTERVAL = 3;

describe(`kubetrail watch through a kube-apiserver restart (CLI under ${runtime})`, () => {
  const dir = tempDir('watch-restart');
  const envDir = join(dir, 'apiserver');
  const repo = join(dir, 'repo');
  const base = `clusters/${id}`;
  const cm = (name: string) => `${base}/core.v1.ConfigMap/${ns}/${name}.yaml`;
  const widget = (name: string) => `${base}/restart.example.com.v1.Widget/${ns}/${name}.yaml`;
  let kubeconfig = '';
  let proc: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let stdout = '';
  let stderr = '';

  const apiserver = (action: 'stop' | 'start') =>
    execFileSync('bash', [join(root, 'test/env/apiserver.sh'), action, envDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5 * 60_000 });
  const kubectl = (args: string[], input?: string) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', stdio: 'pipe' });
  const apply = (yaml: string) => kubectl(['apply', '-f', '-'], yaml);
  const configMap = (name: string, value: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {value: "${value}"}\n`;
  const widgetYaml = (name: string, size: number) =>
    `apiVersion: restart.example.com/v1\nkind: Widget\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {size: ${size}}\n`;
  const writeConfig = (name: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, [`repo: ${join(dir, name)}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${kubeconfig}`, `    namespaces: [${ns}]`].join('\n'));
    return file;
  };
  const filesAt = () => git(repo, ['ls-tree', '-r', '--name-only', 'HEAD', base]).split('\n').filter(Boolean);
  const show = (path: string) => git(repo, ['show', `HEAD:${path}`]);
  // Fails at once when the watch has exited: it must survive the restart.
  const waitFor = <T>(what: string, check: () => T | undefined | false, ms: number) =>
    waitUntil(what, () => {
      if (proc && proc.exitCode !== null) throw new Error(`kubetrail watch exited with ${proc.exitCode} while waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      return check();
    }, ms, () => `\nstdout:\n${stdout}\nstderr:\n${stderr}`);

  beforeAll(async () => {
    mkdirSync(envDir, { recursive: true });
    execFileSync('bash', [join(root, 'test/env/up.sh'), envDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000 });
    kubeconfig = readEnvFile(join(envDir, 'env')).KUBECONFIG;
    kubectl(['create', 'namespace', ns]);
    // A custom type too: after a restart its CRD must be served again before discovery may drop it.
    kubectl(['apply', '-f', '-'], JSON.stringify(crdManifest('restart.example.com', 'Widget', 'widgets')));
    kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/widgets.restart.example.com']);
    await waitFor('widgets served', () => { try { return kubectl(['get', 'widgets', '-n', ns]) !== undefined; } catch { return false; } }, 120_000);
    apply(['keep', 'changed-before', 'changed-after', 'deleted-before', 'deleted-after'].map((n) => configMap(n, '1')).join('---\n'));
    apply(widgetYaml('w1', 1) + '---\n' + widgetYaml('w-deleted-after', 1));
    proc = spawnCli(['watch', '--config', writeConfig('repo'), '--commit-interval', String(COMMIT_INTERVAL), '--discovery-interval', '2']);
    proc.stdout!.on('data', (c) => { stdout += c; });
    proc.stderr!.on('data', (c) => { stderr += c; });
    exited = new Promise((resolve) => proc!.on('exit', (code) => resolve(code)));
    await waitFor('watching', () => stdout.includes(`${id}: watching`), 120_000);
  }, 15 * 60_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    execFileSync('bash', [join(root, 'test/env/down.sh'), envDir]); // also when the test failed with it stopped
  }, 5 * 60_000);

  it('keeps watching while it is down, deletes nothing that exists, and converges to what a sync writes', async () => {
    expect(filesAt()).toEqual(expect.arrayContaining([cm('keep'), cm('deleted-before'), widget('w1')]));
    const initialCommit = git(repo, ['rev-parse', 'HEAD']).trim();

    // Changes the watch may not have committed (or even seen) when the apiserver process goes away.
    apply(configMap('changed-before', '2') + '---\n' + configMap('created-before', '1') + '---\n' + widgetYaml('w-created-before', 1));
    kubectl(['delete', 'configmap', 'deleted-before', '-n', ns]);
    apiserver('stop');
    const stoppedAt = Date.now();

    await sleep(10_000); // failed reconnects, discovery failing, several windows without anything to commit
    expect(proc!.exitCode, stderr).toBeNull();
    expect(filesAt()).toEqual(expect.arrayContaining([cm('keep'), cm('changed-after'), cm('deleted-after'), widget('w1'), widget('w-deleted-after')]));
    expect(stderr).toMatch(/retrying/);

    apiserver('start');
    const startedAfterMs = Date.now() - stoppedAt;
    apply(configMap('changed-after', '2') + '---\n' + configMap('created-after', '1') + '---\n' + widgetYaml('w1', 2) + '---\n' + widgetYaml('w-created-after', 1));
    kubectl(['delete', 'configmap', 'deleted-after', '-n', ns]);
    kubectl(['delete', 'widget', 'w-deleted-after', '-n', ns]);

    const present = [cm('keep'), cm('changed-before'), cm('changed-after'), cm('created-before'), cm('created-after'), widget('w1'), widget('w-created-before'), widget('w-created-after')];
    const gone = [cm('deleted-before'), cm('deleted-after'), widget('w-deleted-after')];
    await waitFor('the tree to converge', () => {
      const files = filesAt();
      return present.every((p) => files.includes(p)) && !gone.some((p) => files.includes(p)) &&
        show(cm('changed-after')).includes('value: "2"') && show(widget('w1')).includes('size: 2');
    }, 120_000);
    expect(show(cm('changed-before'))).toContain('value: "2"');
    expect(proc!.exitCode, stderr).toBeNull();

    // Every commit since the start deleted only what the test deleted (never an object that exists).
    const deletedByCommits = git(repo, ['log', '--format=', '--name-status', '--no-renames', '--diff-filter=D', `${initialCommit}..HEAD`])
      .split('\n').filter(Boolean).map((l) => l.replace(/^D\t/, ''));
    expect(deletedByCommits.filter((p) => !gone.includes(p)), `apiserver back after ${startedAfterMs} ms\n${stderr}`).toEqual([]);
    expect(new Set(deletedByCommits).size, 'a file deleted twice was recreated between').toBe(deletedByCommits.length);

    // The watch's tree equals what a sync into a fresh repository writes.
    await sleep((COMMIT_INTERVAL + 1) * 1000);
    const fresh = await runCli(['sync', '--config', writeConfig('fresh')]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(git(repo, ['rev-parse', `HEAD:${base}`])).toBe(git(join(dir, 'fresh'), ['rev-parse', `HEAD:${base}`]));

    proc!.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    git(repo, ['fsck', '--strict']);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  }, 10 * 60_000);
});
