// `kubetrail diff`: live state against the recorded state, with exit codes like diff(1) and `kubectl diff`, and
// the repository left byte for byte as it was. Runs with the CLI under Node and under Deno.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { brokenApiService, createMany, waitForUnavailable } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `drift-${runtime}`;
const id = `drift-${runtime}`;
const canary = `drift-canary-${runtime}-5d21c7`;
const hmacEnv = { KUBETRAIL_HMAC_KEY: 'drift-test-key' };

const dir = tempDir('drift');
const repo = join(dir, 'repo');
const config = join(dir, 'kubetrail.yaml');
writeFileSync(config, [
  `repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    includeSecrets: true',
].join('\n'));
const cli = (...args: string[]) => runCli(args, { env: hmacEnv });
const diff = (...args: string[]) => cli('diff', '--config', config, ...args);

/** Every file of the repository (working tree and .git) with a digest of its bytes. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${p.slice(root.length)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(root);
  return out.sort();
}

const cmPath = `core.v1.ConfigMap/${ns}/app-config.yaml`;

describe(`kubetrail diff (CLI under ${runtime})`, () => {
  let firstSync = '';

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: ${ns}}
data: {LOG_LEVEL: info, feature: "on"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: doomed, namespace: ${ns}}
data: {x: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ${ns}}
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
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`);
    const sync = await cli('sync', '--config', config);
    expect(sync.code).toBe(0);
    firstSync = git(repo, ['rev-parse', 'HEAD']).trim();
  });

  it('exits 0 with no output when live state is what was recorded', async () => {
    const r = await diff();
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
  });

  it('exits 1 with a unified diff naming the field; a deleted and a new object show; the repository is untouched', async () => {
    const before = snapshot(repo);
    const status = git(repo, ['status', '--porcelain']);
    kubectl(['patch', 'configmap', 'app-config', '-n', ns, '--type', 'merge', '-p', '{"data":{"LOG_LEVEL":"debug"}}']);
    kubectl(['delete', 'configmap', 'doomed', '-n', ns]);
    apply(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "newcomer", "namespace": "${ns}"}, "data": {"y": "2"}}`);
    kubectl(['patch', 'secret', 'db', '-n', ns, '--type', 'merge', '-p', `{"stringData":{"password":"${canary}-rotated"}}`]);

    const r = await diff();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`diff -u -N recorded/${cmPath} live/${cmPath}\n--- recorded/${cmPath}\n+++ live/${cmPath}\n@@`);
    expect(r.stdout).toMatch(/^-  LOG_LEVEL: info\n\+  LOG_LEVEL: debug$/m);
    expect(r.stdout).toContain(`--- recorded/core.v1.ConfigMap/${ns}/doomed.yaml\n+++ /dev/null\n`);
    expect(r.stdout).toContain(`--- /dev/null\n+++ live/core.v1.ConfigMap/${ns}/newcomer.yaml\n`);
    // The Secret is compared as recorded: digests, never the value.
    expect(r.stdout).toMatch(/^-  password: hmac-sha256:[0-9a-f]{64}\n\+  password: hmac-sha256:[0-9a-f]{64}$/m);
    expect(r.stdout).not.toContain(canary);
    expect(r.stdout).not.toContain(Buffer.from(canary).toString('base64').slice(0, 16));
    // Only these objects: nothing else drifted.
    expect([...r.stdout.matchAll(/^diff -u -N recorded\/(\S+)/gm)].map((m) => m[1])).toEqual([
      cmPath, `core.v1.ConfigMap/${ns}/doomed.yaml`, `core.v1.ConfigMap/${ns}/newcomer.yaml`, `core.v1.Secret/${ns}/db.yaml`]);

    const json = await diff('--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ clusterId: id, commit: firstSync, drift: true, failed: [] });
    const byName = Object.fromEntries(report.objects.map((o: { name: string }) => [o.name, o]));
    expect(byName['app-config']).toEqual({
      path: cmPath, type: 'core.v1.ConfigMap', namespace: ns, name: 'app-config', kind: 'changed',
      diff: { added: [], removed: [], updated: [{ path: 'data.LOG_LEVEL', from: 'info', to: 'debug' }] },
    });
    expect([byName.doomed.kind, byName.newcomer.kind, byName.db.kind]).toEqual(['deleted', 'added', 'changed']);
    expect(byName.newcomer.diff.added.map((a: { path: string }) => a.path)).toEqual(['apiVersion', 'kind', 'metadata', 'data']);

    // Filters: a type pattern and a namespace narrow both sides.
    expect((await diff('--type', 'apps.*')).code).toBe(0);
    const secrets = await diff('--type', 'core.v1.Secret', '--namespace', ns);
    expect(secrets.code).toBe(1);
    expect([...secrets.stdout.matchAll(/^diff -u -N recorded\/(\S+)/gm)].map((m) => m[1])).toEqual([`core.v1.Secret/${ns}/db.yaml`]);
    expect((await diff('--namespace', 'kube-system')).code).toBe(0);

    expect(git(repo, ['status', '--porcelain'])).toBe(status);
    expect(snapshot(repo)).toEqual(before);
  });

  it('compares with an earlier commit given by --at', async () => {
    const sync = await cli('sync', '--config', config);
    expect(sync.code).toBe(0);
    expect((await diff()).code).toBe(0);
    const then = await diff('--at', firstSync.slice(0, 10), '--type', 'core.v1.ConfigMap');
    expect(then.code).toBe(1);
    expect(then.stdout).toMatch(/^-  LOG_LEVEL: info$/m);
  });

  it('exits 2 on bad flags and an unknown cluster, naming the problem', async () => {
    const push = await diff('--push');
    expect([push.code, push.stderr]).toEqual([2, 'kubetrail: --push is not an option of "kubetrail diff" (try --help)\n']);
    const at = await diff('--at', 'yesterday');
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('"yesterday" is neither a commit id nor an ISO time');
    const type = await diff('--type', 'a b');
    expect(type.code).toBe(2);
    const unknown = await diff('--cluster', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`kubetrail: unknown cluster nope (configured: ${id})\n`);
    const missing = await cli('diff', '--repo', join(dir, 'nothing-here'), '--kubeconfig', testenv().KUBECONFIG);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no git repository at ${join(dir, 'nothing-here')}`);
  });

  it('exits 2 when an API group cannot be read: its drift is unknown, and it is named', async () => {
    const client = adminClient();
    const group = `broken-drift-${runtime}.example.com`;
    await createMany(client, '/apis/apiregistration.k8s.io/v1/apiservices', [brokenApiService(group)]);
    await waitForUnavailable(client, `v1.${group}`);
    try {
      const r = await diff('--namespace', ns);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe(''); // the namespace has no drift; the error alone decides
      expect(r.stderr).toContain(`kubetrail: ${group}.v1.* could not be read, its drift is unknown:`);
    } finally {
      await client.sendJSON('DELETE', `/apis/apiregistration.k8s.io/v1/apiservices/v1.${group}`);
    }
  });
});
