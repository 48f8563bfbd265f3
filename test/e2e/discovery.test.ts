// Discovery, filters and listing against the real apiserver.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISCOVERY, validateConfig } from '../../src/config/validate.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { discoverSelectedTypes, discoverTypes } from '../../src/kube/discovery.ts';
import { listAllPages } from '../../src/kube/list.ts';
import { Repo } from '../../src/store/repo.ts';
import { syncCluster } from '../../src/sync/sync.ts';
import { brokenApiService, createCrd, createMany, waitForUnavailable } from '../helpers/objects.ts';
import { ensureNamespace, kubeconfigFor, serviceAccountToken } from '../helpers/rbac.ts';
import { adminClient, runCli, tempDir, testenv } from '../helpers/testenv.ts';

const client = adminClient();

/**
 * The same real server as a client sees one without aggregated discovery (before Kubernetes 1.26, or behind a
 * proxy that drops the Accept header): the request for aggregated documents goes out as a plain JSON request.
 */
function withoutAggregatedDiscovery(c: KubeClient): KubeClient & { paths: string[] } {
  const paths: string[] = [];
  const plain = <T extends { accept?: string }>(path: string, o?: T) => {
    paths.push(path);
    return o?.accept?.includes('apidiscovery.k8s.io') ? { ...o, accept: undefined } : o;
  };
  return { ...c, paths, request: (path, o) => c.request(path, plain(path, o)), getJSON: (path, o) => c.getJSON(path, plain(path, o)) };
}

describe('discovery', () => {
  beforeAll(async () => {
    await createCrd(client, 'disco.example.com', 'Widget', 'widgets', ['v1beta1', 'v1']);
  });

  it('finds built-in types, CRD types at their preferred version, and no subresources', async () => {
    const { types, failedGroups } = await discoverTypes(client);
    const names = types.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['core.v1.ConfigMap', 'core.v1.Namespace', 'apps.v1.Deployment',
      'rbac.authorization.k8s.io.v1.ClusterRole', 'apiextensions.k8s.io.v1.CustomResourceDefinition', 'disco.example.com.v1.Widget']));
    expect(names).not.toContain('disco.example.com.v1beta1.Widget');
    expect(names.some((n) => n.includes('/'))).toBe(false);
    expect(names).not.toContain('authorization.k8s.io.v1.SubjectAccessReview'); // create-only, not listable
    expect(types.find((t) => t.name === 'core.v1.Namespace')).toMatchObject({ namespaced: false, listPath: '/api/v1/namespaces' });
    expect(types.find((t) => t.name === 'disco.example.com.v1.Widget')).toMatchObject({ namespaced: true, listPath: '/apis/disco.example.com/v1/widgets' });
    expect(failedGroups).toEqual([]);
  });

  it('finds the same types with legacy per-group discovery, for servers without aggregated discovery', async () => {
    const aggregated = await discoverTypes(client);
    const legacyClient = withoutAggregatedDiscovery(client);
    const legacy = await discoverTypes(legacyClient);
    expect(legacyClient.paths).toEqual(expect.arrayContaining(['/api/v1', '/apis/apps/v1', '/apis/disco.example.com/v1'])); // one request per group
    expect(legacy.types.map((t) => t.name)).toContain('disco.example.com.v1.Widget');
    expect(legacy.types).toEqual(aggregated.types); // names, versions, kinds, scopes and list paths, in order
    expect(legacy.failedGroups).toEqual([]);
  });

  it('reports a broken aggregated API as a failed group, and a sync as partial that keeps going', async () => {
    await createMany(client, '/apis/apiregistration.k8s.io/v1/apiservices', [brokenApiService('broken.example.com')]);
    await waitForUnavailable(client, 'v1.broken.example.com');
    try {
      const { failedGroups, types } = await discoverTypes(client);
      // Other test files may break a group of their own on the shared apiserver meanwhile: this one must be there.
      expect(failedGroups).toEqual(expect.arrayContaining([expect.objectContaining({ group: 'broken.example.com', version: 'v1' })]));
      expect(types.length).toBeGreaterThan(30);
      const legacy = await discoverTypes(withoutAggregatedDiscovery(client));
      expect(legacy.failedGroups).toEqual(expect.arrayContaining([expect.objectContaining({ group: 'broken.example.com', version: 'v1' })]));
      expect(legacy.types).toEqual(types);
      // A group the settings ignore as a whole is not a failure of the sync; one Kind ignored in it is not enough.
      const settings = (ignore: string[]) => ({ ...DEFAULT_DISCOVERY, ignore });
      const groups = async (ignore: string[]) => (await discoverSelectedTypes(client, settings(ignore))).failedGroups.map((g) => g.group);
      expect(await groups(['*.example.com.*'])).not.toContain('broken.example.com');
      expect(await groups(['broken.example.com.v1.Foo'])).toContain('broken.example.com');
      expect(await groups([])).toContain('broken.example.com');
    } finally {
      await client.sendJSON('DELETE', '/apis/apiregistration.k8s.io/v1/apiservices/v1.broken.example.com');
    }
  });
});

