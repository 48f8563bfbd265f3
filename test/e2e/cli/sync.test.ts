// `kubetrail sync` as a user runs it, checked with the git CLI. Runs with the CLI under Node and under Deno.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readChain } from '../../../src/store/commit-graph.ts';
import { ObjectWriter } from '../../../src/store/loose.ts';
import { createCrd, createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, root, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `sync-${runtime}`;
const id = `e2e-${runtime}`;
const canary = `canary-${runtime}-7f3a9c1e`;
const client = adminClient();

const manifests = `
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: ${ns}}
data: {LOG_LEVEL: info, feature: "on"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: ${ns}}
data: {x: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: db-password, namespace: ${ns}}
stringData: {password: ${canary}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
      volumes: [{name: cache, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {ports: [{port: 80}], selector: {app: web}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "kt:${runtime}:reader"}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: sync.example.com/v1
kind: Gizmo
metadata: {name: g1, namespace: ${ns}}
spec: {color: blue, extra: {nested: [1, 2]}}
`;

function writeConfig(dir: string, extra: string[] = [], clusterExtra: string[] = []): string {
  const file = join(dir, 'kubetrail.yaml');
  writeFileSync(file, [
    `repo: ${join(dir, 'repo')}`, ...extra,
    'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    includeSecrets: true',
    ...clusterExtra,
  ].join('\n'));
  return file;
}

const hmacEnv = { KUBETRAIL_HMAC_KEY: 'test-hmac-key' };
const commits = (repo: string) => Number(git(repo, ['rev-list', '--count', 'HEAD']));

describe(`kubetrail sync (CLI under ${runtime})`, () => {
  const dir = tempDir('sync');
  const repo = join(dir, 'repo');
  const config = writeConfig(dir);
  const sync = (...args: string[]) => runCli(['sync', '--config', config, ...args], { env: hmacEnv });
  const base = `clusters/${id}`;

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    await createCrd(client, 'sync.example.com', 'Gizmo', 'gizmos');
    apply(manifests);
  });

  it('writes every object at its path, commits once, and the repository is clean for git', async () => {
    const res = await sync('--json');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({ clusterId: id, status: 'complete', changed: 0, deleted: 0, failedTypes: [] });
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const path of [
      `core.v1.ConfigMap/${ns}/app-config.yaml`, `core.v1.Secret/${ns}/db-password.yaml`, `apps.v1.Deployment/${ns}/web.yaml`,
      `core.v1.Service/${ns}/web.yaml`, `rbac.authorization.k8s.io.v1.ClusterRole/_cluster/kt:${runtime}:reader.yaml`,
      `sync.example.com.v1.Gizmo/${ns}/g1.yaml`, `core.v1.Namespace/_cluster/${ns}.yaml`,
    ]) {
      expect(git(repo, ['cat-file', '-t', `HEAD:${base}/${path}`]).trim()).toBe('blob');
      expect(existsSync(join(repo, base, path))).toBe(true);
    }
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    expect(commits(repo)).toBe(1);
    expect(git(repo, ['log', '-1', '--format=%s'])).toBe(`${id}: +${result.added} ~0 -0\n`);
    const deployment = readFileSync(join(repo, base, `apps.v1.Deployment/${ns}/web.yaml`), 'utf8');
    expect(deployment).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n {2}name: web\n/);
    expect(deployment).toContain('emptyDir: {}');
    expect(deployment).not.toMatch(/resourceVersion|managedFields|^status:/m);
    const gizmo = readFileSync(join(repo, base, `sync.example.com.v1.Gizmo/${ns}/g1.yaml`), 'utf8');
    expect(gizmo).toContain('extra:\n    nested:\n      - 1\n      - 2\n');
  });

  it('never lets the Secret value into any commit', () => {
    const history = git(repo, ['log', '-p', '--all']);
    expect(history).toContain('db-password');
    expect(history).not.toContain(canary);
    expect(history).not.toContain(Buffer.from(canary).toString('base64'));
    expect(readFileSync(join(repo, base, `core.v1.Secret/${ns}/db-password.yaml`), 'utf8')).toMatch(/password: hmac-sha256:[0-9a-f]{64}/);
  });

  it('makes no commit and writes no blob when nothing changed', async () => {
    const before = commits(repo);
    const res = await sync('--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ added: 0, changed: 0, deleted: 0, blobsWritten: 0 });
    expect(JSON.parse(res.stdout).commit).toBeUndefined();
    expect(commits(repo)).toBe(before);
  });

  it('one changed ConfigMap gives exactly one commit touching exactly that file', async () => {
    const before = commits(repo);
    kubectl(['-n', ns, 'patch', 'configmap', 'app-config', '-p', '{"data":{"LOG_LEVEL":"debug"}}']);
    const res = await sync();
    expect(res.code).toBe(0);
    expect(commits(repo)).toBe(before + 1);
    expect(git(repo, ['show', '--name-only', '--format=', 'HEAD']).trim()).toBe(`${base}/core.v1.ConfigMap/${ns}/app-config.yaml`);
    expect(git(repo, ['show', '--format=%s', '-s', 'HEAD']).trim()).toBe(`${id}: +0 ~1 -0`);
  });

  it('--dry-run prints what would change and writes nothing', async () => {
    kubectl(['-n', ns, 'patch', 'configmap', 'other', '-p', '{"data":{"x":"2"}}']);
    const head = git(repo, ['rev-parse', 'HEAD']);
    const objectsBefore = git(repo, ['count-objects', '-v']);
    const res = await sync('--dry-run');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`~ core.v1.ConfigMap/${ns}/other.yaml`);
    expect(git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(git(repo, ['count-objects', '-v'])).toBe(objectsBefore);
    await sync(); // record it, so later steps see one change each
  });

  it('a deleted object gives one commit removing its file', async () => {
    const before = commits(repo);
    kubectl(['-n', ns, 'delete', 'service', 'web']);
    expect((await sync()).code).toBe(0);
    expect(commits(repo)).toBe(before + 1);
    expect(git(repo, ['show', '--name-status', '--format=', 'HEAD']).trim()).toBe(`D\t${base}/core.v1.Service/${ns}/web.yaml`);
    expect(existsSync(join(repo, base, `core.v1.Service/${ns}/web.yaml`))).toBe(false);
  });

  it('git log -p of the ConfigMap type reads as an audit trail, in order', () => {
    const log = git(repo, ['log', '-p', '--reverse', '--format=commit %s', '--', `${base}/core.v1.ConfigMap`]);
    const steps = log.split('\ncommit ').length;
    expect(steps).toBe(3);
    expect(log.indexOf('+  LOG_LEVEL: info')).toBeLessThan(log.indexOf('-  LOG_LEVEL: info'));
    expect(log.indexOf('-  LOG_LEVEL: info')).toBeLessThan(log.indexOf('+  LOG_LEVEL: debug'));
    expect(log.indexOf('+  LOG_LEVEL: debug')).toBeLessThan(log.indexOf('+  x: "2"'));
  });

  it('each run keeps git\'s commit-graph current: every commit in it, verify clean, path-limited log from its filters', () => {
    const layers = readChain(join(repo, '.git')).layers;
    expect(layers.reduce((n, l) => n + l.count, 0)).toBe(Number(git(repo, ['rev-list', '--count', '--all'])));
    git(repo, ['commit-graph', 'verify']);
    const query = ['log', '-p', '--', `${base}/core.v1.ConfigMap`];
    expect(git(repo, ['-c', 'core.commitGraph=true', ...query])).toBe(git(repo, ['-c', 'core.commitGraph=false', ...query]));
    const trace = join(dir, 'trace2.json');
    execFileSync('git', ['-C', repo, ...query], { env: { ...process.env, GIT_TRACE2_EVENT: trace } });
    const stats = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .find((e) => e.category === 'bloom' && e.key === 'statistics')?.value;
    expect(stats).toMatchObject({ filter_not_present: 0 });
    expect(stats.definitely_not).toBeGreaterThan(0); // the commit that deleted the Service did not touch ConfigMaps
  });

  it('a run waits for another run on the same repository instead of interleaving', async () => {
    const [a, b] = await Promise.all([sync('--json'), sync('--json')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('refuses when the repository stays locked by a live process', async () => {
    const lock = join(repo, '.git', 'kubetrail.lock');
    writeFileSync(lock, `${process.pid} ${(await import('node:os')).hostname()}\n`);
    try {
      const res = await sync('--lock-wait', '1');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/locked by another kubetrail run/);
    } finally {
      (await import('node:fs')).rmSync(lock);
    }
  });

  it('a repository kept between runs does not pile up loose objects: a run packs them, as git gc --auto would', async () => {
    // What thousands of small syncs leave behind, made quickly: loose objects, each in place as a sync writes it.
    const writer = new ObjectWriter(join(repo, '.git'));
    const extra = await Promise.all(Array.from({ length: 8000 }, (_, i) => writer.write('blob', Buffer.from(`left by run ${i}\n`))));
    const loose = () => Number(git(repo, ['count-objects', '-v']).match(/^count: (\d+)/m)![1]);
    expect(loose()).toBeGreaterThan(8000);
    const head = git(repo, ['rev-parse', 'HEAD']).trim();
    kubectl(['-n', ns, 'patch', 'configmap', 'other', '-p', '{"data":{"x":"3"}}']);
    const res = await sync();
    expect(res.code).toBe(0);
    expect(loose()).toBe(0); // the run's own new objects too
    expect(git(repo, ['fsck', '--strict'])).toMatch(/^(dangling blob [0-9a-f]{40}\n?)*$/); // the 8,000 made above
    expect(git(repo, ['cat-file', '-t', extra[4321]]).trim()).toBe('blob');
    expect(git(repo, ['rev-parse', 'HEAD~1']).trim()).toBe(head);
    expect(git(repo, ['show', `HEAD:${base}/core.v1.ConfigMap/${ns}/other.yaml`])).toContain('x: "3"');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  });
});

describe(`sync safety (CLI under ${runtime})`, () => {
  it('refuses a mass deletion unless allowed', async () => {
    const massNs = `mass-${runtime}`;
    await ensureNamespace(client, massNs);
    await createMany(client, `/api/v1/namespaces/${massNs}/configmaps`,
      Array.from({ length: 30 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bulk-${i}`, labels: { bulk: i < 20 ? 'yes' : 'no' } } })));
    const dir = tempDir('mass');
    const repo = join(dir, 'repo');
    writeFileSync(join(dir, 'k.yaml'), [`repo: ${repo}`, 'clusters:', '  - id: mass', `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    namespaces: [${massNs}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    const sync = (...args: string[]) => runCli(['sync', '--config', join(dir, 'k.yaml'), ...args]);
    expect((await sync()).code).toBe(0);
    kubectl(['-n', massNs, 'delete', 'configmap', '-l', 'bulk=yes']);
    const refused = await sync();
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('refusing to delete 20 of 30 recorded objects (more than maxDeletePercent 50%)');
    expect(commits(repo)).toBe(1);
    const allowed = await sync('--allow-mass-delete');
    expect(allowed.code).toBe(0);
    expect(commits(repo)).toBe(2);
    expect(git(repo, ['show', '--format=%s', '-s', 'HEAD']).trim()).toBe('mass: +0 ~0 -20');
  });

  it('bad config names the field and exits non-zero, touching nothing', async () => {
    const dir = tempDir('badcfg');
    writeFileSync(join(dir, 'k.yaml'), `repo: ${dir}/repo\nclusters:\n  - id: a\n    connection: {server: "http://plain"}\n`);
    const res = await runCli(['sync', '--config', join(dir, 'k.yaml')]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('kubetrail: config error: clusters[0].connection.server: must be an https URL (got "http://plain")');
    expect(existsSync(join(dir, 'repo'))).toBe(false);
  });

  it('without --config: the current kubeconfig context, id from the context name', async () => {
    const dir = tempDir('noconfig');
    const res = await runCli(['sync', '--repo', join(dir, 'repo'), '--json'], { env: { KUBECONFIG: testenv().KUBECONFIG } });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ clusterId: 'testenv', status: 'complete' });
    expect(git(join(dir, 'repo'), ['ls-tree', '--name-only', 'HEAD:clusters'])).toBe('testenv\n');
  });

  it('--version and --help', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage:\n\s+kubetrail sync/);
    expect((await runCli([])).code).toBe(2);
  });

  it('bare: true keeps only git objects and refs, no working tree', async () => {
    const dir = tempDir('bare');
    const repo = join(dir, 'repo.git');
    writeFileSync(join(dir, 'k.yaml'), [`repo: ${repo}`, 'bare: true', 'clusters:', '  - id: bare', `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    expect((await runCli(['sync', '--config', join(dir, 'k.yaml')])).code).toBe(0);
    expect(git(repo, ['rev-parse', '--is-bare-repository']).trim()).toBe('true');
    expect(existsSync(join(repo, 'clusters'))).toBe(false);
    expect(git(repo, ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain(`clusters/bare/core.v1.ConfigMap/${ns}/app-config.yaml`);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('unknown flags are a usage error (exit 2)', async () => {
    const res = await runCli(['sync', '--frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/frobnicate/);
  });
});
