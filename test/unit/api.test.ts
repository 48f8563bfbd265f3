// Who may call what: every route × method × token through app.request(), over a library stand-in that records every
// call and returns data carrying a marker, so a refused request is seen to reach nothing and to leak nothing.
import { describe, expect, it } from 'vitest';

const AUDIT_DEFAULTS = { auditTokenEnv: 'KUBETRAIL_AUDIT_TOKEN', auditRetentionSeconds: 900, auditMaxEvents: 50_000 };
import { apiAccess } from '../../src/api/access.ts';
import { createApp, type ApiLibrary } from '../../src/api/app.ts';
import { Metrics } from '../../src/api/metrics.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { RequestError } from '../../src/errors.ts';
import type { SyncResult } from '../../src/sync/result.ts';

const SECRET = 'LEAK-MARKER-recorded-configmap-data';
const READ = 'read-token-1';
const TRIGGER = 'trigger-token-2';

const result = (status: SyncResult['status'], o: Partial<SyncResult> = {}): SyncResult => ({
  clusterId: 'c1', status, dryRun: false, added: 3, changed: 1, deleted: 0, unchanged: 6, blobsWritten: 4, failedTypes: [],
  types: {}, durationMs: 1200, changes: { added: [], changed: [], deleted: [] }, ...o,
});

function library(calls: string[]): ApiLibrary {
  const data = { note: SECRET };
  const call = <T>(name: string, value: T) => async () => (calls.push(name), value);
  return {
    config: { clusters: [{ id: 'c1' }] as never },
    repo: { head: async () => 'f'.repeat(40) },
    lastResult: () => undefined,
    getCluster: ((id: string) => {
      calls.push('getCluster');
      if (id !== 'c1') throw new RequestError(404, 'cluster_not_found', `unknown cluster "${id}"`);
      return { id } as never;
    }) as never,
    getClusters: call('getClusters', [{ id: 'c1', name: SECRET, tags: {}, metadata: data }]),
    discoverResourceTypes: call('discoverResourceTypes', { selected: [{ name: SECRET, namespaced: true }], excluded: [], failedGroups: [] }) as never,
    typeCounts: call('typeCounts', { commit: 'x', types: [{ type: SECRET, objects: 1 }] }),
    getSnapshots: call('getSnapshots', { commit: 'x', total: 1, page: 1, limit: 50, items: [data] }) as never,
    getObject: call('getObject', { commit: 'x', path: 'p', blob: 'b', yaml: SECRET, object: data }),
    getVersions: call('getVersions', [{ commit: 'x', time: 't', kind: 'added', subject: SECRET }]),
    diffObject: call('diffObject', { from: 'x', to: 'y', path: 'p', diff: { added: [data], removed: [], updated: [] } }) as never,
    getChanges: call('getChanges', { changes: [{ commit: 'x', time: 't', subject: SECRET, objects: [] }], nextCursor: undefined }),
    syncClusters: call('syncClusters', { results: [result('complete', { error: SECRET })] }),
    exportManifests: call('exportManifests', { commit: 'x', clusterRecorded: true, notRestorable: [], sealed: [],
      objects: [{ type: 'core.v1.ConfigMap', namespace: 'shop', name: 'n', object: data, manifest: data, stage: { rank: 4, name: 'config' } }] }),
  };
}

const OBJECT = '/api/v1/clusters/c1/objects/apps.v1.Deployment/shop/web';
const READ_ROUTES = ['/api/v1/clusters', '/api/v1/clusters/c1', '/api/v1/clusters/c1/types', '/api/v1/clusters/c1/types?live=true',
  '/api/v1/clusters/c1/objects?type=apps.v1.Deployment', OBJECT, `${OBJECT}/versions`, `${OBJECT}/diff?from=x`, '/api/v1/changes',
  '/api/v1/clusters/c1/export'];
