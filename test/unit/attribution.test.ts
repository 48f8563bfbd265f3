import { describe, expect, it } from 'vitest';
import {
  attributeChange, attributionInMessage, changedLocations, countManagers, formatAttribution, owns, parseAttribution,
} from '../../src/attribution/managed-fields.ts';
import { commitMessage } from '../../src/sync/result.ts';

// managedFields as the apiserver wrote them for a Deployment created by `kubectl apply` (client-side) and then
// changed by `kubectl set image` and `kubectl scale` (shapes copied from a real v1.37 apiserver).
const deployment = (image: string, replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout' } },
  spec: {
    replicas,
    template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] } },
  },
});
const managedFields = [
  {
    manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2026-12-01T10:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:template': { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"checkout"}': { '.': {}, 'f:name': {}, 'f:ports': { '.': {}, 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } } } } } } },
    },
  },
  {
    manager: 'kubectl-set', operation: 'Update', apiVersion: 'apps/v1', time: '2026-12-01T10:02:11Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"checkout"}': { 'f:image': {} } } } } } },
  },
  {
    manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2026-12-01T10:03:00Z', fieldsType: 'FieldsV1', subresource: 'scale',
    fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  },
  {
    manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: '2026-12-01T10:03:01Z', fieldsType: 'FieldsV1', subresource: 'status',
    fieldsV1: { 'f:status': { 'f:replicas': {} } },
  },
];
const read = Date.parse('2026-12-01T10:01:00Z'); // the previous version was read between the apply and the set

describe('attributeChange', () => {
  it('names the manager that owns the changed field and wrote after the previous version', () => {
    const a = attributeChange(deployment('shop/checkout:1.4.2', 3), deployment('shop/checkout:1.5.0', 3), managedFields, read);
    expect(a).toEqual({ managers: [{ manager: 'kubectl-set', operation: 'Update', time: '2026-12-01T10:02:11Z' }], unknown: false });
  });

  it('names each manager of each changed field, and no manager of an unchanged one', () => {
    const a = attributeChange(deployment('shop/checkout:1.4.2', 3), deployment('shop/checkout:1.5.0', 5), managedFields, read);
    expect(a.managers.map((m) => m.manager)).toEqual(['kubectl-set', 'kubectl']);
    expect(a.unknown).toBe(false);
  });

  it('says unknown when the owner wrote before the previous version was read (it cannot have made this change)', () => {
    const after = deployment('shop/checkout:1.4.2', 3);
    (after.metadata.labels as Record<string, string>).app = 'renamed';
    const a = attributeChange(deployment('shop/checkout:1.4.2', 3), after, managedFields, read);
    expect(a).toEqual({ managers: [], unknown: true });
  });

  it('says unknown for a removed field (no one owns it any more) next to a known change', () => {
    const before = { ...deployment('shop/checkout:1.4.2', 3), data: { gone: 'x' } };
    const a = attributeChange(before, deployment('shop/checkout:1.5.0', 3), managedFields, read);
    expect(a.managers.map((m) => m.manager)).toEqual(['kubectl-set']);
    expect(a.unknown).toBe(true);
  });

  it('cannot attribute a change without knowing when the previous version was read, or without managedFields', () => {
    expect(attributeChange(deployment('a', 1), deployment('b', 1), managedFields, undefined).unknown).toBe(true);
    expect(attributeChange(deployment('a', 1), deployment('b', 1), undefined, read)).toEqual({ managers: [], unknown: true });
  });

  it('attributes a created object to every manager of a field it has, not to a status writer when status is not recorded', () => {
    const a = attributeChange(undefined, deployment('shop/checkout:1.5.0', 5), managedFields, undefined);
    expect(a.managers.map((m) => m.manager)).toEqual(['kubectl-client-side-apply', 'kubectl-set', 'kubectl']);
    // `kubectl create configmap` owns only data: the object's name and namespace being nobody's is not unknown.
    const created = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'shop' }, data: { x: '1' } };
    const byCreate = [{ manager: 'kubectl-create', operation: 'Update', time: '2026-12-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:x': {} } } }];
    expect(attributeChange(undefined, created, byCreate, undefined)).toEqual({ managers: [{ manager: 'kubectl-create', operation: 'Update', time: '2026-12-01T10:00:00Z' }], unknown: false });
  });

  it('matches list items by their keys (k:) and set items by value (v:)', () => {
    const fields = { 'f:spec': { 'f:finalizers': { 'v:"kubernetes"': {} }, 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:targetPort': {} } } } };
    expect(owns(fields, [{ key: 'spec' }, { key: 'finalizers' }, { item: 'kubernetes' }])).toBe(true);
    expect(owns(fields, [{ key: 'spec' }, { key: 'finalizers' }, { item: 'other' }])).toBe(false);
    expect(owns(fields, [{ key: 'spec' }, { key: 'ports' }, { item: { port: 80, protocol: 'TCP', targetPort: 8080 } }, { key: 'targetPort' }])).toBe(true);
    expect(owns(fields, [{ key: 'spec' }, { key: 'ports' }, { item: { port: 81, protocol: 'TCP' } }])).toBe(false);
    // An empty node owns the whole value below it (an atomic list or map).
    expect(owns({ 'f:spec': { 'f:args': {} } }, [{ key: 'spec' }, { key: 'args' }, { item: '--v=2' }])).toBe(true);
  });

  it('finds changes at the deepest point a manager can own', () => {
    const steps = changedLocations({ data: { a: '1', b: '2' }, list: [1, 2] }, { data: { a: '1', b: '3', c: '4' }, list: [2, 1] });
    expect(steps).toEqual([[{ key: 'data' }, { key: 'b' }], [{ key: 'data' }, { key: 'c' }], [{ key: 'list' }]]);
  });
});

