// The HTTP API: routes only translate HTTP ⇄ library calls. Every error is JSON {error: {code, message}}.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { RequestError as ApiError } from '../errors.ts';
import { SyncInProgressError, type Kubetrail } from '../kubetrail.ts';
import { CLUSTER_SCOPED_DIR } from '../model/object-path.ts';
import type { SyncResult } from '../sync/result.ts';
import type { RunResult } from '../sync/run.ts';
import type { Log } from '../log.ts';
import { apiAuth, type ApiAccess } from './access.ts';
import { Metrics } from './metrics.ts';
import { manifestStream } from '../restore/export.ts';
import { CLUSTER, NAMESPACE, TYPE } from './params.ts';
import { uiRoutes } from '../ui/routes.ts';

/** What the routes use of the library: a narrow interface, so the app can be tested with app.request() alone. */
export type ApiLibrary = Pick<Kubetrail, 'getCluster' | 'getClusters' | 'discoverResourceTypes' | 'typeCounts' | 'getSnapshots'
  | 'getObject' | 'getVersions' | 'diffObject' | 'getChanges' | 'syncClusters' | 'lastResult' | 'exportManifests'>
  & { config: Pick<Kubetrail['config'], 'clusters' | 'remote'>; repo: Pick<Kubetrail['repo'], 'head'>; audit?: Pick<Kubetrail['audit'], 'add'> };

export interface AppDeps {
  kubetrail: ApiLibrary;
  /** Tokens for reads and triggers (see access.ts); without them, reads are refused and triggers disabled. */
  access?: ApiAccess;
  metrics?: Metrics;
  log?: Log;
}

const NO_ACCESS: ApiAccess = { readTokens: [], anonymousReads: false, notice: { level: 'warn', msg: 'no tokens' } };


