// A watch whose resourceVersion etcd compacted away (410 Gone when it is re-established), against the real
// apiserver and etcd: the scope is listed again, the list replaces it with nothing deleted spuriously, and the
// new watch goes on. PodTemplates have no watch cache in the test apiserver (up.sh), so the watch is etcd's.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISCOVERY } from '../../src/config/validate.ts';
import { discoverTypes } from '../../src/kube/discovery.ts';
import { objectId } from '../../src/store/codec.ts';
import type { WatchedFiles } from '../../src/watch/files.ts';
import { watchScope, type ScopeContext } from '../../src/watch/scope-watch.ts';
import { createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, testenv } from '../helpers/testenv.ts';

const client = adminClient();
const ns = 'watch-compaction';

async function etcd<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${testenv().ETCD_URL}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return await res.json() as T;
}

/**
 * Moves the revision on (two writes elsewhere) and compacts etcd up to it: every older revision is gone. Two, as
 * a watch from resourceVersion N starts at N + 1, which one write and a compaction at it would keep.
 */
async function compactNow(): Promise<void> {
  await client.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'bump-' } } });
  await client.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'bump-' } } });
  const { header } = await etcd<{ header: { revision: string } }>('/v3/kv/range', { key: 'AA==' });
  await etcd('/v3/kv/compaction', { revision: header.revision, physical: true });
}

const template = (name: string) => ({ apiVersion: 'v1', kind: 'PodTemplate', metadata: { name }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } });

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a watch re-established after etcd compacted its resourceVersion', () => {
  const stop = new AbortController();
  afterAll(() => stop.abort());

  it('lists the type again on 410 Gone, deletes nothing spuriously, and keeps watching', async () => {
    await ensureNamespace(client, ns);
    await createMany(client, `/api/v1/namespaces/${ns}/podtemplates`, ['p1', 'p2', 'p3'].map(template));
    const podTemplates = (await discoverTypes(client)).types.find((t) => t.name === 'core.v1.PodTemplate')!;
    const lists: string[] = [];
    const watches: string[] = [];
    const recording = {
      ...client,
      getJSON: <T>(path: string, o?: { accept?: string }) => (lists.push(path), client.getJSON<T>(path, o)),
      request: (path: string, o?: Parameters<typeof client.request>[1]) => (watches.push(path), client.request(path, o)),
    };
    const files: WatchedFiles = new Map();
    const deleted: string[] = [];
    let changes = 0;
    const ctx: ScopeContext = {
      client: recording, settings: { ...DEFAULT_DISCOVERY, namespaces: [ns] }, files,
      render: async (_t, obj) => ({ oid: objectId('blob', Buffer.from(JSON.stringify(obj.metadata?.name))), resourceVersion: String(obj.metadata?.resourceVersion) }),
      ignoresObject: () => undefined,
      changed: () => { changes++; },
      unwatchable: () => { throw new Error('PodTemplates can be watched'); },
      failing: () => {},
      relistMs: 1000,
      watchTimeoutSeconds: 2, // the server ends each watch after 2 s: it is re-established from our resourceVersion
    };
    const realDelete = files.delete.bind(files);
    files.delete = (p: string) => (deleted.push(p), realDelete(p));
    const done = watchScope(ctx, podTemplates, ns, stop.signal);

    await waitFor('the first list', () => files.size === 3 && watches.length >= 1);
    const changesAfterList = changes;
    await compactNow(); // the resourceVersion the next watch starts from is now older than etcd's history
    await waitFor('a second list (after 410)', () => lists.length >= 2, 20_000);
    expect([...files.keys()].sort()).toEqual(['p1', 'p2', 'p3'].map((n) => `core.v1.PodTemplate/${ns}/${n}.yaml`));
    expect(deleted).toEqual([]);
    expect(changes).toBe(changesAfterList); // the relist found nothing new: no change to commit

    await createMany(client, `/api/v1/namespaces/${ns}/podtemplates`, [template('p4')]);
    await waitFor('p4 from the new watch', () => files.has(`core.v1.PodTemplate/${ns}/p4.yaml`));
    expect(files.size).toBe(4);
    stop.abort();
    await done;
  });
});
