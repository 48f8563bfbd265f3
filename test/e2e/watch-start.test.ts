// A watch's start against the real apiserver: the scopes' first lists reuse the blobs the initial sync rendered
// (its render cache), so nothing is rendered again for objects that did not change. At 50k objects rendering
// them twice cost seconds of CPU and raised the watch's peak RSS (bench/README.md, "Watch mode").
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import type { ObjectBatch } from '../../src/store/pack.ts';
import type { Repo } from '../../src/store/repo.ts';
import { openRepo } from '../../src/sync/run.ts';
import type { FileChanges } from '../../src/sync/result.ts';
import { watchCluster } from '../../src/watch/cluster-watch.ts';
import { createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, tempDir, testenv } from '../helpers/testenv.ts';

const client = adminClient();
const ns = 'watch-start';
const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: name } });

/** The repository, counting the blobs written through its object batches (one per rendered object). */
function counting(repo: Repo): { repo: Repo; written: string[] } {
  const written: string[] = [];
  const batch = (b: ObjectBatch): ObjectBatch => new Proxy(b, {
    get: (t, k) => (k === 'write'
      ? (type: string, bytes: Buffer, known?: (id: string) => boolean) => { if (type === 'blob') written.push(type); return t.write(type as never, bytes, known); }
      : Reflect.get(t, k, t)),
  });
  const counted = new Proxy(repo, {
    get: (t, k) => (k === 'objectBatch' ? () => batch(t.objectBatch()) : typeof Reflect.get(t, k) === 'function' ? Reflect.get(t, k).bind(t) : Reflect.get(t, k)),
  });
  return { repo: counted, written };
}

describe('a watch starting after its initial sync', () => {
  const stop = new AbortController();
  afterAll(() => stop.abort());

  it('renders no unchanged object again, and still commits the first change', async () => {
    await ensureNamespace(client, ns);
    await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: 40 }, (_, i) => configMap(`before-${i}`)));
    const dir = tempDir('watch-start');
    const config = validateConfig({ repo: join(dir, 'repo'), bare: true, clusters: [{ id: 'watch-start', kubeconfig: testenv().KUBECONFIG, namespaces: [ns] }] });
    const { repo, written } = counting(await openRepo(config));
    let writtenAtStart = -1;
    const commits: FileChanges[] = [];
    const watching = watchCluster({
      config, cluster: config.clusters[0], repo, signal: stop.signal, assertLocked: async () => {},
      commitIntervalMs: 1000, discoveryIntervalMs: 60_000, report: () => {},
      onWatching: () => { writtenAtStart = written.length; },
      onCommit: (_, c) => { commits.push(c); },
    });
    const until = Date.now() + 60_000;
    while (writtenAtStart < 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(writtenAtStart).toBeGreaterThanOrEqual(40); // the initial sync rendered them
    await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, [configMap('after')]);
    while (!commits.some((c) => c.added.some((p) => p.endsWith('/after.yaml'))) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(commits.at(-1)!.added).toEqual([`core.v1.ConfigMap/${ns}/after.yaml`]);
    // The lists the watch started with rendered nothing: the one blob since is the new ConfigMap's.
    expect(written.length - writtenAtStart).toBe(1);
    stop.abort();
    await watching;
  });
});