describe('attribution in commit messages', () => {
  const known = { managers: [{ manager: 'kubectl-set', operation: 'Update', time: '2026-12-01T10:02:11Z' }], unknown: false };
  const odd = { managers: [{ manager: 'Mozilla/5.0 (X11, Linux)', operation: 'Apply', time: '2026-12-01T10:04:00Z' }], unknown: true };

  it('writes each path with its managers and counts objects per manager in a trailer', () => {
    const msg = commitMessage('prod', {
      added: ['core.v1.ConfigMap/shop/new.yaml'], changed: ['apps.v1.Deployment/shop/checkout.yaml'], deleted: ['core.v1.ConfigMap/shop/old.yaml'],
    }, [], new Map([['apps.v1.Deployment/shop/checkout.yaml', known], ['core.v1.ConfigMap/shop/new.yaml', odd]]));
    expect(msg).toContain('apps.v1.Deployment\n  ~ shop/checkout.yaml  (kubectl-set Update 2026-12-01T10:02:11Z)\n');
    expect(msg).toContain('  + shop/new.yaml  (Mozilla/5.0_X11_Linux_ Apply 2026-12-01T10:04:00Z, unknown)\n');
    expect(msg).toContain('  - shop/old.yaml  (unknown)\n');
    expect(msg).toMatch(/\nKubetrail-Managers: unknown=2, Mozilla\/5.0_X11_Linux_=1, kubectl-set=1\n$/);
    const back = attributionInMessage(msg);
    expect(back.get('apps.v1.Deployment/shop/checkout.yaml')).toEqual(known);
    expect(back.get('core.v1.ConfigMap/shop/old.yaml')).toEqual({ managers: [], unknown: true });
    expect(back.get('core.v1.ConfigMap/shop/new.yaml')?.managers[0].manager).toBe('Mozilla/5.0_X11_Linux_');
  });

  it('round-trips through its text form', () => {
    expect(parseAttribution(formatAttribution(known))).toEqual(known);
    expect(countManagers([known, known, { managers: [], unknown: true }])).toBe('kubectl-set=2, unknown=1');
  });

  it('leaves a message without attribution as it was', () => {
    const msg = commitMessage('prod', { added: ['core.v1.ConfigMap/a/x.yaml'], changed: [], deleted: [] }, []);
    expect(msg).not.toContain('Kubetrail-Managers');
    expect(attributionInMessage(msg).size).toBe(0);
  });
});
