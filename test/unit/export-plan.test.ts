import { describe, expect, it } from 'vitest';
import { isRedactedSecret, manifestStream, planExport, stageFiles, NOT_RESTORABLE_REDACTED } from '../../src/restore/export.ts';
import { applyOrder, stageOf } from '../../src/restore/order.ts';
import { SERVER_SET_FIELDS, stripServerFields } from '../../src/restore/server-fields.ts';

const meta = (name: string, namespace?: string, extra: Record<string, unknown> = {}) => ({
  name, ...(namespace ? { namespace } : {}), uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '42',
  generation: 3, managedFields: [{ manager: 'kubectl' }], labels: { app: 'web' }, ...extra,
});

describe('stripServerFields', () => {
  it('removes the server-set metadata and status of any type, keeping what the user wrote', () => {
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', 'ns'), data: { uid: 'kept: a data key' }, status: { x: 1 } };
    expect(stripServerFields(obj, 'core.v1.ConfigMap')).toEqual({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns', labels: { app: 'web' } }, data: { uid: 'kept: a data key' },
    });
    expect(obj.metadata.uid).toBe('u-1'); // the input is not changed
  });

  it('drops a Service\'s allocated clusterIP(s) but keeps a headless Service\'s None', () => {
    const svc = (ip: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta('s', 'ns'), spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80, nodePort: 30080 }] } });
    expect(stripServerFields(svc('10.0.0.12'), 'core.v1.Service').spec).toEqual({ ports: [{ port: 80, nodePort: 30080 }] });
    expect(stripServerFields(svc('None'), 'core.v1.Service').spec).toEqual({ clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80, nodePort: 30080 }] });
    // Only Services: a CR with a field of that name keeps it.
    expect(stripServerFields(svc('10.0.0.12'), 'example.com.v1.Service').spec).toHaveProperty('clusterIP', '10.0.0.12');
  });

  it('drops the fields generated from a Job\'s uid, a Pod\'s node and a bound PV\'s claim uid', () => {
    const job = { kind: 'Job', metadata: meta('j', 'ns'), spec: { selector: { matchLabels: { 'controller-uid': 'u' } }, template: { metadata: { labels: { 'controller-uid': 'u', 'batch.kubernetes.io/controller-uid': 'u', app: 'x' } } } } };
    expect(stripServerFields(job, 'batch.v1.Job').spec).toEqual({ template: { metadata: { labels: { app: 'x' } } } });
    expect(stripServerFields({ kind: 'Pod', metadata: meta('p', 'ns'), spec: { nodeName: 'n1', containers: [] } }, 'core.v1.Pod').spec).toEqual({ containers: [] });
    const pv = { kind: 'PersistentVolume', metadata: meta('pv'), spec: { claimRef: { name: 'c', namespace: 'ns', uid: 'u', resourceVersion: '9' } } };
    expect(stripServerFields(pv, 'core.v1.PersistentVolume').spec).toEqual({ claimRef: { name: 'c', namespace: 'ns' } });
  });

  it('keeps ownerReferences only to owners in the export (same namespace, or cluster-scoped)', () => {
    const refs = [{ apiVersion: 'example.com/v1', kind: 'Foo', name: 'kept', uid: 'a', controller: false }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'b', controller: true }];
    const obj = { kind: 'ConfigMap', metadata: { ...meta('c', 'ns'), ownerReferences: refs } };
    const exported = (key: string) => key === JSON.stringify(['example.com', 'Foo', 'ns', 'kept']);
    expect(stripServerFields(obj, 'core.v1.ConfigMap', exported).metadata).toEqual({ name: 'c', namespace: 'ns', labels: { app: 'web' }, ownerReferences: [refs[0]] });
    expect(stripServerFields(obj, 'core.v1.ConfigMap', () => false).metadata).not.toHaveProperty('ownerReferences');
  });

  it('has one documented reason for each field', () => {
    for (const f of SERVER_SET_FIELDS) expect(f.why.length).toBeGreaterThan(5);
  });
});

