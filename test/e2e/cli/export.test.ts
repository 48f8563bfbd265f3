// `kubetrail export` round trip on a real-world fixture (test/fixtures/real-world): sync, export, delete the
// namespaced objects, `kubectl apply --server-side` the export, sync again, and read in git exactly what differs.
// Runs with the CLI under Node and under Deno.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { diffObjects } from '../../../src/history/diff.ts';
import { git, kubectl, root, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = 'kubernetes-dashboard';
const id = `export-${runtime}`;
const fixture = readFileSync(join(root, 'test/fixtures/real-world/kubernetes-dashboard.yaml'), 'utf8');
const docs = parseAllDocuments(fixture).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SECRETS = ['kubernetes-dashboard-certs', 'kubernetes-dashboard-csrf', 'kubernetes-dashboard-key-holder'];
const hmacEnv = { KUBETRAIL_HMAC_KEY: 'export-test-key' };

const dir = tempDir('export');
const repo = join(dir, 'repo');
const config = join(dir, 'kubetrail.yaml');
writeFileSync(config, [
  `repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    includeSecrets: true',
].join('\n'));
const cli = (...args: string[]) => runCli(args, { env: hmacEnv });
const head = () => git(repo, ['rev-parse', 'HEAD']).trim();
const docText = (kind: string, name: string) => fixture.split(/^---$/m).find((t) => new RegExp(`^kind: ${kind}$`, 'm').test(t) && t.includes(`name: ${name}\n`))!;

describe(`kubetrail export (CLI under ${runtime})`, () => {
  let stream = '';
  let firstSync = '';

  beforeAll(async () => {
    // The CRD first: its custom resource can only be created once the CRD is established.
    const crd = docs.findIndex((d) => d.kind === 'CustomResourceDefinition');
    kubectl(['apply', '-f', '-'], fixture.split(/^---$/m).filter((t) => !/^kind: Foo$/m.test(t)).join('---'));
    kubectl(['wait', '--for', 'condition=established', '--timeout=60s', `crd/${docs[crd].metadata.name}`]);
    kubectl(['apply', '-f', '-'], docText('Foo', 'example-foo'));
    const sync = await cli('sync', '--config', config);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    firstSync = head();
  });

  it('writes the recorded state as one stream in dependency order, without server-set fields or redacted values', async () => {
    const r = await cli('export', '--config', config, '--cluster', id, '-o', '-');
    expect(r.code).toBe(0);
    stream = r.stdout;
    // A value digest (csrf), or the digest of client-side apply's last-applied annotation (all three): never exported.
    for (const secret of SECRETS) expect(r.stderr).toContain(`not restorable (redacted): core.v1.Secret ${ns}/${secret}`);
    const exported = parseAllDocuments(stream).map((d) => d.toJS() as { kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> });
    const names = exported.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names.filter((n) => n.startsWith('Secret/'))).toEqual([]);
    expect(stream).not.toContain('hmac-sha256');
    for (const o of exported) {
      expect(Object.keys(o.metadata).filter((k) => ['uid', 'creationTimestamp', 'resourceVersion', 'generation', 'managedFields'].includes(k))).toEqual([]);
      expect(o).not.toHaveProperty('status');
    }
    const services = exported.filter((o) => o.kind === 'Service' && o.metadata.namespace === ns);
    expect(services.map((s) => [s.metadata.name, s.spec!.clusterIP, s.spec!.clusterIPs])).toEqual([
      ['dashboard-metrics-scraper', undefined, undefined], ['kubernetes-dashboard', undefined, undefined], ['nginx', 'None', ['None']]]);
    // Dependency order of the fixture's objects.
    const fixtureNames = new Set(docs.map((d) => `${d.kind}/${d.metadata.name}`));
    expect(names.filter((n) => fixtureNames.has(n) && !n.startsWith('Namespace/') || n === `Namespace/${ns}`)).toEqual([
      'CustomResourceDefinition/foos.samplecontroller.k8s.io', `Namespace/${ns}`,
      'ClusterRole/kubernetes-dashboard', 'ClusterRoleBinding/kubernetes-dashboard',
      'ServiceAccount/kubernetes-dashboard',
      'ConfigMap/kubernetes-dashboard-settings', 'Role/kubernetes-dashboard', 'RoleBinding/kubernetes-dashboard',
      'Service/dashboard-metrics-scraper', 'Service/kubernetes-dashboard', 'Service/nginx',
      'Deployment/dashboard-metrics-scraper', 'Deployment/kubernetes-dashboard', 'StatefulSet/web', 'Foo/example-foo',
    ]);
  });

  it('writes one file per stage with --json, and kubectl apply --dry-run=server takes the whole export', async () => {
    const out = join(dir, 'export');
    const r = await cli('export', '--config', config, '--cluster', id, '-o', out, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ clusterId: id, commit: firstSync,
      notRestorable: SECRETS.map((name) => ({ type: 'core.v1.Secret', namespace: ns, name, reason: 'not restorable (redacted)' })) });
    expect(readdirSync(out)).toEqual(report.files.map((f: { file: string }) => f.file));
    expect(readdirSync(out)).toEqual(['1-crds.yaml', '2-namespaces.yaml', '3-cluster.yaml', '4-config.yaml', '5-workloads.yaml', '6-webhooks.yaml', '7-custom-resources.yaml']);
    expect(report.objects).toBeGreaterThan(docs.length);
    const applied = kubectl(['apply', '--dry-run=server', '-f', out]);
    expect(applied.split('\n').filter(Boolean)).toHaveLength(report.objects);
  });

  // The namespace's export is applied, as the cluster-scoped objects were not deleted (the dry run covers them).
  // kubectl's last-applied annotation, which `kubectl apply` would rewrite to the export it applied, is not
  // recorded (the keepLastApplied default), so it is not a difference either.
  it('round trip: after deleting the namespaced objects, the applied export gives back the same objects but for uid, creationTimestamp and a Service\'s allocated IP', async () => {
    const namespaced = docs.filter((d) => d.metadata.namespace);
    const oldIps = Object.fromEntries(['kubernetes-dashboard', 'dashboard-metrics-scraper'].map((s) => [s, kubectl(['get', 'svc', '-n', ns, s, '-o', 'jsonpath={.spec.clusterIP}'])]));
    kubectl(['delete', '-n', ns, ...namespaced.map((d) => `${d.kind === 'Foo' ? 'foos.samplecontroller.k8s.io' : d.kind.toLowerCase()}/${d.metadata.name}`)]);
    expect(kubectl(['get', 'deploy,sts,svc,cm,secret,sa,role,rolebinding,foos.samplecontroller.k8s.io', '-n', ns, '-o', 'name'])).toBe('');

    const exported = await cli('export', '--config', config, '--cluster', id, '--namespace', ns);
    expect(exported.code).toBe(0);
    const manifests = new Map(parseAllDocuments(exported.stdout).map((d) => d.toJS()).map((m) => [`${m.kind}/${m.metadata.name}`, m]));
    const file = join(dir, 'export.yaml');
    writeFileSync(file, exported.stdout);
    kubectl(['apply', '--server-side', '-f', file]);
    // The export says it cannot restore these Secrets: they come from their source, as an operator would apply them.
    for (const secret of SECRETS) kubectl(['apply', '-f', '-'], docText('Secret', secret));

    const sync = await cli('sync', '--config', config);
    expect(sync.code).toBe(0);
    const commit = head();
    expect(commit).not.toBe(firstSync);
    const changed = git(repo, ['show', '--format=', '--name-only', commit]).split('\n').filter(Boolean).sort();
    const base = `clusters/${id}`;
    const typeDir: Record<string, string> = {
      ServiceAccount: 'core.v1.ServiceAccount', Service: 'core.v1.Service', Secret: 'core.v1.Secret', ConfigMap: 'core.v1.ConfigMap',
      Role: 'rbac.authorization.k8s.io.v1.Role', RoleBinding: 'rbac.authorization.k8s.io.v1.RoleBinding', Deployment: 'apps.v1.Deployment',
      StatefulSet: 'apps.v1.StatefulSet', Foo: 'samplecontroller.k8s.io.v1alpha1.Foo',
    };
    const expected = namespaced.map((d) => `${base}/${typeDir[d.kind]}/${ns}/${d.metadata.name}.yaml`).sort();
    expect(changed).toEqual(expected); // every restored object, and nothing else (cluster-scoped objects untouched)

    // The field-level difference of each file, exactly.
    for (const path of changed) {
      const before = parse(git(repo, ['show', `${commit}^:${path}`]));
      const after = parse(git(repo, ['show', `${commit}:${path}`]));
      const d = diffObjects(before, after);
      const name = path.slice(path.lastIndexOf('/') + 1, -'.yaml'.length);
      const allocated = path.includes('/core.v1.Service/') && name in oldIps && after.spec.clusterIP !== oldIps[name]
        ? ['spec.clusterIP', 'spec.clusterIPs[0]'] : [];
      expect([d.added, d.removed], path).toEqual([[], []]);
      expect(manifests.has(`${after.kind}/${name}`) || after.kind === 'Secret', path).toBe(true);
      expect(d.updated.map((u) => u.path), path).toEqual(['metadata.uid', 'metadata.creationTimestamp', ...allocated]);
      if (after.kind !== 'Secret') expect(after.metadata.annotations?.[LAST_APPLIED], path).toBeUndefined();
    }
    // The same seen as git shows it: only those lines.
    const lines = git(repo, ['show', '--format=', '-U0', commit]).split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l));
    for (const l of lines) expect(l).toMatch(/^[-+] {2}(uid|creationTimestamp|clusterIP): |^[-+] {4}- \d+\.\d+\.\d+\.\d+$/);
    expect(git(repo, ['fsck', '--strict'])).toBe('');
  });

  it('refuses --json without -o DIR, a bad --at and a bad --type, and names an unrecorded cluster', async () => {
    expect((await cli('export', '--config', config, '--cluster', id, '--json')).code).toBe(2);
    expect((await cli('export', '--config', config, '--cluster', id, '--type', 'a b')).code).toBe(2);
    expect((await cli('export', '--config', config)).code).toBe(2);
    const at = await cli('export', '--config', config, '--cluster', id, '--at', 'yesterday');
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('"yesterday" is neither a commit id nor an ISO time');
    const before = await cli('export', '--config', config, '--cluster', id, '--at', '2000-01-01T00:00:00Z');
    expect(before.stderr).toContain('nothing recorded at or before 2000-01-01T00:00:00Z');
    const unknown = await cli('export', '--config', config, '--cluster', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('cluster nope has no recorded state');
  });

  it('exports an earlier commit with --at, and only matching types with --type', async () => {
    const r = await cli('export', '--repo', repo, '--cluster', id, '--at', firstSync.slice(0, 12), '--type', 'core.*.Service', '--namespace', ns);
    expect(r.code).toBe(0);
    const svc = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(svc.map((s) => `${s.kind}/${s.metadata.name}`)).toEqual(['Service/dashboard-metrics-scraper', 'Service/kubernetes-dashboard', 'Service/nginx']);
  });
});
