// GET /api/v1/clusters/:id/export served by `kubetrail serve` (under Node or Deno): the body is the CLI's export.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { startServe } from '../../helpers/serve.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `api-export-${runtime}`;
const id = `api-export-${runtime}`;
const token = 'export-read-token';
const hmacEnv = { KUBETRAIL_HMAC_KEY: 'api-export-key' };

describe(`GET /api/v1/clusters/:id/export (kubetrail serve under ${runtime})`, () => {
  const dir = tempDir('api-export');
  const repo = join(dir, 'repo');
  const config = join(dir, 'kubetrail.yaml');
  let port = 0;
  let stop: () => Promise<void>;
  let commit = '';
  const get = (p: string, headers: Record<string, string> = { Authorization: `Bearer ${token}` }) => fetch(`http://127.0.0.1:${port}${p}`, { headers });

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ${ns}}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: ${ns}}
stringData: {value: api-export-canary}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {ports: [{port: 80}], selector: {app: web}}
`);
    writeFileSync(config, [`repo: ${repo}`, 'api: {host: 127.0.0.1}', 'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    namespaces: [${ns}]`, '    includeSecrets: true', '    select: [core.v1.Namespace, core.v1.ConfigMap, core.v1.Secret, core.v1.Service, apps.v1.Deployment]'].join('\n'));
    expect((await runCli(['sync', '--config', config], { env: hmacEnv })).code).toBe(0);
    commit = git(repo, ['rev-parse', 'HEAD']).trim();
    const served = startServe(['--config', config], { KUBETRAIL_API_TOKEN: token, ...hmacEnv });
    port = await served.port;
    stop = served.stop;
  });
  afterAll(() => stop?.());

  it('serves the export as YAML in apply order, the same bytes as the CLI writes', async () => {
    const res = await get(`/api/v1/clusters/${id}/export?namespace=${ns}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    expect(res.headers.get('x-kubetrail-commit')).toBe(commit);
    const body = await res.text();
    expect(body.startsWith(`# not restorable (redacted): core.v1.Secret ${ns}/token\n---\n`)).toBe(true);
    expect(body).not.toContain('hmac-sha256');
    const docs = parseAllDocuments(body).map((d) => d.toJS() as { kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['ConfigMap/settings', 'Service/web', 'Deployment/web']);
    expect(docs[1].spec).not.toHaveProperty('clusterIP');
    const cli = await runCli(['export', '--config', config, '--cluster', id, '--namespace', ns], { env: hmacEnv });
    expect(cli.stderr).toBe(`kubetrail: not restorable (redacted): core.v1.Secret ${ns}/token (its recorded values are digests; apply it from its source)\n`);
    expect(body.slice(body.indexOf('---'))).toBe(cli.stdout);
    kubectl(['apply', '--dry-run=server', '-f', '-'], body);
  });

  it('puts the Namespace before the namespace\'s objects in a whole-cluster export, and filters by type pattern and time', async () => {
    const all = await (await get(`/api/v1/clusters/${id}/export`)).text();
    const kinds = parseAllDocuments(all).map((d) => (d.toJS() as { kind: string; metadata: { name: string } }))
      .filter((d) => d.metadata.name === ns || JSON.stringify(d).includes(ns)).map((d) => d.kind);
    expect(kinds).toEqual(['Namespace', 'ConfigMap', 'Service', 'Deployment']);
    const deployments = await (await get(`/api/v1/clusters/${id}/export?type=apps.*&at=${new Date().toISOString()}`)).text();
    expect(parseAllDocuments(deployments).map((d) => (d.toJS() as { kind: string }).kind)).toEqual(['Deployment']);
  });

  it('needs the token as other reads do, and answers bad parameters with JSON errors', async () => {
    const anonymous = await get(`/api/v1/clusters/${id}/export`, {});
    expect(anonymous.status).toBe(401);
    const badAt = await get(`/api/v1/clusters/${id}/export?at=yesterday`);
    expect(badAt.status).toBe(400);
    expect(await badAt.json()).toEqual({ error: { code: 'bad_at', message: '"yesterday" is neither a commit id nor an ISO time' } });
    const badType = await get(`/api/v1/clusters/${id}/export?type=a%20b`);
    expect([badType.status, (await badType.json()).error.code]).toEqual([400, 'bad_type']);
    const early = await get(`/api/v1/clusters/${id}/export?at=2000-01-01T00:00:00Z`);
    expect([early.status, (await early.json()).error.code]).toEqual([404, 'nothing_recorded']);
    const unknown = await get('/api/v1/clusters/nope/export');
    expect([unknown.status, (await unknown.json()).error.code]).toEqual([404, 'cluster_not_found']);
  });
});