describe('kubetrail types', () => {
  it('shows what filters keep and why others are left out', async () => {
    const dir = tempDir('types');
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, [
      'clusters:', '  - id: filters', `    kubeconfig: ${testenv().KUBECONFIG}`,
      '    select: ["core.v1.*", "apps.*", "*.k8s.io.*", "disco.example.com.*"]',
      '    ignore: ["*.v1.ClusterRole*", "core.v1.ServiceAccount"]',
    ].join('\n'));
    const res = await runCli(['types', '--config', config, '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    const selected = out.selected.map((t: { type: string }) => t.type);
    const reason = (type: string) => out.excluded.find((e: { type: string }) => e.type === type)?.reason;
    expect(selected).toEqual(expect.arrayContaining(['core.v1.ConfigMap', 'apps.v1.Deployment', 'rbac.authorization.k8s.io.v1.Role', 'disco.example.com.v1.Widget']));
    expect(out.selected.find((t: { type: string }) => t.type === 'core.v1.Namespace').scope).toBe('Cluster');
    expect(reason('rbac.authorization.k8s.io.v1.ClusterRole')).toBe('ignored by "*.v1.ClusterRole*"');
    expect(reason('rbac.authorization.k8s.io.v1.ClusterRoleBinding')).toBe('ignored by "*.v1.ClusterRole*"');
    expect(reason('core.v1.ServiceAccount')).toBe('ignored by "core.v1.ServiceAccount"');
    expect(reason('core.v1.Secret')).toBe('secrets not included (includeSecrets: false)');
    expect(reason('core.v1.Event')).toBe('default ignore: events');
    expect(reason('events.k8s.io.v1.Event')).toBe('default ignore: events');
    expect(reason('coordination.k8s.io.v1.Lease')).toBe('default ignore: leases');
    expect(reason('discovery.k8s.io.v1.EndpointSlice')).toBe('default ignore: endpoints');
    expect(selected).toContain('apiregistration.k8s.io.v1.APIService'); // by "*.k8s.io.*"
    expect(reason('scheduling.k8s.io.v1.PriorityClass')).toBeUndefined();
    expect(reason('batch.v1.Job')).toMatch(/^not selected/);
  });

  it('can leave out CRD-defined types', async () => {
    const dir = tempDir('types');
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, ['clusters:', '  - id: nocrd', `    kubeconfig: ${testenv().KUBECONFIG}`, '    includeCRDs: false'].join('\n'));
    const out = JSON.parse((await runCli(['types', '--config', config, '--json'])).stdout);
    expect(out.excluded.find((e: { type: string }) => e.type === 'disco.example.com.v1.Widget')?.reason).toBe('CRD types not included (includeCRDs: false)');
    expect(out.selected.map((t: { type: string }) => t.type)).toContain('core.v1.ConfigMap');
  });
});

describe('listing', () => {
  it('lists a type with more than 1,000 objects completely, page by page', async () => {
    await ensureNamespace(client, 'paging');
    const n = 1_234;
    await createMany(client, '/api/v1/namespaces/paging/configmaps',
      Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } })));
    const { types } = await discoverTypes(client);
    const configMaps = types.find((t) => t.name === 'core.v1.ConfigMap')!;
    const pages: number[] = [];
    const names = new Set<string>();
    for await (const page of listAllPages(client, configMaps, { pageSize: 500, namespaces: ['paging'] })) {
      pages.push(page.items.length);
      for (const item of page.items) names.add(item.metadata!.name!);
    }
    expect(pages).toEqual([500, 500, 234]);
    expect(names.size).toBe(n);
  });

  it('a type the user may not list fails on its own; every other type is still listed', async () => {
    await ensureNamespace(client, 'forbid');
    await createMany(client, '/api/v1/namespaces/forbid/configmaps', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }]);
    await createMany(client, '/api/v1/namespaces/forbid/services', [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }]);
    const token = await serviceAccountToken(client, 'forbid', 'no-services', [
      { apiGroups: [''], resources: ['configmaps', 'namespaces'], verbs: ['get', 'list'] },
      { apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'], verbs: ['list'] },
    ]);
    const config = validateConfig({ clusters: [{ id: 'forbid', kubeconfigContent: kubeconfigFor([{ name: 'sa', token }], 'sa'),
      select: ['core.v1.ConfigMap', 'core.v1.Service', 'core.v1.Namespace'], namespaces: ['forbid'] }] });
    const repo = await Repo.open(tempDir('repo'));
    const result = await syncCluster({ config, cluster: config.clusters[0], repo, dryRun: true });
    expect(result.status).toBe('partial');
    expect(result.failedTypes).toEqual([{ type: 'core.v1.Service', reason: expect.stringMatching(/^403 .*forbidden/) }]);
    expect(result.changes.added).toContain('core.v1.ConfigMap/forbid/c.yaml');
    expect(result.changes.added).toContain('core.v1.Namespace/_cluster/forbid.yaml');
  });
});
