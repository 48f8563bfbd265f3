// An aggregated API server of the test suite: the real kube-apiserver's aggregator proxies
// /apis/hostile.kubetrail.test/v1 to it (APIService → Service → Endpoints, see register()). It answers
// discovery like any extension API server and serves lists that a well-behaved cluster never sends:
// hostile names and namespaces, a stall, garbage JSON and a 50 MiB list that ignores `limit`.
// In `benign` mode every resource answers a small, valid list (for the sync that records objects first).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';

export const GROUP = 'hostile.kubetrail.test';
export const VERSION = 'v1';

/** Names that must never leave their directory or make a tree git refuses. */
export const HOSTILE_NAMES = ['..', '.', '.git', '.GIT', '.gitmodules', 'git~1', 'a/b', '../../../escape', 'nul\u0000name', 'back\\slash', 'ctl\u0001x', 'fine-name'];
export const HOSTILE_NAMESPACES = ['default', '..', '.git', 'a/b', '_cluster', 'x\u0000y'];

interface Resource { name: string; kind: string; namespaced: boolean }
export const RESOURCES: Resource[] = [
  { name: 'hostiles', kind: 'Hostile', namespaced: true }, // hostile names and namespaces
  { name: 'stalls', kind: 'Stall', namespaced: false }, // hostile mode: no answer for 30 s
  { name: 'garbages', kind: 'Garbage', namespaced: false }, // hostile mode: not JSON
  { name: 'huges', kind: 'Huge', namespaced: false }, // hostile mode: 50 MiB, whatever `limit` says
  { name: 'dotkinds', kind: '..', namespaced: false }, // a Kind that would be a path segment `..`
  { name: 'gitkinds', kind: '.git', namespaced: false }, // a Kind that would be a directory `.git`
];

const HUGE_BYTES = 50 * 1024 * 1024;
export const STALL_MS = 30_000;

function object(kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: `${GROUP}/${VERSION}`, kind,
    metadata: { name, ...(namespace === undefined ? {} : { namespace }), uid: `uid-${Buffer.from(`${namespace}/${name}`).toString('hex')}`, resourceVersion: '1' },
    ...extra,
  };
}

const list = (kind: string, items: unknown[]) => JSON.stringify({ apiVersion: `${GROUP}/${VERSION}`, kind: `${kind}List`, metadata: { resourceVersion: '1' }, items });

/** A 50 MiB list written in chunks, never held whole by this server either. */
function writeHuge(res: import('node:http').ServerResponse) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(`{"apiVersion":"${GROUP}/${VERSION}","kind":"HugeList","metadata":{"resourceVersion":"1"},"items":[`);
  const filler = 'x'.repeat(64 * 1024);
  let written = 0;
  let i = 0;
  const more = () => {
    while (written < HUGE_BYTES) {
      const chunk = `${i ? ',' : ''}${JSON.stringify(object('Huge', `huge-${i}`, undefined, { data: { filler } }))}`;
      written += chunk.length;
      i++;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end(']}');
  };
  res.on('error', () => {}); // the client is expected to hang up early
  more();
}

export interface AggregatedApi {
  port: number;
  mode: 'benign' | 'hostile';
  /** Requests seen, by path (the aggregator's own probes included). */
  requests: string[];
  close(): Promise<void>;
}

