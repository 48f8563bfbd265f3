// Who may see the timeline page: every UI route × token setup × credential through app.request(), over a library
// stand-in whose data carries a marker, so a refused page is seen to reach nothing and to leak nothing.
import { describe, expect, it } from 'vitest';
import { apiAccess } from '../../src/api/access.ts';
import { createApp, type ApiLibrary } from '../../src/api/app.ts';
import { RequestError } from '../../src/errors.ts';

const SECRET = 'LEAK-MARKER-recorded-value';
const READ = 'read-token-1';
const TRIGGER = 'trigger-token-2';
const C = 'c'.repeat(40);

function library(calls: string[]): ApiLibrary {
  const call = <T>(name: string, value: T) => async () => (calls.push(name), value);
  const change = { clusterId: 'c1', type: 'apps.v1.Deployment', namespace: 'shop', name: SECRET.toLowerCase(), path: 'p', kind: 'changed', diff: { added: [], removed: [], updated: [{ path: 'spec.x', from: SECRET, to: 2 }] } };
  return {
    config: { clusters: [{ id: 'c1' }] as never },
    repo: { head: async () => C },
    lastResult: () => undefined,
    getCluster: ((id: string) => {
      if (id !== 'c1') throw new RequestError(404, 'cluster_not_found', `unknown cluster "${id}"`);
      return { id } as never;
    }) as never,
    getClusters: call('getClusters', [{ id: 'c1', name: SECRET, tags: {}, metadata: {} }]),
    typeCounts: call('typeCounts', { commit: C, types: [{ type: 'apps.v1.Deployment', objects: 1 }] }),
    getSnapshots: call('getSnapshots', { commit: C, total: 1, page: 1, limit: 50, items: [{ type: 'apps.v1.Deployment', namespace: 'shop', name: SECRET.toLowerCase() }] }) as never,
    getObject: call('getObject', { commit: C, path: 'p', blob: 'b', yaml: SECRET, object: {} }),
    getVersions: call('getVersions', [{ commit: C, time: '2026-12-01T00:00:00.000Z', kind: 'changed', subject: SECRET }, { commit: 'd'.repeat(40), time: '2026-11-30T00:00:00.000Z', kind: 'added', subject: 's' }]),
    diffObject: call('diffObject', { from: 'd'.repeat(40), to: C, path: 'p', diff: change.diff }) as never,
    getChanges: call('getChanges', { changes: [{ commit: C, time: '2026-12-01T00:00:00.000Z', subject: SECRET, objects: [change] }], nextCursor: undefined }) as never,
    discoverResourceTypes: call('discoverResourceTypes', {}) as never,
    syncClusters: call('syncClusters', {}) as never,
    exportManifests: call('exportManifests', {}) as never,
  };
}

const PAGES = ['/ui/', '/ui', '/ui/clusters/c1', '/ui/timeline', '/ui/timeline?cluster=c1&name=leak', '/ui/clusters/c1/objects/apps.v1.Deployment/shop/web', '/ui/nothing'];

function appFor(env: Record<string, string>, api: { readTokenEnv?: string; anonymousReads?: boolean }, calls: string[] = []) {
  const access = apiAccess({ port: 0, host: '127.0.0.1', tokenEnv: 'KUBETRAIL_API_TOKEN', anonymousReads: false, auditTokenEnv: 'A', auditRetentionSeconds: 900, auditMaxEvents: 1, ...api }, env);
  return createApp({ kubetrail: library(calls), access });
}

async function signIn(app: ReturnType<typeof appFor>, token: string) {
  const res = await app.request('http://ui.test/ui/login', { method: 'POST', body: new URLSearchParams({ token, next: '/ui/timeline' }), headers: { Origin: 'http://ui.test', Host: 'ui.test' } });
  return { res, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

describe('timeline page access', () => {
  it('with a read token: pages for its bearer or its session only; the trigger token does not read', async () => {
    const calls: string[] = [];
    const app = appFor({ KUBETRAIL_API_TOKEN: TRIGGER, READ_TOKEN: READ }, { readTokenEnv: 'READ_TOKEN' }, calls);
    const { res, cookie } = await signIn(app, READ);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/timeline');
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    for (const path of PAGES) {
      for (const headers of [{}, { Authorization: `Bearer ${TRIGGER}` }, { Authorization: 'Bearer wrong' }, { Cookie: `kubetrail_ui=${READ}` }] as Record<string, string>[]) {
        calls.length = 0;
        const r = await app.request(path, { headers });
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(await r.text()).not.toContain(SECRET);
        expect(calls).toEqual([]);
      }
      for (const headers of [{ Authorization: `Bearer ${READ}` }, { Cookie: cookie! }] as Record<string, string>[]) {
        const r = await app.request(path, { headers });
        expect(r.status, path).toBe(path === '/ui/nothing' ? 404 : 200);
        expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
        if (path !== '/ui/nothing') expect((await r.text()).toLowerCase()).toContain(SECRET.toLowerCase());
      }
    }
    // The cookie is not accepted by the API.
    expect((await app.request('/api/v1/clusters', { headers: { Cookie: cookie! } })).status).toBe(401);
  });

  it('refuses a wrong token, a cross-site sign-in, and a redirect elsewhere', async () => {
    const app = appFor({ KUBETRAIL_API_TOKEN: TRIGGER }, {});
    const wrong = await signIn(app, 'nope');
    expect(wrong.res.status).toBe(401);
    expect(wrong.cookie).toBeUndefined();
    const csrf = await app.request('http://ui.test/ui/login', { method: 'POST', body: new URLSearchParams({ token: TRIGGER }), headers: { Origin: 'https://evil.example', Host: 'ui.test' } });
    expect(csrf.status).toBe(403);
    expect(csrf.headers.get('set-cookie')).toBeNull();
    const away = await app.request('http://ui.test/ui/login', { method: 'POST', body: new URLSearchParams({ token: TRIGGER, next: '//evil.example/' }), headers: { Host: 'ui.test' } });
    expect(away.headers.get('location')).toBe('/ui/');
  });

  it('anonymousReads opens the pages; no token at all closes them with a 503 that says how to open them', async () => {
    expect((await appFor({}, { anonymousReads: true }).request('/ui/timeline')).status).toBe(200);
    const closed = await appFor({}, {}).request('/ui/');
    expect(closed.status).toBe(503);
    expect(await closed.text()).toContain('KUBETRAIL_API_TOKEN');
    expect((await appFor({}, {}).request('/')).headers.get('location')).toBe('/ui/');
  });

  it('bad parameters are an HTML page naming them, escaped', async () => {
    const app = appFor({}, { anonymousReads: true });
    const bad = await app.request('/ui/timeline?type=%3Cscript%3Ex');
    expect(bad.status).toBe(400);
    const body = await bad.text();
    expect(body).toContain('&lt;script&gt;x');
    expect(body).not.toContain('<script>');
    expect((await app.request('/ui/clusters/nope')).status).toBe(404);
    expect((await app.request('/ui/clusters/c1/objects/apps.v1.Deployment/shop/web?from=zzz')).status).toBe(400);
  });
});
