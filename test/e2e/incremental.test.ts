// A sync after the first reads metadata only and fetches in full just what changed; what it records must equal a
// full snapshot. Real apiserver; the client is the real one, wrapped only to see which requests a sync makes.
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { Repo } from '../../src/store/repo.ts';
import { syncCluster } from '../../src/sync/sync.ts';
import { createMany, waitForEndpoint } from '../helpers/objects.ts';
import { ensureNamespace, kubeconfigFor, serviceAccountToken } from '../helpers/rbac.ts';
import { adminClient, git, tempDir, testenv } from '../helpers/testenv.ts';

const client = adminClient();
const ns = 'incr';
const configMaps = `/api/v1/namespaces/${ns}/configmaps`;
const gadgets = '/apis/incr.example.com/v1/gadgets'; // cluster-scoped custom resources
const cluster = { id: 'incr', namespaces: [ns], select: ['core.v1.ConfigMap', 'incr.example.com.v1.Gadget'] };
const config = validateConfig({ clusters: [{ ...cluster, kubeconfig: testenv().KUBECONFIG }] });

interface Seen { path: string; metadataOnly: boolean }

/** The real client; every GET it makes is noted. `beforeGet` runs before a GET is sent. */
function watched(beforeGet?: (path: string) => Promise<void>): { client: KubeClient; seen: Seen[] } {
  const seen: Seen[] = [];
  const getJSON = async <T,>(path: string, o: { accept?: string; retries?: number } = {}): Promise<T> => {
    seen.push({ path: path.split('?')[0], metadataOnly: o.accept?.includes('as=PartialObjectMetadataList') ?? false });
    await beforeGet?.(path);
    return client.getJSON<T>(path, o);
  };
  return { client: { ...client, getJSON }, seen };
}

const sync = (repo: Repo, c?: KubeClient) => syncCluster({ config, cluster: config.clusters[0], repo, client: c, allowMassDelete: true });
const lists = (seen: Seen[], path: string) => seen.filter((s) => s.path === path);
const gets = (seen: Seen[]) => seen.filter((s) => s.path.startsWith(`${configMaps}/`) || s.path.startsWith(`${gadgets}/`)).map((s) => s.path).sort();
async function patch(path: string, value: string): Promise<void> {
  const obj = await client.getJSON<{ data?: Record<string, string> }>(path);
  obj.data = { ...obj.data, value };
  await client.sendJSON('PUT', path, obj);
}

/** The subtree a sync into a fresh repository records: the full snapshot to compare with. */
async function fullSnapshot(): Promise<string> {
  const dir = tempDir('incr-full');
  const result = await sync(await Repo.open(dir));
  expect(result.status).toBe('complete');
  return git(dir, ['rev-parse', 'HEAD:clusters/incr']);
}