/** Listens on `address` (the peer end of a test host's veth pair: see netns.ts). */
export async function startAggregatedApi(address: string): Promise<AggregatedApi> {
  const dir = mkdtempSync(join(tmpdir(), 'kt-aggregated-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hostile-api',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const api: AggregatedApi = { port: 0, mode: 'benign', requests: [], close: async () => {} };
  const timers = new Set<NodeJS.Timeout>();
  const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    api.requests.push(url.pathname + url.search);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const gv = `/apis/${GROUP}/${VERSION}`;
    if (url.pathname === '/openapi/v2') return json(200, { swagger: '2.0', info: { title: 'hostile', version: VERSION }, paths: {} });
    if (url.pathname === '/openapi/v3') return json(200, { paths: {} });
    if (url.pathname === '/apis') {
      return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: GROUP, versions: [{ groupVersion: `${GROUP}/${VERSION}`, version: VERSION }], preferredVersion: { groupVersion: `${GROUP}/${VERSION}`, version: VERSION } }] });
    }
    if (url.pathname === `/apis/${GROUP}`) {
      return json(200, { kind: 'APIGroup', apiVersion: 'v1', name: GROUP, versions: [{ groupVersion: `${GROUP}/${VERSION}`, version: VERSION }], preferredVersion: { groupVersion: `${GROUP}/${VERSION}`, version: VERSION } });
    }
    if (url.pathname === gv) {
      return json(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${GROUP}/${VERSION}`,
        resources: RESOURCES.map((r) => ({ name: r.name, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'list'] })) });
    }
    const match = url.pathname.match(new RegExp(`^${gv.replaceAll('.', '\\.')}/(?:namespaces/([^/]+)/)?([^/]+)$`));
    const resource = RESOURCES.find((r) => r.name === match?.[2]);
    if (!match || !resource) return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    if (resource.name === 'hostiles') {
      const items = HOSTILE_NAMESPACES.flatMap((ns) => HOSTILE_NAMES.map((name) => object('Hostile', name, ns, { spec: { ns, name } })));
      return json(200, list('Hostile', items));
    }
    if (api.mode === 'benign') return json(200, list(resource.kind, [object(resource.kind, `${resource.name}-a`), object(resource.kind, `${resource.name}-b`)]));
    if (resource.name === 'stalls') {
      const t = setTimeout(() => { timers.delete(t); json(200, list('Stall', [])); }, STALL_MS);
      timers.add(t);
      res.on('close', () => { clearTimeout(t); timers.delete(t); });
      return;
    }
    if (resource.name === 'garbages') return json(200, '{"apiVersion": "v1", "items": [{"metadata": {"name": "a"}}, {"garb');
    if (resource.name === 'huges') return writeHuge(res);
    return json(200, list(resource.kind, [])); // hostile Kinds: an empty list, never reached
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  api.port = (server.address() as AddressInfo).port;
  api.close = () => new Promise((resolve) => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return api;
}

/** APIService → Service → Endpoints + EndpointSlice at `address:port`, then waits until discovery serves the group. */
export async function register(client: KubeClient, address: string, port: number): Promise<void> {
  const ns = 'default';
  const name = 'hostile-api';
  const put = async (collection: string, body: { metadata: { name: string } }) => {
    const res = await client.request(`${collection}/${body.metadata.name}`, { method: 'PUT', body });
    if (res.status === 404) await client.sendJSON('POST', collection, body);
    else if (res.status >= 300) throw new Error(`PUT ${collection}/${body.metadata.name}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  };
  const create = async (collection: string, body: { metadata: { name: string } }) => {
    await client.request(`${collection}/${body.metadata.name}`, { method: 'DELETE' });
    await client.sendJSON('POST', collection, body);
  };
  await create(`/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 443, targetPort: port }] } } as never);
  await put(`/api/v1/namespaces/${ns}/endpoints`, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name },
    subsets: [{ addresses: [{ ip: address }], ports: [{ port }] }] } as never);
  await put(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }], ports: [{ port }] } as never);
  await put('/apis/apiregistration.k8s.io/v1/apiservices', { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService',
    metadata: { name: `${VERSION}.${GROUP}` },
    spec: { group: GROUP, version: VERSION, service: { namespace: ns, name, port: 443 }, insecureSkipTLSVerify: true,
      groupPriorityMinimum: 1000, versionPriority: 15 } } as never);
  for (let i = 0; i < 600; i++) {
    const res = await client.request(`/apis/${GROUP}/${VERSION}`);
    if (res.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the aggregator never served /apis/${GROUP}/${VERSION}`);
}

export async function unregister(client: KubeClient): Promise<void> {
  await client.request(`/apis/apiregistration.k8s.io/v1/apiservices/${VERSION}.${GROUP}`, { method: 'DELETE' });
}