describe('apply order', () => {
  it('puts CRDs, Namespaces, cluster-scoped RBAC and classes, accounts/config/Secrets, workloads, webhooks, custom resources in that order', () => {
    const items = [
      { type: 'samplecontroller.k8s.io.v1alpha1.Foo', namespace: 'ns', name: 'foo' },
      { type: 'apps.v1.Deployment', namespace: 'ns', name: 'web' },
      { type: 'admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration', name: 'hook' },
      { type: 'core.v1.Service', namespace: 'ns', name: 'web' },
      { type: 'core.v1.Secret', namespace: 'ns', name: 's' },
      { type: 'rbac.authorization.k8s.io.v1.RoleBinding', namespace: 'ns', name: 'rb' },
      { type: 'core.v1.ServiceAccount', namespace: 'ns', name: 'sa' },
      { type: 'core.v1.ConfigMap', namespace: 'ns', name: 'cm' },
      { type: 'storage.k8s.io.v1.StorageClass', name: 'fast' },
      { type: 'rbac.authorization.k8s.io.v1.ClusterRole', name: 'cr' },
      { type: 'core.v1.Namespace', name: 'ns' },
      { type: 'example.com.v1.Widget', name: 'cluster-widget' },
      { type: 'apiextensions.k8s.io.v1.CustomResourceDefinition', name: 'foos.samplecontroller.k8s.io' },
    ];
    const order = applyOrder(items, new Set(['samplecontroller.k8s.io'])).map((i) => `${i.type}/${i.name}`);
    expect(order).toEqual([
      'apiextensions.k8s.io.v1.CustomResourceDefinition/foos.samplecontroller.k8s.io',
      'core.v1.Namespace/ns',
      'storage.k8s.io.v1.StorageClass/fast',
      'rbac.authorization.k8s.io.v1.ClusterRole/cr',
      'core.v1.ServiceAccount/sa', 'core.v1.Secret/s', 'core.v1.ConfigMap/cm', 'rbac.authorization.k8s.io.v1.RoleBinding/rb',
      'core.v1.Service/web', 'apps.v1.Deployment/web',
      'admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration/hook',
      'example.com.v1.Widget/cluster-widget', 'samplecontroller.k8s.io.v1alpha1.Foo/foo',
    ]);
  });

  it('knows a CRD-defined group ending in .k8s.io only from the recorded CRDs', () => {
    expect(stageOf('samplecontroller.k8s.io.v1alpha1.Foo', true).name).toBe('workloads');
    expect(stageOf('samplecontroller.k8s.io.v1alpha1.Foo', true, new Set(['samplecontroller.k8s.io'])).name).toBe('custom-resources');
  });
});

describe('planExport', () => {
  const digest = `hmac-sha256:${'a'.repeat(64)}`;
  const objects = [
    { type: 'core.v1.Secret', namespace: 'ns', name: 'db', object: { apiVersion: 'v1', kind: 'Secret', metadata: meta('db', 'ns'), data: { password: digest } } },
    { type: 'core.v1.Secret', namespace: 'ns', name: 'empty', object: { apiVersion: 'v1', kind: 'Secret', metadata: meta('empty', 'ns'), type: 'Opaque' } },
    { type: 'apiextensions.k8s.io.v1.CustomResourceDefinition', name: 'foos.samplecontroller.k8s.io', object: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: meta('foos.samplecontroller.k8s.io'), spec: { group: 'samplecontroller.k8s.io' }, status: { acceptedNames: {} } } },
    { type: 'samplecontroller.k8s.io.v1alpha1.Foo', namespace: 'ns', name: 'f', object: { apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', metadata: meta('f', 'ns'), spec: { replicas: 1 } } },
    { type: 'core.v1.ConfigMap', namespace: 'ns', name: 'owned', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...meta('owned', 'ns'), ownerReferences: [{ apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', name: 'f', uid: 'u-1', controller: false }] } } },
  ];

  it('leaves redacted Secrets out and reports them; a Secret without values is exported', () => {
    const plan = planExport(objects);
    expect(plan.notRestorable).toEqual([{ type: 'core.v1.Secret', namespace: 'ns', name: 'db', reason: NOT_RESTORABLE_REDACTED }]);
    const yaml = manifestStream(plan.objects);
    expect(yaml).not.toContain('hmac-sha256');
    expect(plan.objects.map((o) => o.name)).toEqual(['foos.samplecontroller.k8s.io', 'empty', 'owned', 'f']);
    expect(plan.objects.find((o) => o.name === 'owned')!.manifest.metadata!.ownerReferences).toHaveLength(1);
    expect(yaml).not.toMatch(/^  uid:|creationTimestamp|resourceVersion|generation|managedFields|acceptedNames/m);
  });

  it('sees a digest in any value or in the last-applied annotation, and only in Secrets', () => {
    expect(isRedactedSecret('core.v1.Secret', { stringData: { a: digest } })).toBe(true);
    expect(isRedactedSecret('core.v1.Secret', { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': digest } } })).toBe(true);
    expect(isRedactedSecret('core.v1.Secret', { data: { a: 'aGVsbG8=' } })).toBe(false);
    expect(isRedactedSecret('core.v1.ConfigMap', { data: { a: digest } })).toBe(false);
  });

  it('writes one file per stage, named in apply order', () => {
    expect(stageFiles(planExport(objects).objects).map((f) => [f.file, f.objects])).toEqual([
      ['1-crds.yaml', 1], ['4-config.yaml', 2], ['7-custom-resources.yaml', 1]]);
  });
});
