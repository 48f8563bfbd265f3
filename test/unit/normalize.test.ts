import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/snapshot/normalize.ts';
import { toYaml } from '../../src/snapshot/serialize.ts';

const deployment = {
  status: { replicas: 1 },
  spec: { template: { spec: { volumes: [{ emptyDir: {}, name: 'cache' }], containers: [{ image: 'nginx:1', name: 'web' }] } } },
  metadata: {
    resourceVersion: '123', generation: 4, managedFields: [{ manager: 'kubectl' }], selfLink: '/x',
    uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', namespace: 'ns', name: 'web', labels: { b: '2', a: '1' },
  },
  kind: 'Deployment',
  apiVersion: 'apps/v1',
};

// The same object with every map's keys in the opposite order, as another server might send it.
const reverseKeys = (v: unknown): unknown => Array.isArray(v) ? v.map(reverseKeys)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;

describe('normalize', () => {
  it('drops churn and status, keeps uid, creationTimestamp and meaningful empty maps', () => {
    const n = normalize(deployment, { keepStatus: false }) as any;
    expect(n.status).toBeUndefined();
    expect(n.metadata).toEqual({ name: 'web', namespace: 'ns', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: '1', b: '2' } });
    expect(n.spec.template.spec.volumes[0]).toEqual({ name: 'cache', emptyDir: {} });
    expect(deployment.metadata.resourceVersion).toBe('123'); // input untouched
  });

  it('keeps status when the policy says so', () => {
    expect((normalize(deployment, { keepStatus: true }) as any).status).toEqual({ replicas: 1 });
  });

  it('orders keys the Kubernetes way so field order from the server does not matter', () => {
    const yaml = toYaml(normalize(deployment, { keepStatus: false }));
    expect(yaml.split('\n').filter((l) => /^\S/.test(l))).toEqual(['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', 'spec:']);
    expect(yaml).toMatch(/- name: web\n\s+image: nginx:1/);
    const shuffled = reverseKeys(deployment) as typeof deployment;
    expect(toYaml(normalize(shuffled, { keepStatus: false }))).toBe(yaml);
    expect(yaml.endsWith('\n')).toBe(true);
    expect(yaml).toContain('emptyDir: {}');
  });

  it('keeps a key named __proto__ (valid in a ConfigMap) as data', () => {
    const cm = JSON.parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"__proto__":"x","a":"1"}}');
    expect(toYaml(normalize(cm, { keepStatus: false }))).toContain('data:\n  __proto__: x\n  a: "1"\n');
  });

  it('writes long and multi-line strings without folding or anchors', () => {
    const long = 'x'.repeat(300);
    const shared = { a: 1 };
    const yaml = toYaml(normalize({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { long, script: 'a\nb\n', one: shared as any, two: shared as any } }, { keepStatus: false }));
    expect(yaml).toContain(`long: ${long}\n`);
    expect(yaml).toContain('script: |\n    a\n    b\n');
    expect(yaml).not.toMatch(/[&*]a\d/);
  });
});
