// A list that outlives etcd's compaction (410 Gone on its continue token), against the real apiserver and etcd.
// etcd is compacted through its HTTP gateway between pages, the way the apiserver's own compactor does every
// few minutes on a busy cluster. up.sh turns the watch cache off for PodTemplates only (--watch-cache-sizes
// podtemplates#0): with the cache, 1.34+ serves continue tokens from its snapshots and hides compaction.
import { describe, expect, it } from 'vitest';
import { discoverTypes } from '../../src/kube/discovery.ts';
import { listAllPages } from '../../src/kube/list.ts';
import { createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, testenv } from '../helpers/testenv.ts';

const client = adminClient();
const N = 600;

async function etcd<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${testenv().ETCD_URL}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return await res.json() as T;
}

/** Moves the revision on (one write) and compacts etcd up to it: every older snapshot is gone. */
async function compactNow(): Promise<string> {
  await client.request('/api/v1/namespaces/compaction/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'bump-' } } });
  const { header } = await etcd<{ header: { revision: string } }>('/v3/kv/range', { key: 'AA==' });
  await etcd('/v3/kv/compaction', { revision: header.revision, physical: true });
  return header.revision;
}

describe('a list that outlives etcd compaction', () => {
  it('falls back to one unpaginated list on 410 Gone and gets every object, even when etcd compacts after every page', async () => {
    await ensureNamespace(client, 'compaction');
    await createMany(client, '/api/v1/namespaces/compaction/podtemplates', Array.from({ length: N }, (_, i) => ({
      apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: `pt-${i}` }, template: { spec: { containers: [{ name: 'c', image: `img:${i}` }] } },
    })));
    const podTemplates = (await discoverTypes(client)).types.find((t) => t.name === 'core.v1.PodTemplate')!;
    const requests: string[] = [];
    const recording = { ...client, getJSON: <T>(path: string, o?: { accept?: string }) => (requests.push(path), client.getJSON<T>(path, o)) };

    const pages: { restarted: boolean; count: number }[] = [];
    let names = new Set<string>();
    const compactions: string[] = [];
    for await (const page of listAllPages(recording, podTemplates, { pageSize: 50, namespaces: ['compaction'] })) {
      if (page.restarted) names = new Set();
      for (const item of page.items) names.add(item.metadata!.name!);
      pages.push({ restarted: page.restarted, count: page.items.length });
      compactions.push(await compactNow()); // the list now outlives etcd's history, page after page
    }

    expect(names.size).toBe(N);
    expect(pages.filter((p) => p.restarted)).toEqual([{ restarted: true, count: N }]); // the fallback was taken, once
    expect(pages.at(-1)).toEqual({ restarted: true, count: N });
    expect(requests.at(-1)).toBe('/api/v1/namespaces/compaction/podtemplates'); // no limit, no continue
    expect(requests.filter((r) => r.includes('continue=')).length).toBeGreaterThan(0);
  });
});
