// readType against a stub client (unit test of one module): what a list that changes shape mid-way leaves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCOVERY } from '../../src/config/validate.ts';
import { KubeError, type KubeClient } from '../../src/kube/client.ts';
import type { ResourceType } from '../../src/model/resource-type.ts';
import { pathInCluster } from '../../src/model/object-path.ts';
import { readType } from '../../src/sync/read-type.ts';
import { RenderCache } from '../../src/sync/render-cache.ts';

const type = { name: 'core.v1.ConfigMap', listPath: '/api/v1/configmaps', namespaced: true, group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps' } as ResourceType;
const cm = (ns: string, name: string, rv = '1') => ({ metadata: { name, namespace: ns, uid: `${ns}-${name}`, resourceVersion: rv } });
const cacheDir = () => mkdtempSync(join(tmpdir(), 'kt-readtype-'));
const cache = (dir = cacheDir()) => new RenderCache(dir, 'c', {});

describe('readType', () => {
  it('a 410 fallback in one namespace replaces only that namespace: the others stay (never recorded as deleted)', async () => {
    const requests: string[] = [];
    const client = {
      async getJSON(path: string) {
        requests.push(path);
        const url = new URL(`http://x${path}`);
        const ns = url.pathname.split('/')[4];
        if (ns === 'a') return { items: [cm('a', 'a1'), cm('a', 'a2')], metadata: {} };
        if (!url.searchParams.has('limit')) return { items: [cm('b', 'b1'), cm('b', 'b2'), cm('b', 'b3')], metadata: {} };
        if (url.searchParams.get('continue')) throw new KubeError('410: continue parameter is too old', { status: 410 });
        return { items: [cm('b', 'b1')], metadata: { continue: 'next' } };
      },
    } as unknown as KubeClient;
    const settings = { ...DEFAULT_DISCOVERY, namespaces: ['a', 'b'], pageSize: 1 };
    const files = await readType({ client, settings, cache: cache(), before: new Map() }, type, (o) => `blob-${o.metadata!.name}`, false);
    expect(files.map(([p]) => p).sort()).toEqual(['a/a1', 'a/a2', 'b/b1', 'b/b2', 'b/b3'].map((n) => `core.v1.ConfigMap/${n}.yaml`));
    expect(requests.at(-1)).toBe('/api/v1/namespaces/b/configmaps');
  });

  it('an object changed since recorded whose name cannot be one URL segment is read by a list, not a GET', async () => {
    const requests: string[] = [];
    const objects = [cm('ns', 'ok', '2'), cm('ns', '..', '2'), ...Array.from({ length: 200 }, (_, i) => cm('ns', `same-${i}`))];
    const client = {
      async getJSON(path: string, o: { accept?: string } = {}) {
        requests.push(path);
        const metadataOnly = o.accept?.startsWith('application/json;as=PartialObjectMetadataList') ?? false;
        return { kind: metadataOnly ? 'PartialObjectMetadataList' : 'ConfigMapList', items: objects, metadata: {} };
      },
    } as unknown as KubeClient;
    const dir = cacheDir();
    const last = cache(dir);
    const before = new Map<string, string>();
    for (const o of objects) { // recorded at resourceVersion 1 by the last sync
      last.set(RenderCache.key(type.name, o.metadata.uid, '1'), `old-${o.metadata.name}`);
      before.set(pathInCluster(type.name, 'ns', o.metadata.name), `old-${o.metadata.name}`);
    }
    last.close();
    const files = await readType({ client, settings: { ...DEFAULT_DISCOVERY }, cache: cache(dir), before }, type, (o) => `new-${o.metadata!.name}`, true);
    expect(requests.every((r) => r.startsWith('/api/v1/configmaps?'))).toBe(true); // no GET of /api/v1/namespaces/ns/configmaps/..
    expect(requests).toHaveLength(2); // metadata, then one full list
    expect(files).toHaveLength(objects.length);
  });
});