const TRIGGER_ROUTES = ['/api/v1/clusters/c1/sync', '/api/v1/sync'];
const UNKNOWN_ROUTES = ['/api/v1/nothing', '/api/v2/clusters', '/api/v1/clusters/nope/sync'];
const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH'];
const TOKENS = { none: undefined, wrong: 'wrong-token', read: READ, trigger: TRIGGER } as const;

type Setup = { name: string; env: Record<string, string>; api: { readTokenEnv?: string; anonymousReads?: boolean } };
const SETUPS: Setup[] = [
  { name: 'read token and trigger token', env: { KUBETRAIL_API_TOKEN: TRIGGER, READ_TOKEN: READ }, api: { readTokenEnv: 'READ_TOKEN' } },
  { name: 'trigger token only (it reads too)', env: { KUBETRAIL_API_TOKEN: TRIGGER }, api: {} },
  { name: 'no token at all', env: {}, api: {} },
  { name: 'anonymousReads with a trigger token', env: { KUBETRAIL_API_TOKEN: TRIGGER }, api: { anonymousReads: true } },
];

function appFor(setup: Setup, calls: string[] = []) {
  const access = apiAccess({ port: 0, host: '127.0.0.1', tokenEnv: 'KUBETRAIL_API_TOKEN', anonymousReads: false, ...AUDIT_DEFAULTS, ...setup.api }, setup.env);
  return { app: createApp({ kubetrail: library(calls), access, metrics: new Metrics() }), access, calls };
}

/** The rule the README states, written out independently of the middleware. */
function expected(setup: Setup, method: string, path: string, token: keyof typeof TOKENS): number {
  const trigger = setup.env.KUBETRAIL_API_TOKEN;
  const readTokens = setup.api.readTokenEnv ? [setup.env[setup.api.readTokenEnv]] : trigger ? [trigger] : [];
  const route = path.split('?')[0];
  if (method === 'POST' && /\/sync$/.test(route)) {
    if (!trigger) return 403;
    if (TOKENS[token] !== trigger) return 401;
    return route.includes('/nope/') ? 404 : 200;
  }
  if (!setup.api.anonymousReads) {
    if (!readTokens.length) return 503;
    if (!readTokens.includes(TOKENS[token]!)) return 401;
  }
  return READ_ROUTES.includes(path) && (method === 'GET' || method === 'HEAD') ? 200 : 404;
}

