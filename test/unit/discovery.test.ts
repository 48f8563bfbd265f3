// Pure parts of discovery, and the CRD lookup against a stub client (unit test of one module).
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.ts';
import { crdDefinedTypes, crdTypeKey, invalidTypeReason, typesFromAggregated } from '../../src/kube/discovery.ts';
import { isPlainSegment } from '../../src/model/object-path.ts';

const ok = { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' };

describe('type names from discovery', () => {
  it('accepts the groups, versions, Kinds and resources Kubernetes and CRDs have', () => {
    for (const t of [ok, { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps' },
      { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles' },
      { group: 'x-1.example.com', version: 'v2beta1', kind: 'My-Kind_2', resource: 'my-kinds' }]) {
      expect(invalidTypeReason(t), JSON.stringify(t)).toBeUndefined();
    }
  });

  it('rejects strings that cannot be a directory or URL segment, naming the part', () => {
    const bad: [Partial<typeof ok>, string][] = [
      [{ kind: '..' }, 'kind'], [{ kind: '.git' }, 'kind'], [{ kind: 'a/b' }, 'kind'], [{ kind: 'x\0y' }, 'kind'], [{ kind: '' }, 'kind'],
      [{ kind: 'A B' }, 'kind'], [{ group: '../etc' }, 'group'], [{ group: '.git' }, 'group'], [{ group: 'A.example.com' }, 'group'],
      [{ version: '..' }, 'version'], [{ version: 'v1/x' }, 'version'], [{ resource: '..' }, 'resource'], [{ resource: 'a/b' }, 'resource'],
      [{ resource: '.' }, 'resource'], [{ kind: 'K'.repeat(300) }, 'longer than'],
    ];
    for (const [part, what] of bad) expect(invalidTypeReason({ ...ok, ...part }), JSON.stringify(part)).toContain(what);
  });

  it('keeps a hostile type as a type that fails with the reason, under a safe one-line name', () => {
    const { types } = typesFromAggregated([{
      metadata: { name: 'evil.example.com' },
      versions: [{ version: 'v1', resources: [
        { resource: 'things', responseKind: { group: 'evil.example.com', version: 'v1', kind: '..' }, scope: 'Namespaced', verbs: ['list'] },
        { resource: 'gits', responseKind: { group: 'evil.example.com', version: 'v1', kind: '.git\n' }, scope: 'Cluster', verbs: ['list'] },
        { resource: 'fine', responseKind: { group: 'evil.example.com', version: 'v1', kind: 'Fine' }, scope: 'Cluster', verbs: ['list'] },
      ] }],
    }]);
    expect(types.map((t) => [t.name, !!t.invalid])).toEqual([
      ['evil.example.com.v1.%2E%2E', true], ['evil.example.com.v1.%2Egit%0A', true], ['evil.example.com.v1.Fine', false]]);
    for (const t of types) expect(isPlainSegment(t.name)).toBe(true);
    expect(types[0].invalid).toContain('kind ".."');
    expect(types[0].listPath).toBe('');
  });
});

describe('crdDefinedTypes', () => {
  it('pages through CRDs as metadata only and takes plural and group from the name', async () => {
    const requests: { path: string; accept?: string }[] = [];
    const pages = [['widgets.example.com', 'gadgets.x.y.z'], ['things.a.b']];
    const client = {
      clusterId: 'crd-unit',
      async getJSON(path: string, o: { accept?: string } = {}) {
        requests.push({ path, accept: o.accept });
        const cont = Number(new URL(`http://x${path}`).searchParams.get('continue') ?? 0);
        return { kind: 'PartialObjectMetadataList', items: pages[cont].map((name) => ({ metadata: { name } })),
          metadata: { continue: cont + 1 < pages.length ? String(cont + 1) : '' } };
      },
    } as unknown as KubeClient;
    expect([...await crdDefinedTypes(client, 60)]).toEqual(['example.com/widgets', 'x.y.z/gadgets', 'a.b/things']);
    expect(requests.map((r) => r.path)).toEqual(['/apis/apiextensions.k8s.io/v1/customresourcedefinitions?limit=500',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?limit=500&continue=1']);
    expect(requests[0].accept).toMatch(/^application\/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1/);
    expect(crdTypeKey('certificates.cert-manager.io')).toBe('cert-manager.io/certificates');
  });
});
