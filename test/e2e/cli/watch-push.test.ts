// `kubetrail watch --push` and `kubetrail run` with `mode: watch`: each window's commit reaches the remote as a sync's
// does (a real git smart-HTTP server): re-applied on the new head when another cluster pushed first, retried when
// the remote was away, published once more on SIGTERM. Runs with the CLI under Node and under Deno.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { waitFor as waitUntil } from '../../helpers/wait.ts';

const ns = `wpush-${runtime}`;
const id = `wpush-${runtime}`;
const other = `wpush-other-${runtime}`;
const token = `wpush-token-${runtime}`;
const env = { KUBETRAIL_GIT_TOKEN: token, KUBETRAIL_API_TOKEN: token };

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {value: "${value}"}\n`;

describe(`kubetrail watch --push (CLI under ${runtime})`, () => {
  const dir = tempDir('wpush');
  const remotes = tempDir('wpush-remotes');
  const remoteDir = join(remotes, 'watch.git');
  let server: GitServer;
  let proc: ChildProcess | undefined;
  let output = '';

  const config = (name: string, cluster: string, extra: string[] = []) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, [`repo: ${join(dir, name)}`, `remote: {url: ${server.repoUrl('watch.git')}, branch: main, allowInsecureHttp: true}`,
      ...extra, 'clusters:', `  - id: ${cluster}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`,
      '    select: [core.v1.ConfigMap]'].join('\n'));
    return file;
  };
  const remote = (args: string[]) => git(remoteDir, args);
  const remoteFile = (cluster: string, name: string) => {
    const r = spawnSync('git', ['-C', remoteDir, 'show', `main:clusters/${cluster}/core.v1.ConfigMap/${ns}/${name}.yaml`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : ''; // no branch yet, or the remote is away
  };
  const waitFor = <T>(what: string, check: () => T | undefined | false, ms = 30_000) => waitUntil(what, check, ms, () => `\noutput:\n${output}`);
  const start = (args: string[]) => {
    output = '';
    proc = spawnCli(args, { env });
    proc.stdout!.on('data', (c) => { output += c; });
    proc.stderr!.on('data', (c) => { output += c; });
    return new Promise<number | null>((resolve) => proc!.on('exit', (code) => resolve(code)));
  };

  beforeAll(async () => {
    server = await startGitServer({ root: remotes, token });
    server.createBareRepo('watch.git');
    await ensureNamespace(adminClient(), ns);
    apply(configMap('app', 'v1'));
  });
  afterAll(async () => {
    if (proc?.exitCode === null) proc.kill('SIGKILL');
    await server?.close();
  });

  it('pushes the initial sync and each window; re-applies on the head another cluster pushed; retries a remote that was away; publishes what is pending on SIGTERM', async () => {
    const exited = start(['watch', '--config', config('watcher', id), '--push', '--commit-interval', '2']);
    await waitFor('the initial sync on the remote', () => remoteFile(id, 'app').includes('value: v1'));

    // Another cluster's CronJob pushes first: the watch's next push is rejected, re-applied on that head, retried.
    const sync = await runCli(['sync', '--config', config('other', other), '--push'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    kubectl(['-n', ns, 'patch', 'configmap', 'app', '-p', '{"data":{"value":"v2"}}']);
    await waitFor('the change on the remote', () => remoteFile(id, 'app').includes('value: v2'));
    expect(remoteFile(other, 'app')).toContain('value: v1'); // the other cluster's push is kept

    // The remote is away: the window is committed here, reported, and pushed once it is back, with no new change.
    renameSync(remoteDir, `${remoteDir}.away`);
    kubectl(['-n', ns, 'patch', 'configmap', 'app', '-p', '{"data":{"value":"v3"}}']);
    await waitFor('the failed publish reported', () => output.includes('publishing failed'));
    renameSync(`${remoteDir}.away`, remoteDir);
    await waitFor('the retried push', () => remoteFile(id, 'app').includes('value: v3'));

    // SIGTERM right after a change: the pending window is committed and pushed before the exit.
    kubectl(['-n', ns, 'patch', 'configmap', 'app', '-p', '{"data":{"value":"v4"}}']);
    await new Promise((r) => setTimeout(r, 500)); // the watch event arrives
    proc!.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(remoteFile(id, 'app')).toContain('value: v4');

    expect(remote(['rev-parse', 'main'])).toBe(git(join(dir, 'watcher'), ['rev-parse', 'HEAD']));
    expect(remote(['rev-list', '--merges', 'main'])).toBe(''); // linear: re-applied, never merged or forced
    expect(remote(['fsck', '--strict', '--no-dangling'])).toBe('');
    // Every value in order, each change in the commit of its window: the history is the audit trail.
    const values = remote(['log', '--reverse', '-p', '--format=', 'main', '--', `clusters/${id}/core.v1.ConfigMap/${ns}/app.yaml`])
      .split('\n').filter((l) => /^\+\s+value:/.test(l)).map((l) => l.replace(/^\+\s+value:\s*/, ''));
    expect(values).toEqual(['v1', 'v2', 'v3', 'v4']);
    git(join(dir, 'watcher'), ['fsck', '--strict']);
  }, 180_000);

  it('kubetrail run with mode: watch commits and pushes changes as they happen; a sync trigger is refused with 409', async () => {
    const file = config('daemon', id, ['mode: watch', 'watch: {commitIntervalSeconds: 2}']);
    const exited = start(['run', '--config', file, '--port', '0']);
    const port = Number((await waitFor('listening', () => output.match(/"msg":"listening","port":(\d+)/)))![1]);
    await waitFor('watching', () => output.includes('"msg":"watching types"'));
    kubectl(['-n', ns, 'patch', 'configmap', 'app', '-p', '{"data":{"value":"v5"}}']);
    await waitFor('the change on the remote', () => remoteFile(id, 'app').includes('value: v5'));

    const res = await fetch(`http://127.0.0.1:${port}/api/v1/clusters/${id}/sync`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(409);
    expect((await res.json()).error.message).toContain('is watched');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);

    proc!.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(remote(['rev-parse', 'main'])).toBe(git(join(dir, 'daemon'), ['rev-parse', 'HEAD']));
    expect(remote(['fsck', '--strict', '--no-dangling'])).toBe('');
  }, 180_000);
});