function intParam(c: Context, name: string, def: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ApiError(400, `bad_${name}`, `${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function clusterParam(c: Context, kt: ApiLibrary, raw = c.req.param('id')): string {
  if (!raw || !CLUSTER.test(raw)) throw new ApiError(400, 'bad_cluster', 'cluster id must be a DNS label');
  kt.getCluster(raw); // 404 when unknown
  return raw;
}

/** Path segments are checked before they come near a tree lookup: nothing can reach outside the cluster's subtree. */
function objectParams(c: Context, kt: ApiLibrary) {
  const clusterId = clusterParam(c, kt);
  const { type, namespace, name } = c.req.param() as Record<string, string>;
  if (!TYPE.test(type)) throw new ApiError(400, 'bad_type', `"${type}" is not a type name like apps.v1.Deployment`);
  if (namespace !== CLUSTER_SCOPED_DIR && !NAMESPACE.test(namespace)) throw new ApiError(400, 'bad_namespace', `"${namespace}" is not a namespace (use ${CLUSTER_SCOPED_DIR} for cluster-scoped objects)`);
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 253) throw new ApiError(400, 'bad_name', 'invalid object name');
  return { clusterId, type, namespace: namespace === CLUSTER_SCOPED_DIR ? undefined : namespace, name };
}

const optionalType = (c: Context) => {
  const type = c.req.query('type') || undefined;
  if (type && !TYPE.test(type)) throw new ApiError(400, 'bad_type', `"${type}" is not a type name like apps.v1.Deployment`);
  return type;
};
const optionalNamespace = (c: Context) => {
  const ns = c.req.query('namespace') || undefined;
  if (ns && ns !== CLUSTER_SCOPED_DIR && !NAMESPACE.test(ns)) throw new ApiError(400, 'bad_namespace', `"${ns}" is not a namespace`);
  return ns === CLUSTER_SCOPED_DIR ? undefined : ns;
};

const summary = ({ changes: _changes, ...r }: SyncResult) => r;
/** What a trigger's run did beyond the syncs: the push or pull requests, and their failure (the sync itself may be fine). */
const delivery = (run: RunResult) => ({
  ...(run.push ? { push: run.push } : {}), ...(run.pushError ? { pushError: run.pushError } : {}),
});

export function createApp(deps: AppDeps): Hono {
  const kt = deps.kubetrail;
  const metrics = deps.metrics ?? new Metrics();
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.recordRequest(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
  });

  // Public: /healthz, /readyz, /metrics (Prometheus scrapes without credentials). Everything under /api needs a token.
  app.use('/api/*', apiAuth(deps.access ?? NO_ACCESS));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await kt.repo.head();
    } catch (e) {
      return c.json({ status: 'not ready', reason: `repository not readable: ${(e as Error).message}` }, 503);
    }
    const failed = kt.config.clusters.map((cl) => kt.lastResult(cl.id)).filter((r) => r?.result.status === 'failed');
    if (failed.length) return c.json({ status: 'not ready', reason: `last sync failed: ${failed.map((f) => f!.result.clusterId).join(', ')}` }, 503);
    return c.json({ status: 'ready' });
  });
  app.get('/metrics', async (c) => c.text(await metrics.render(), 200, { 'Content-Type': metrics.contentType }));

  app.get('/api/v1/clusters', async (c) => c.json({ clusters: await kt.getClusters() }));
  app.get('/api/v1/clusters/:id', async (c) => {
    const id = clusterParam(c, kt);
    return c.json((await kt.getClusters()).find((x) => x.id === id));
  });
  app.get('/api/v1/clusters/:id/types', async (c) => {
    const id = clusterParam(c, kt);
    if (c.req.query('live') === 'true') {
      const d = await kt.discoverResourceTypes(id);
      return c.json({
        selected: d.selected.map((t) => ({ type: t.name, namespaced: t.namespaced })),
        excluded: d.excluded.map((e) => ({ type: e.type.name, reason: e.reason })),
        failedGroups: d.failedGroups,
      });
    }
    return c.json(await kt.typeCounts(id, c.req.query('at') || undefined));
  });

  app.get('/api/v1/clusters/:id/objects', async (c) => {
    const clusterId = clusterParam(c, kt);
    return c.json(await kt.getSnapshots({
      clusterId, type: optionalType(c), namespace: optionalNamespace(c), search: c.req.query('search') || undefined,
      at: c.req.query('at') || undefined, page: intParam(c, 'page', 1, 1, 1_000_000), limit: intParam(c, 'limit', 50, 1, 500),
    }));
  });
  app.get('/api/v1/clusters/:id/objects/:type/:namespace/:name', async (c) => {
    const obj = await kt.getObject({ ...objectParams(c, kt), at: c.req.query('at') || undefined });
    if ((c.req.header('accept') ?? '').includes('application/yaml')) {
      return c.body(obj.yaml, 200, { 'Content-Type': 'application/yaml; charset=utf-8', 'X-Kubetrail-Commit': obj.commit });
    }
    return c.json({ commit: obj.commit, path: obj.path, object: obj.object });
  });
  app.get('/api/v1/clusters/:id/objects/:type/:namespace/:name/versions', async (c) => {
    const ref = objectParams(c, kt);
    const versions = await kt.getVersions({ ...ref, limit: intParam(c, 'limit', 100, 1, 10_000) });
    if (versions.length === 0) throw new ApiError(404, 'object_not_found', `no history for ${ref.type} ${ref.name}`);
    return c.json({ versions });
  });
  app.get('/api/v1/clusters/:id/objects/:type/:namespace/:name/diff', async (c) => {
    const ref = objectParams(c, kt);
    const from = c.req.query('from');
    if (!from) throw new ApiError(400, 'bad_from', 'from (a commit id or ISO time) is required');
    return c.json(await kt.diffObject({ ...ref, from, to: c.req.query('to') || undefined }));
  });

  app.get('/api/v1/clusters/:id/export', async (c) => {
    const clusterId = clusterParam(c, kt);
    const at = c.req.query('at') || undefined;
    const plan = await kt.exportManifests({ clusterId, at, type: c.req.query('type') || undefined, namespace: optionalNamespace(c) });
    if (!plan.commit) throw new ApiError(404, 'nothing_recorded', `nothing recorded${at ? ` at or before ${at}` : ''}`);
    // Comments: kubectl ignores them, a reader sees what the export could not hold.
    const notes = [...plan.notRestorable, ...plan.sealed.map((s) => ({ ...s, reason: 'sealed with SOPS (kubetrail export --decrypt)' }))]
      .map((n) => `# ${n.reason}: ${n.type} ${n.namespace ? `${n.namespace}/` : ''}${n.name}\n`).join('');
    return c.body(notes + manifestStream(plan.objects), 200, { 'Content-Type': 'application/yaml; charset=utf-8', 'X-Kubetrail-Commit': plan.commit });
  });

  app.get('/api/v1/changes', async (c) => {
    const cluster = c.req.query('cluster') || undefined;
    if (cluster) clusterParam(c, kt, cluster);
    return c.json(await kt.getChanges({
      clusterId: cluster, since: c.req.query('since') || undefined, until: c.req.query('until') || undefined,
      type: optionalType(c), namespace: optionalNamespace(c), manager: c.req.query('manager') || undefined,
      limit: intParam(c, 'limit', 20, 1, 500), cursor: c.req.query('cursor') || undefined,
      objectsPerCommit: intParam(c, 'objectsPerCommit', 100, 1, 10_000),
    }));
  });

  // The apiserver's audit webhook: its kubeconfig's server is this URL, with `/<clusterId>` (client-go drops a
  // query) unless kubetrail records a single cluster.
  app.post('/api/v1/audit/:id?', bodyLimit({
    maxSize: 64 << 20, // a batch of 400 events with their response objects; far larger is not a webhook's
    onError: (c) => c.json({ error: { code: 'body_too_large', message: 'an audit batch may be at most 64 MiB' } }, 413),
  }), async (c) => {
    const clusters = kt.config.clusters;
    const id = c.req.param('id') || (clusters.length === 1 ? clusters[0].id : undefined);
    if (!id) throw new ApiError(400, 'bad_cluster', `several clusters are configured: end the webhook's server URL with /<clusterId> (${clusters.map((x) => x.id).join(', ')})`);
    clusterParam(c, kt, id);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, 'bad_body', 'the body must be JSON (an audit.k8s.io/v1 EventList)');
    }
    if (!kt.audit) throw new ApiError(503, 'audit_unavailable', 'this server does not keep audit events');
    try {
      return c.json({ kept: kt.audit.add(id, body) });
    } catch (e) {
      throw new ApiError(400, 'bad_event_list', (e as Error).message);
    }
  });

  app.post('/api/v1/clusters/:id/sync', async (c) => {
    const id = clusterParam(c, kt);
    const run = await kt.syncClusters([id], { dryRun: c.req.query('dryRun') === 'true' });
    const pullRequest = run.pullRequests?.find((p) => p.clusterId === id);
    return c.json({ ...summary(run.results[0]), ...(pullRequest ? { pullRequest } : {}), ...delivery(run) });
  });
  app.post('/api/v1/sync', async (c) => {
    const run = await kt.syncClusters(kt.config.clusters.map((x) => x.id), { dryRun: c.req.query('dryRun') === 'true' });
    return c.json({ results: run.results.map(summary), ...(run.pullRequests ? { pullRequests: run.pullRequests } : {}), ...delivery(run) });
  });

  // The timeline page: HTML over the same queries, behind the same read access (a browser signs in once; ui/auth.ts).
  app.route('/', uiRoutes({ kubetrail: kt, access: deps.access ?? NO_ACCESS, log: deps.log }));

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse(); // from bearerAuth: a JSON 401 with WWW-Authenticate
    if (err instanceof ApiError) {
      return c.json({ error: { code: err.code, message: err.message } }, err.status as 400);
    }
    if (err instanceof SyncInProgressError) return c.json({ error: { code: 'sync_in_progress', message: err.message } }, 409);
    deps.log?.({ level: 'error', msg: 'request failed', path: c.req.path, error: String(err?.stack ?? err) });
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  return app;
}
