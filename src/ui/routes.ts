// The timeline page's routes: `/` and `/ui/...` on the API's Hono app. Each handler checks its parameters as the
// API does, asks the history queries, and hands plain values to a page template.
import { Hono, type Context } from 'hono';
import type { ApiAccess } from '../api/access.ts';
import { CLUSTER, NAMESPACE, TYPE } from '../api/params.ts';
import type { Config } from '../config/types.ts';
import { RequestError } from '../errors.ts';
import type { Kubetrail } from '../kubetrail.ts';
import type { Log } from '../log.ts';
import { CLUSTER_SCOPED_DIR } from '../model/object-path.ts';
import { endSession, readAccess, safeNext, sameOrigin, securityHeaders, startSession, type UiEnv } from './auth.ts';
import { forgeLinks } from './forge-links.ts';
import { page, type Html, type Section } from './layout.ts';
import { clusterBody } from './pages/cluster.ts';
import { loginBody, messageBody } from './pages/login.ts';
import { objectBody } from './pages/object.ts';
import { overviewBody } from './pages/overview.ts';
import { timelineBody, type TimelineFilter } from './pages/timeline.ts';
import { isToken } from './session.ts';
import { STYLE } from './style.ts';
import { timelineEntry, withName } from './timeline-model.ts';

/** What the pages read: the history queries the API serves, and the remote for forge links. */
export type UiLibrary = Pick<Kubetrail, 'getCluster' | 'getClusters' | 'typeCounts' | 'getSnapshots' | 'getObject' | 'getVersions' | 'diffObject' | 'getChanges'>
  & { config: Pick<Config, 'clusters' | 'remote'> };

const TIMELINE_PAGE = 30;
const VERSIONS_SHOWN = 100;
/** With a name filter, at most this many commits of the other filters are looked through for one page. */
const NAME_SCAN = 1_000;

const bad = (code: string, message: string) => new RequestError(400, code, message);

function clusterId(c: Context, kt: UiLibrary, raw: string | undefined): string {
  if (!raw || !CLUSTER.test(raw)) throw bad('bad_cluster', 'A cluster id is a DNS label.');
  kt.getCluster(raw); // 404 when unknown
  return raw;
}
function optional(raw: string | undefined, re: RegExp, what: string): string | undefined {
  if (!raw) return undefined;
  if (!re.test(raw)) throw bad(`bad_${what}`, `"${raw}" is not a ${what}.`);
  return raw;
}
const optionalNamespace = (raw: string | undefined) => (raw === CLUSTER_SCOPED_DIR ? undefined : optional(raw, NAMESPACE, 'namespace'));
function optionalCommit(raw: string | undefined, what: string): string | undefined {
  if (!raw) return undefined;
  if (!/^[0-9a-f]{40}$/.test(raw)) throw bad(`bad_${what}`, `${what} must be a commit id from the versions list.`);
  return raw;
}