describe('incremental sync', () => {
  const dir = tempDir('incr');
  let repo: Repo;

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    await createMany(client, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', [{
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.incr.example.com' },
      spec: { group: 'incr.example.com', scope: 'Cluster', names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
    }]);
    await waitForEndpoint(client, gadgets);
    await createMany(client, configMaps, Array.from({ length: 100 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { value: `v${i}` } })));
    await createMany(client, gadgets, Array.from({ length: 60 }, (_, i) => ({ apiVersion: 'incr.example.com/v1', kind: 'Gadget', metadata: { name: `g-${i}` }, data: { value: `v${i}` } })));
    repo = await Repo.open(dir);
  });

  it('the first sync lists objects in full', async () => {
    const { client: c, seen } = watched();
    const result = await sync(repo, c);
    expect(result).toMatchObject({ status: 'complete', added: 160 });
    expect(lists(seen, configMaps)).toEqual([{ path: configMaps, metadataOnly: false }]);
    expect(lists(seen, gadgets)).toEqual([{ path: gadgets, metadataOnly: false }]);
  });

  it('an unchanged cluster is read as metadata only: no object fetched, no commit', async () => {
    const { client: c, seen } = watched();
    const result = await sync(repo, c);
    expect(result).toMatchObject({ status: 'complete', unchanged: 160, blobsWritten: 0 });
    expect(result.commit).toBeUndefined();
    expect(lists(seen, configMaps)).toEqual([{ path: configMaps, metadataOnly: true }]);
    expect(lists(seen, gadgets)).toEqual([{ path: gadgets, metadataOnly: true }]);
    expect(gets(seen)).toEqual([]);
  });

  it('a changed ConfigMap, a changed Gadget, a deletion: only the two changed objects are fetched; the record equals a full snapshot', async () => {
    await patch(`${configMaps}/cm-1`, 'changed');
    await patch(`${gadgets}/g-7`, 'changed');
    await client.request(`${configMaps}/cm-3`, { method: 'DELETE' });
    const { client: c, seen } = watched();
    const result = await sync(repo, c);
    expect(result).toMatchObject({ status: 'complete', changed: 2, deleted: 1, blobsWritten: 2 });
    expect(gets(seen)).toEqual([`${configMaps}/cm-1`, `${gadgets}/g-7`]);
    expect(git(dir, ['show', '--name-status', '--format=', 'HEAD']).trim().split('\n').sort()).toEqual([
      'D\tclusters/incr/core.v1.ConfigMap/incr/cm-3.yaml',
      'M\tclusters/incr/core.v1.ConfigMap/incr/cm-1.yaml',
      'M\tclusters/incr/incr.example.com.v1.Gadget/_cluster/g-7.yaml',
    ]);
    expect(git(dir, ['show', 'HEAD:clusters/incr/core.v1.ConfigMap/incr/cm-1.yaml'])).toContain('value: changed');
    expect(git(dir, ['rev-parse', 'HEAD:clusters/incr'])).toBe(await fullSnapshot());
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('many changes in a type: it is listed once more in full instead of a GET per object', async () => {
    for (let i = 10; i < 20; i++) await patch(`${configMaps}/cm-${i}`, 'many');
    const { client: c, seen } = watched();
    const result = await sync(repo, c);
    expect(result).toMatchObject({ status: 'complete', changed: 10 });
    expect(lists(seen, configMaps)).toEqual([{ path: configMaps, metadataOnly: true }, { path: configMaps, metadataOnly: false }]);
    expect(gets(seen)).toEqual([]);
    expect(git(dir, ['rev-parse', 'HEAD:clusters/incr'])).toBe(await fullSnapshot());
  });

  it('an object deleted between the list and its fetch is recorded as deleted', async () => {
    await patch(`${configMaps}/cm-5`, 'doomed');
    const { client: c, seen } = watched(async (path) => {
      if (path === `${configMaps}/cm-5`) await client.request(path, { method: 'DELETE' });
    });
    const result = await sync(repo, c);
    expect(result).toMatchObject({ status: 'complete', changed: 0, deleted: 1 });
    expect(gets(seen)).toEqual([`${configMaps}/cm-5`]);
    expect(git(dir, ['show', '--name-status', '--format=', 'HEAD']).trim()).toBe('D\tclusters/incr/core.v1.ConfigMap/incr/cm-5.yaml');
    expect(git(dir, ['rev-parse', 'HEAD:clusters/incr'])).toBe(await fullSnapshot());
  });

  it('an identity that may list but not get: the changed type is listed again in full', async () => {
    const token = await serviceAccountToken(client, ns, 'list-only', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list'] },
      { apiGroups: ['incr.example.com'], resources: ['gadgets'], verbs: ['list'] },
      { apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'], verbs: ['list'] },
    ]);
    const listOnly = validateConfig({ clusters: [{ ...cluster, kubeconfigContent: kubeconfigFor([{ name: 'sa', token }], 'sa') }] });
    await patch(`${configMaps}/cm-6`, 'seen by list');
    const result = await syncCluster({ config: listOnly, cluster: listOnly.clusters[0], repo });
    expect(result).toMatchObject({ status: 'complete', changed: 1 });
    expect(git(dir, ['show', 'HEAD:clusters/incr/core.v1.ConfigMap/incr/cm-6.yaml'])).toContain('value: seen by list');
    expect(git(dir, ['rev-parse', 'HEAD:clusters/incr'])).toBe(await fullSnapshot());
  });
});