describe('API access: every route × method × token', () => {
  for (const setup of SETUPS) {
    it.each([...READ_ROUTES, ...TRIGGER_ROUTES, ...UNKNOWN_ROUTES])(`${setup.name}: %s`, async (path) => {
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const method of METHODS) {
        for (const token of Object.keys(TOKENS) as (keyof typeof TOKENS)[]) {
          const { app, calls } = appFor(setup);
          const headers: Record<string, string> = TOKENS[token] ? { Authorization: `Bearer ${TOKENS[token]}` } : {};
          const res = await app.request(path, { method, headers });
          const body = await res.text();
          got[`${method} ${token}`] = res.status;
          want[`${method} ${token}`] = expected(setup, method, path, token);
          if (res.status >= 400) {
            expect(body, `${method} ${path} ${token}`).not.toContain(SECRET);
            if (method !== 'HEAD') expect(JSON.parse(body).error.code, `${method} ${path} ${token}`).toMatch(/^[a-z_]+$/);
          }
          if (res.status === 401 || res.status === 403 || res.status === 503) {
            expect(calls, `${method} ${path} ${token} reached the library`).toEqual([]);
          }
          if (res.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
        }
      }
      expect(got).toEqual(want);
    });
  }

  it('HEAD of an object and of live discovery needs the read token (HEAD used to skip the check)', async () => {
    const setup = SETUPS[0];
    for (const path of [OBJECT, '/api/v1/clusters/c1/types?live=true']) {
      const anon = appFor(setup);
      expect((await anon.app.request(path, { method: 'HEAD' })).status).toBe(401);
      expect(anon.calls).toEqual([]);
      const authed = appFor(setup);
      expect((await authed.app.request(path, { method: 'HEAD', headers: { Authorization: `Bearer ${READ}` } })).status).toBe(200);
      expect(authed.calls).toContain(path.includes('live') ? 'discoverResourceTypes' : 'getObject');
    }
  });

  it('a read token never triggers a sync, and the trigger token does not read when a read token is set', async () => {
    const { app, calls } = appFor(SETUPS[0]);
    const post = await app.request('/api/v1/sync', { method: 'POST', headers: { Authorization: `Bearer ${READ}` } });
    expect(post.status).toBe(401);
    expect((await post.json() as any).error.code).toBe('unauthorized');
    expect((await app.request('/api/v1/clusters', { headers: { Authorization: `Bearer ${TRIGGER}` } })).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('a malformed Authorization header is a JSON 400 and reaches nothing', async () => {
    const { app, calls } = appFor(SETUPS[0]);
    for (const header of ['Basic cmVhZDp4', `Bearer ${READ} extra`, 'Bearer', `bearer${READ}`]) {
      const res = await app.request('/api/v1/clusters', { headers: { Authorization: header } });
      expect(res.status, header).toBe(400);
      expect((await res.json() as any).error.code).toBe('bad_authorization');
    }
    expect(calls).toEqual([]);
  });

  it('the scheme name is case-insensitive (RFC 7235)', async () => {
    const { app } = appFor(SETUPS[0]);
    expect((await app.request('/api/v1/clusters', { headers: { Authorization: `bearer ${READ}` } })).status).toBe(200);
  });

  it('with no token configured, reads are a 503 that says how to set one, and the start-up notice says so too', async () => {
    const { app, access } = appFor(SETUPS[2]);
    const res = await app.request('/api/v1/clusters');
    expect(res.status).toBe(503);
    const body = await res.json() as any;
    expect(body.error.code).toBe('reads_disabled');
    expect(body.error.message).toMatch(/KUBETRAIL_API_TOKEN.*readTokenEnv.*anonymousReads: true/);
    expect(access.notice).toMatchObject({ level: 'warn', msg: expect.stringMatching(/reads are refused.*KUBETRAIL_API_TOKEN.*anonymousReads: true/) });
  });

  it('anonymousReads is announced at start as a warning', () => {
    expect(appFor(SETUPS[3]).access.notice).toMatchObject({ level: 'warn', msg: expect.stringMatching(/open to anyone.*anonymousReads: true/) });
    expect(appFor(SETUPS[0]).access.notice).toMatchObject({ level: 'info', msg: expect.stringMatching(/\$READ_TOKEN.*\$KUBETRAIL_API_TOKEN/) });
  });

  it('refuses at start a token no client could present, and a read token variable that is not set', () => {
    const api = { port: 0, host: '127.0.0.1', tokenEnv: 'KUBETRAIL_API_TOKEN', anonymousReads: false, ...AUDIT_DEFAULTS };
    expect(() => apiAccess(api, { KUBETRAIL_API_TOKEN: 'has space' })).toThrow(ConfigError);
    expect(() => apiAccess(api, { KUBETRAIL_API_TOKEN: 'has space' })).toThrow(/^api\.tokenEnv: \$KUBETRAIL_API_TOKEN must be a bearer token/);
    expect(() => apiAccess({ ...api, readTokenEnv: 'NOPE' }, {})).toThrow(/^api\.readTokenEnv: environment variable NOPE is not set/);
  });

  it.each(['/healthz', '/readyz', '/metrics'])('%s is public (GET and HEAD)', async (path) => {
    for (const setup of SETUPS) {
      const { app } = appFor(setup);
      expect((await app.request(path)).status).toBe(200);
      expect((await app.request(path, { method: 'HEAD' })).status).toBe(200);
    }
  });
});
