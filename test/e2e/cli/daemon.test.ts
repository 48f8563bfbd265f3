// `kubetrail run`: scheduled syncs, push, HTTP triggers that never overlap a run, signed webhooks, clean SIGTERM.
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { until as waitUntil } from '../../helpers/wait.ts';

const ns = `daemon-${runtime}`;
const id = `daemon-${runtime}`;
const apiToken = 'daemon-api-token';
const hookSecret = 'hook-secret';
const gitToken = 'daemon-git-token';

const until = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000) => waitUntil(what, fn, ms);

describe(`kubetrail run (daemon under ${runtime})`, () => {
  const dir = tempDir('daemon');
  const repo = join(dir, 'repo');
  const hooks: { event: string; signature: string; body: string; headers: Record<string, string> }[] = [];
  const kubeconfig = join(dir, 'kubeconfig'); // a copy the test can break, to make a sync fail
  let receiver: Server;
  let gitServer: GitServer;
  let child: ReturnType<typeof spawnCli>;
  let stderr = '';
  let port = 0;

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    // Enough objects that a sync takes a moment, so a second trigger meets a running one.
    await createMany(adminClient(), `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: 1500 }, (_, i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { v: `${i}` },
    })));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hooks.push({ event: String(req.headers['x-kubetrail-event']), signature: String(req.headers['x-kubetrail-signature-256']), body, headers: req.headers as Record<string, string> });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    writeFileSync(kubeconfig, readFileSync(testenv().KUBECONFIG));
    gitServer = await startGitServer({ root: tempDir('daemon-remote'), token: gitToken });
    gitServer.createBareRepo('daemon.git');
    writeFileSync(join(dir, 'k.yaml'), [
      `repo: ${repo}`, 'schedule: "*/3 * * * * *"', 'api: {host: 127.0.0.1}',
      `remote: {url: ${gitServer.repoUrl('daemon.git')}, allowInsecureHttp: true}`, // the test's git server speaks http on loopback
      'webhooks:',
      `  - {url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook", events: ["*"], secretEnv: HOOK_SECRET}`,
      '  - {url: "http://127.0.0.1:1/dead", events: ["cluster.sync.completed"]}',
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${kubeconfig}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]',
    ].join('\n'));
    child = spawnCli(['run', '--config', join(dir, 'k.yaml'), '--port', '0'],
      { env: { KUBETRAIL_API_TOKEN: apiToken, HOOK_SECRET: hookSecret, KUBETRAIL_GIT_TOKEN: gitToken } });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    port = await until('the API', () => Number(stderr.match(/"msg":"listening","port":(\d+)/)?.[1] ?? 0));
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    receiver?.close();
    await gitServer?.close();
  });

  it('syncs on schedule, commits and pushes, and picks up a change at the next tick', async () => {
    await until('the first scheduled commit', () => git(repo, ['log', '--format=%s']).includes(`${id}: +1500`));
    kubectl(['-n', ns, 'patch', 'configmap', 'cm-7', '-p', '{"data":{"v":"changed"}}']);
    await until('the change to be committed', () => git(repo, ['log', '-1', '--format=%s']).includes(`${id}: +0 ~1 -0`));
    const remote = join(tempDir('daemon-clone'), 'r');
    await until('the push', () => {
      git(dir, ['clone', '-q', gitServer.repoUrl('daemon.git').replace('http://', `http://x:${gitToken}@`), remote]);
      if (git(remote, ['log', '--format=%s']).includes(`${id}: +0 ~1 -0`)) return true;
      rmSync(remote, { recursive: true, force: true });
      return false;
    });
  });

  it('an HTTP trigger never runs beside a sync of the same cluster: 409 instead', async () => {
    const trigger = () => fetch(`http://127.0.0.1:${port}/api/v1/clusters/${id}/sync`, { method: 'POST', headers: { Authorization: `Bearer ${apiToken}` } });
    const statuses = (await Promise.all([trigger(), trigger(), trigger()])).map((r) => r.status).sort();
    expect(statuses).toContain(409);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('delivers signed webhooks; a dead receiver does not fail syncs', async () => {
    await until('webhooks', () => hooks.some((h) => h.event === 'change.detected') && hooks.some((h) => h.event === 'cluster.sync.completed'));
    for (const h of hooks) {
      expect(new Webhook(hookSecret, { format: 'raw' }).verify(h.body, h.headers)).toMatchObject({ event: h.event });
      expect(h.signature).toBe(`sha256=${createHmac('sha256', hookSecret).update(h.body).digest('hex')}`);
      expect(JSON.parse(h.body).event).toBe(h.event);
    }
    const completed = JSON.parse(hooks.find((h) => h.event === 'cluster.sync.completed')!.body);
    expect(completed.data.result).toMatchObject({ clusterId: id });
    expect(completed.data.result.status).not.toBe('failed');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`kubetrail_sync_failures_total{cluster="${id}"} 0`);
  });

  it('metrics: a failed sync keeps the object count and the last success time; process, heap and GC metrics are there', async () => {
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (text: string, name: string) => text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1];
    const good = await until('a successful sync in the metrics', async () => {
      const text = await metrics();
      return value(text, `kubetrail_objects\\{cluster="${id}"\\}`) === '1500' ? text : undefined;
    });
    const lastSuccess = Number(value(good, `kubetrail_last_success_timestamp_seconds\\{cluster="${id}"\\}`));
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(120);
    const server = readFileSync(kubeconfig, 'utf8').match(/server: (\S+)/)![1];
    writeFileSync(kubeconfig, readFileSync(kubeconfig, 'utf8').replace(server, 'https://127.0.0.1:1'));
    try {
      const failed = await until('a failed sync in the metrics', async () => {
        const text = await metrics();
        return Number(value(text, `kubetrail_sync_failures_total\\{cluster="${id}"\\}`)) >= 1 ? text : undefined;
      }, 60_000);
      expect(value(failed, `kubetrail_objects\\{cluster="${id}"\\}`)).toBe('1500');
      expect(Number(value(failed, `kubetrail_last_success_timestamp_seconds\\{cluster="${id}"\\}`))).toBeGreaterThanOrEqual(lastSuccess);
      expect(Number(value(failed, 'process_resident_memory_bytes'))).toBeGreaterThan(10e6);
      expect(Number(value(failed, 'nodejs_heap_size_used_bytes'))).toBeGreaterThan(1e6);
      expect(failed).toContain('# TYPE nodejs_gc_duration_seconds histogram'); // observations under Node; Deno reports no GC entries
      if (runtime === 'node') expect(failed).toMatch(/^nodejs_gc_duration_seconds_count\{kind="(minor|major)"\} [1-9]/m);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503); // readiness and metrics are fed by the same event: they agree at once
    } finally {
      writeFileSync(kubeconfig, readFileSync(kubeconfig, 'utf8').replace('https://127.0.0.1:1', server));
    }
  }, 120_000);

  it('logs one JSON object per line and stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines.every((l) => typeof JSON.parse(l).msg === 'string')).toBe(true);
    expect(lines.some((l) => JSON.parse(l).msg === 'stopping')).toBe(true);
    expect(existsSync(join(repo, '.git', 'kubetrail.lock'))).toBe(false);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
});
