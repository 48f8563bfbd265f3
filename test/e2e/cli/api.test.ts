// The HTTP API served by `kubetrail serve` (under Node or Deno), compared with what git itself shows.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';
import { startServe } from '../../helpers/serve.ts';

const ns = `api-${runtime}`;
const id = `api-${runtime}`;
const token = 'trigger-token-for-tests';
const path = `clusters/${id}/apps.v1.Deployment/${ns}/web.yaml`;

const deployment = (image: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}, labels: {app.kubernetes.io/name: web}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "${image}"}]}
`;

const auth = { Authorization: `Bearer ${token}` };

/** Raw request: the path is sent exactly as written (fetch would normalize `..`). */
function rawGet(port: number, path: string, headers: Record<string, string> = auth, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
    }).on('error', reject).end();
  });
}

describe(`HTTP API (kubetrail serve under ${runtime})`, () => {
  const dir = tempDir('api');
  const repo = join(dir, 'repo');
  const config = join(dir, 'kubetrail.yaml');
  const commits: string[] = []; // A created, B image, C scaled, D deleted
  let port = 0;
  let stop: () => Promise<void>;
  const get = async (p: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers });
    return { status: res.status, body: await res.json() as any };
  };

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    writeFileSync(config, [`repo: ${repo}`, 'api: {host: 127.0.0.1}', 'clusters:', `  - id: ${id}`, '    name: API test', '    tags: {env: test}',
      `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [apps.v1.Deployment]'].join('\n'));
    const sync = async () => {
      expect((await runCli(['sync', '--config', config])).code).toBe(0);
      commits.push(git(repo, ['rev-parse', 'HEAD']).trim());
    };
    apply(deployment('nginx:1.27', 2));
    apply(deployment('busybox:1', 1).replaceAll('web', 'keeper')); // so deleting web is not a mass deletion
    await sync();
    await new Promise((r) => setTimeout(r, 1100)); // distinct commit seconds, for ?at=<time>
    kubectl(['-n', ns, 'set', 'image', 'deployment/web', 'web=nginx:1.28']);
    await sync();
    await new Promise((r) => setTimeout(r, 1100));
    kubectl(['-n', ns, 'scale', 'deployment/web', '--replicas=5']);
    await sync();
    kubectl(['-n', ns, 'delete', 'deployment', 'web']);
    await sync();

    const served = startServe(['--config', config], { KUBETRAIL_API_TOKEN: token });
    port = await served.port;
    stop = served.stop;
  });
  afterAll(() => stop?.());

  it('has four commits, one per step', () => {
    expect(new Set(commits).size).toBe(4);
    expect(git(repo, ['log', '--format=%H', '--', path]).trim().split('\n')).toEqual([...commits].reverse());
  });

  it('lists clusters with their last commit', async () => {
    const { status, body } = await get('/api/v1/clusters');
    expect(status).toBe(200);
    expect(body.clusters).toEqual([expect.objectContaining({ id, name: 'API test', tags: { env: 'test' },
      lastCommit: expect.objectContaining({ commit: commits[3], subject: `${id}: +0 ~0 -1` }) })]);
    expect((await get(`/api/v1/clusters/${id}`)).body.id).toBe(id);
  });

  it('serves an object as it was at a commit, as JSON and as the stored YAML bytes', async () => {
    const at = commits[2];
    const json = await get(`/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web?at=${at}`);
    expect(json.status).toBe(200);
    expect(json.body.object.spec.replicas).toBe(5);
    const yaml = await fetch(`http://127.0.0.1:${port}/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web?at=${at}`, { headers: { ...auth, Accept: 'application/yaml' } });
    expect(yaml.headers.get('content-type')).toContain('application/yaml');
    expect(await yaml.text()).toBe(git(repo, ['show', `${at}:${path}`]));
  });

  it('answers "as of a time" with the last commit at or before it', async () => {
    const time = git(repo, ['log', '-1', '--format=%cI', commits[1]]).trim();
    const res = await get(`/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web?at=${encodeURIComponent(time)}`);
    expect(res.body.commit).toBe(commits[1]);
    expect(res.body.object.spec.template.spec.containers[0].image).toBe('nginx:1.28');
  });

  it('lists objects of a commit, filtered and paginated', async () => {
    const res = await get(`/api/v1/clusters/${id}/objects?type=apps.v1.Deployment&namespace=${ns}&at=${commits[0]}&limit=1&page=2`);
    expect(res.body).toMatchObject({ commit: commits[0], total: 2, page: 2, limit: 1 });
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ type: 'apps.v1.Deployment', namespace: ns, name: 'web', path });
    expect((await get(`/api/v1/clusters/${id}/objects?search=WEB`)).body.total).toBe(0); // deleted now
    expect((await get(`/api/v1/clusters/${id}/objects?search=keep`)).body.total).toBe(1);
    // a recorded type with nothing matching is an empty page; a type never recorded is a 404 (see the error table)
    expect(await get(`/api/v1/clusters/${id}/objects?type=apps.v1.Deployment&search=nomatch`)).toMatchObject({ status: 200, body: { total: 0, items: [] } });
    expect((await get(`/api/v1/clusters/${id}/types?at=${commits[0]}`)).body.types).toEqual([{ type: 'apps.v1.Deployment', objects: 2 }]);
  });

  it('versions are the commits git log names for the path, with their kind', async () => {
    const res = await get(`/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web/versions`);
    expect(res.status).toBe(200);
    expect(res.body.versions.map((v: any) => [v.commit, v.kind])).toEqual([
      [commits[3], 'deleted'], [commits[2], 'changed'], [commits[1], 'changed'], [commits[0], 'added'],
    ]);
    expect(res.body.versions[0].subject).toBe(git(repo, ['log', '-1', '--format=%s', commits[3]]).trim());
  });

  it('field-level diffs say what git log -p says', async () => {
    const image = await get(`/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web/diff?from=${commits[0]}&to=${commits[1]}`);
    expect(image.body.diff).toEqual({ added: [], removed: [], updated: [{ path: 'spec.template.spec.containers[0].image', from: 'nginx:1.27', to: 'nginx:1.28' }] });
    const patch = git(repo, ['show', '--format=', commits[1], '--', path]);
    expect(patch).toContain('-          image: nginx:1.27');
    expect(patch).toContain('+          image: nginx:1.28');

    const changes = await get(`/api/v1/changes?cluster=${id}&type=apps.v1.Deployment`);
    expect(changes.body.changes.map((c: any) => c.commit)).toEqual([...commits].reverse());
    const scaled = changes.body.changes[1].objects[0];
    expect(scaled).toMatchObject({ clusterId: id, type: 'apps.v1.Deployment', namespace: ns, name: 'web', kind: 'changed', path });
    expect(scaled.diff.updated).toEqual([{ path: 'spec.replicas', from: 2, to: 5 }]);
    expect(git(repo, ['show', '--format=', commits[2], '--', path])).toMatch(/-\s+replicas: 2\n\+\s+replicas: 5/);
    const deleted = changes.body.changes[0].objects[0];
    expect(deleted.kind).toBe('deleted');
    expect(deleted.diff.removed.map((r: any) => r.path)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    const created = changes.body.changes[3].objects.find((o: any) => o.name === 'web');
    expect(created.diff.added.find((a: any) => a.path === 'spec').value.replicas).toBe(2);
  });

  it('pages changes with a cursor and filters by time', async () => {
    const first = await get(`/api/v1/changes?cluster=${id}&limit=2`);
    expect(first.body.changes.map((c: any) => c.commit)).toEqual([commits[3], commits[2]]);
    const second = await get(`/api/v1/changes?cluster=${id}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.changes.map((c: any) => c.commit)).toEqual([commits[1], commits[0]]);
    const since = git(repo, ['log', '-1', '--format=%cI', commits[2]]).trim();
    const recent = await get(`/api/v1/changes?cluster=${id}&since=${encodeURIComponent(since)}`);
    expect(recent.body.changes.map((c: any) => c.commit)).toEqual([commits[3], commits[2]]);
    // A commit of many objects (a first sync's) lists the first ones with their diffs and says how many there were.
    const all = (await get(`/api/v1/changes?cluster=${id}&cursor=${commits[0]}`)).body.changes[0];
    const one = (await get(`/api/v1/changes?cluster=${id}&cursor=${commits[0]}&objectsPerCommit=1`)).body.changes[0];
    expect(all.objects.length).toBeGreaterThan(1);
    expect(all.objectsTotal).toBeUndefined();
    expect(one).toEqual({ ...all, objects: all.objects.slice(0, 1), objectsTotal: all.objects.length });
  });

  it('a deleted object is a 404 now, and its history remains', async () => {
    const now = await get(`/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web`);
    expect(now.status).toBe(404);
    expect(now.body.error.code).toBe('object_not_found');
  });

  it('reads need the token by default, whatever the method; health and metrics stay public', async () => {
    const object = `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/keeper`;
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'POST']) {
      for (const p of [object, `/api/v1/clusters/${id}/types?live=true`, '/api/v1/clusters']) {
        for (const headers of [{}, { Authorization: 'Bearer wrong' }] as Record<string, string>[]) {
          const res = await rawGet(port, p, headers, method);
          expect(res.status, `${method} ${p} ${JSON.stringify(headers)}`).toBe(401);
          expect(res.body).not.toContain('keeper');
        }
      }
    }
    expect((await rawGet(port, object, auth, 'HEAD')).status).toBe(200);
    expect((await rawGet(port, object, auth, 'GET')).body).toContain('busybox:1');
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await rawGet(port, p, {})).status, p).toBe(200);
  });

  it('without any token configured, reads are refused with a 503 that says how to set one, as the start-up log does', async () => {
    const served = startServe(['--config', config], {});
    try {
      const res = await rawGet(await served.port, '/api/v1/clusters', {});
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'reads_disabled', message: expect.stringContaining('KUBETRAIL_API_TOKEN') });
      const notice = served.stderr().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => /reads are refused/.test(l.msg));
      expect(notice).toMatchObject({ level: 'warn', msg: expect.stringMatching(/set \$KUBETRAIL_API_TOKEN.*anonymousReads: true/) });
    } finally {
      await served.stop();
    }
  });

  it('sync triggers need the bearer token', async () => {
    const url = `http://127.0.0.1:${port}/api/v1/clusters/${id}/sync`;
    const anon = await fetch(url, { method: 'POST' });
    expect(anon.status).toBe(401);
    expect((await anon.json() as any).error.code).toBe('unauthorized');
    expect((await fetch(url, { method: 'POST', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ clusterId: id, status: 'complete', added: 0, changed: 0, deleted: 0 });
  });

  it('health, readiness and metrics', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`kubetrail_syncs_total{cluster="${id}"} 1`);
    expect(metrics).toContain(`kubetrail_sync_failures_total{cluster="${id}"} 0`);
    expect(metrics).toMatch(/kubetrail_http_requests_total\{method="GET",route="\/api\/v1\/clusters\/:id\/objects\/:type\/:namespace\/:name",status="200"\} \d+/);
    expect(metrics).toMatch(/kubetrail_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} \d+/);
  });

  it.each([
    ['traversal in the name', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/..%2F..%2F..%2Fetc%2Fpasswd`, 400, 'bad_name'],
    // Node's server resolves raw `..` segments before routing (no route: 404); Deno's passes them on (bad name: 400).
    ['dot-dot name', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/..`, [400, 404], ['bad_name', 'not_found']],
    ['raw ../ segments', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/../../../../../etc/passwd`, [400, 404], ['bad_name', 'not_found']],
    ['NUL in the name', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web%00.yaml`, 400, 'bad_name'],
    ['traversal in the type', `/api/v1/clusters/${id}/objects/..%2F..%2Fx/${ns}/web`, 400, 'bad_type'],
    ['traversal in the namespace', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/..%2F/web`, 400, 'bad_namespace'],
    ['unknown type', `/api/v1/clusters/${id}/objects/example.com.v1.Nope/${ns}/web`, 404, 'object_not_found'],
    ['unknown type in a list', `/api/v1/clusters/${id}/objects?type=example.com.v1.Nope`, 404, 'type_not_found'],
    ['unknown cluster', '/api/v1/clusters/nope/objects', 404, 'cluster_not_found'],
    ['bad cluster id', '/api/v1/clusters/..%2Fx/objects', 400, 'bad_cluster'],
    ['limit not a number', `/api/v1/clusters/${id}/objects?limit=abc`, 400, 'bad_limit'],
    ['limit zero', `/api/v1/clusters/${id}/objects?limit=0`, 400, 'bad_limit'],
    ['page negative', `/api/v1/clusters/${id}/objects?page=-1`, 400, 'bad_page'],
    ['at garbage', `/api/v1/clusters/${id}/objects?at=yesterday`, 400, 'bad_at'],
    ['at unknown commit', `/api/v1/clusters/${id}/objects?at=${'0'.repeat(40)}`, 404, 'commit_not_found'],
    ['since garbage', '/api/v1/changes?since=last-week', 400, 'bad_since'],
    ['cursor garbage', '/api/v1/changes?cursor=zzz', 400, 'bad_cursor'],
    ['objectsPerCommit zero', '/api/v1/changes?objectsPerCommit=0', 400, 'bad_objectsPerCommit'],
    ['diff without from', `/api/v1/clusters/${id}/objects/apps.v1.Deployment/${ns}/web/diff`, 400, 'bad_from'],
    ['unknown route', '/api/v1/nothing', 404, 'not_found'],
  ] as [string, string, number | number[], string | string[]][])('%s → %s %s, JSON, no stack trace', async (_what, p, status, code) => {
    const res = await rawGet(port, p);
    expect([status].flat()).toContain(res.status);
    expect(res.type).toContain('application/json');
    expect([code].flat()).toContain(JSON.parse(res.body).error.code);
    expect(res.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    expect(res.body).not.toContain('root:');
  });
});