export function uiRoutes(deps: { kubetrail: UiLibrary; access: ApiAccess; log?: Log }): Hono<UiEnv> {
  const kt = deps.kubetrail;
  const forge = forgeLinks(kt.config.remote);
  const ui = new Hono<UiEnv>();
  const render = (c: Context<UiEnv>, title: string, section: Section, body: Html, status = 200) =>
    c.html(page({ title, section, signedIn: c.get('signedIn') ?? false, body }), status as 200);

  ui.use('/ui/*', securityHeaders);
  ui.use('/ui/*', async (c, next) => {
    const started = performance.now();
    await next();
    // Server time of the page (data + rendering), for a browser's devtools and the browser test's measurements.
    c.header('Server-Timing', `app;dur=${(performance.now() - started).toFixed(1)}`);
  });
  ui.get('/', (c) => c.redirect('/ui/', 302)); // the session cookie lives under /ui only

  ui.get('/ui/style.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=3600' }));
  ui.get('/ui/login', (c) => render(c, 'Sign in', 'none', loginBody({ next: safeNext(c.req.query('next')) })));
  ui.post('/ui/login', async (c) => {
    if (!sameOrigin(c)) return render(c, 'Sign in', 'none', messageBody('Sign in from this site’s own form.'), 403);
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (!deps.access.readTokens.length) return render(c, 'Sign in', 'none', messageBody('No read token is configured, so nobody can sign in.'), 503);
    if (typeof form.token !== 'string' || !isToken(form.token, deps.access.readTokens)) {
      return render(c, 'Sign in', 'none', loginBody({ next, error: 'That token is not accepted for reads.' }), 401);
    }
    startSession(c, form.token);
    return c.redirect(next, 303);
  });
  ui.post('/ui/logout', (c) => {
    endSession(c);
    return c.redirect('/ui/login', 303);
  });

  // Everything below shows recorded data: the same read access as /api, or no data at all.
  ui.use('/ui/*', async (c, next) => {
    const access = readAccess(c, deps.access);
    if (access === 'disabled') {
      return render(c, 'Reads are disabled', 'none', messageBody('Reads need a token and none is configured: set KUBETRAIL_API_TOKEN (api.tokenEnv) or api.readTokenEnv, or api.anonymousReads: true.'), 503);
    }
    if (access === 'refused') {
      const url = new URL(c.req.url);
      return render(c, 'Sign in', 'none', loginBody({ next: safeNext(url.pathname + url.search) }), 401);
    }
    c.set('signedIn', access === 'session');
    await next();
  });

  const overview = async (c: Context<UiEnv>) => {
    const clusters = await kt.getClusters();
    const withTypes = await Promise.all(clusters.map(async (info) => ({ info, types: (await kt.typeCounts(info.id)).types })));
    return render(c, 'Clusters', 'overview', overviewBody(withTypes, forge));
  };
  ui.get('/ui', overview);
  ui.get('/ui/', overview);

  ui.get('/ui/clusters/:id', async (c) => {
    const id = clusterId(c, kt, c.req.param('id'));
    const filter = { type: optional(c.req.query('type'), TYPE, 'type'), namespace: optionalNamespace(c.req.query('namespace')), search: c.req.query('search') || undefined };
    const page = Math.max(1, Math.min(1_000_000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
    const [list, counts] = await Promise.all([kt.getSnapshots({ clusterId: id, ...filter, page, limit: 50 }), kt.typeCounts(id)]);
    return render(c, `Cluster ${id}`, 'overview', clusterBody({ clusterId: id, filter, types: counts.types, total: list.total, page, limit: 50, items: list.items }));
  });

  ui.get('/ui/timeline', async (c) => {
    const q = c.req.query();
    const filter: TimelineFilter = {
      cluster: q.cluster ? clusterId(c, kt, q.cluster) : undefined, type: optional(q.type, TYPE, 'type'),
      namespace: optionalNamespace(q.namespace), name: q.name?.trim() || undefined,
    };
    let cursor = optionalCommit(q.cursor, 'cursor');
    const query = { clusterId: filter.cluster, type: filter.type, namespace: filter.namespace };
    const commits = [];
    let scanned = 0;
    do { // without a name filter this runs once
      const page = await kt.getChanges({ ...query, limit: filter.name ? 50 : TIMELINE_PAGE, cursor });
      scanned += page.changes.length;
      commits.push(...withName(page.changes, filter.name));
      cursor = page.nextCursor;
    } while (filter.name && cursor && commits.length < TIMELINE_PAGE && scanned < NAME_SCAN);
    return render(c, 'Timeline', 'timeline', timelineBody({
      filter, clusters: kt.config.clusters.map((x) => x.id), entries: commits.map(timelineEntry),
      nextCursor: cursor, scanned: filter.name ? scanned : undefined,
    }, forge));
  });

  ui.get('/ui/clusters/:id/objects/:type/:namespace/:name', async (c) => {
    const p = c.req.param();
    const ref = {
      clusterId: clusterId(c, kt, p.id), type: optional(p.type, TYPE, 'type')!,
      namespace: optionalNamespace(p.namespace), name: p.name,
    };
    if (!ref.type) throw bad('bad_type', 'A type name looks like apps.v1.Deployment.');
    if (!p.namespace || (p.namespace !== CLUSTER_SCOPED_DIR && !ref.namespace)) throw bad('bad_namespace', 'Not a namespace.');
    if (!ref.name || ref.name === '.' || ref.name === '..' || /[/\\\0]/.test(ref.name) || ref.name.length > 253) throw bad('bad_name', 'Not an object name.');
    const all = await kt.getVersions({ ...ref, limit: VERSIONS_SHOWN + 1 });
    if (!all.length) throw new RequestError(404, 'object_not_found', `No history for ${ref.type} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} in cluster ${ref.clusterId}.`);
    const versions = all.slice(0, VERSIONS_SHOWN);
    const to = optionalCommit(c.req.query('to'), 'to') ?? versions[0].commit;
    const from = optionalCommit(c.req.query('from'), 'from') ?? versions[1]?.commit;
    const [diff, stored] = await Promise.all([
      from ? kt.diffObject({ ...ref, from, to }) : undefined,
      kt.getObject({ ...ref, at: to }).catch((e) => (e instanceof RequestError && e.status === 404 ? undefined : Promise.reject(e))),
    ]);
    return render(c, `${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`, 'none', objectBody({
      ref, versions, limited: all.length > VERSIONS_SHOWN, compared: diff && from ? { from, to, diff: diff.diff } : undefined, yaml: stored?.yaml,
    }, forge));
  });

  ui.all('/ui/*', (c) => render(c, 'Not found', 'none', messageBody('There is no page here.'), 404));

  ui.onError((err, c) => {
    if (err instanceof RequestError) return render(c as Context<UiEnv>, err.status === 404 ? 'Not found' : 'Cannot show this', 'none', messageBody(err.message), err.status);
    deps.log?.({ level: 'error', msg: 'page failed', path: c.req.path, error: String((err as Error)?.stack ?? err) });
    return render(c as Context<UiEnv>, 'Something went wrong', 'none', messageBody('The page could not be made; the server log says why.'), 500);
  });
  return ui;
}
