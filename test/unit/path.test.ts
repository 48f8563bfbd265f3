import { describe, expect, it } from 'vitest';
import { fileNameFor, objectPath, parseObjectPath } from '../../src/snapshot/path.ts';

describe('object paths', () => {
  it('lays out namespaced and cluster-scoped objects', () => {
    expect(objectPath('prod', 'apps.v1.Deployment', 'web', 'api')).toBe('clusters/prod/apps.v1.Deployment/web/api.yaml');
    expect(objectPath('prod', 'rbac.authorization.k8s.io.v1.ClusterRole', undefined, 'system:controller:foo'))
      .toBe('clusters/prod/rbac.authorization.k8s.io.v1.ClusterRole/_cluster/system:controller:foo.yaml');
  });

  it('parses paths back from the right', () => {
    expect(parseObjectPath('clusters/prod/cert-manager.io.v1.Certificate/_cluster/x.yaml'))
      .toEqual({ clusterId: 'prod', type: 'cert-manager.io.v1.Certificate', namespace: undefined, file: 'x.yaml' });
    expect(parseObjectPath('clusters/prod/x.yaml')).toBeUndefined();
  });

  it('shortens names that cannot be file names with a stable hash', () => {
    const long = 'a'.repeat(300);
    const f = fileNameFor(long);
    expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255);
    expect(f).toBe(fileNameFor(long));
    expect(f).not.toBe(fileNameFor('a'.repeat(299) + 'b'));
    expect(fileNameFor('..')).toMatch(/^\.\.~[0-9a-f]{16}\.yaml$/);
    expect(fileNameFor('é'.repeat(200))).toMatch(/~[0-9a-f]{16}\.yaml$/);
    expect(Buffer.byteLength(fileNameFor('é'.repeat(200)))).toBeLessThanOrEqual(255);
  });
});
