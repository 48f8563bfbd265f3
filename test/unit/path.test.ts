import { describe, expect, it } from 'vitest';
import {
  fileNameFor, isGitReserved, isPlainSegment, namespaceDirFor, objectPath, parseObjectPath, pathInCluster,
} from '../../src/model/object-path.ts';

// Names an aggregated API (or a hostile one) may report; none may leave its directory or upset git.
const HOSTILE = [
  '', '.', '..', '...', '/', 'a/b', '../../etc/passwd', '/abs', 'a\0b', '\0', 'a\\b', '..\\..\\x', 'tab\tname', 'nl\nname',
  'del\x7f', '.git', '.GIT', '.Git', '.git.', '.git ', '.git. . ', '.git:x', '.git::$INDEX_ALLOCATION', 'git~1', 'GIT~1',
  '.g\u200cit', '\ufeff.git', '.gitmodules', '.GitModules', 'gitmod~1', 'gi7eba~9', '.gitattributes', 'gitatt~2',
  '.gitignore', 'gi250a~1', '.mailmap', 'maba30~3', '_cluster', 'é'.repeat(200), 'a'.repeat(300), '~', 'x~1',
];

const segments = (path: string) => path.split('/');

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

  it('keeps valid Kubernetes names as they are', () => {
    for (const name of ['a', 'web-1', 'kube-root-ca.crt', 'a.b.c', 'x'.repeat(63), 'system:controller:foo', 'system:kube-scheduler',
      '1leading-digit', 'UPPER', 'with space', 'percent%20', 'q?', 'at@x', 'ends.', 'git', 'gitmodules', 'x.git', 'my.github.io']) {
      expect(fileNameFor(name), name).toBe(`${name}.yaml`);
    }
    for (const ns of ['default', 'kube-system', 'a', 'x'.repeat(63)]) expect(namespaceDirFor(ns)).toBe(ns);
    expect(namespaceDirFor(undefined)).toBe('_cluster');
    expect(namespaceDirFor('')).toBe('_cluster');
  });

  it('shortens names that cannot be file names with a stable hash', () => {
    const long = 'a'.repeat(300);
    const f = fileNameFor(long);
    expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255);
    expect(f).toBe(fileNameFor(long));
    expect(f).not.toBe(fileNameFor('a'.repeat(299) + 'b'));
    expect(fileNameFor('é'.repeat(200))).toMatch(/~[0-9a-f]{16}\.yaml$/);
    expect(Buffer.byteLength(fileNameFor('é'.repeat(200)))).toBeLessThanOrEqual(255);
  });

  it('encodes every hostile name, namespace and combination into plain segments under the cluster directory', () => {
    for (const name of HOSTILE) {
      for (const ns of [...HOSTILE, undefined]) {
        const path = objectPath('c', 'evil.example.com.v1.Thing', ns, name);
        const parts = segments(path);
        expect(parts, JSON.stringify([ns, name])).toHaveLength(5);
        expect(parts.slice(0, 3)).toEqual(['clusters', 'c', 'evil.example.com.v1.Thing']);
        for (const p of parts) expect(isPlainSegment(p), JSON.stringify([ns, name, p])).toBe(true);
        expect(parts[4].endsWith('.yaml')).toBe(true);
        if (ns) expect(parts[3], JSON.stringify(ns)).not.toBe('_cluster'); // never mixed with cluster-scoped objects
      }
    }
  });

  it('keeps distinct hostile names distinct, and the same name on the same path', () => {
    const files = HOSTILE.filter((n) => n !== '').map(fileNameFor);
    expect(new Set(files).size).toBe(files.length);
    const dirs = HOSTILE.filter((n) => n !== '').map(namespaceDirFor);
    expect(new Set(dirs).size).toBe(dirs.length);
    for (const n of HOSTILE) expect(fileNameFor(n)).toBe(fileNameFor(n));
    expect(fileNameFor('..')).toMatch(/^_\.~[0-9a-f]{16}\.yaml$/);
    expect(fileNameFor('.git')).toMatch(/^_git~[0-9a-f]{16}\.yaml$/);
    expect(fileNameFor('a/b')).toMatch(/^a_b~[0-9a-f]{16}\.yaml$/);
    expect(namespaceDirFor('.git')).toMatch(/^_git~[0-9a-f]{16}$/);
    expect(namespaceDirFor('_cluster')).toMatch(/^_cluster~[0-9a-f]{16}$/);
  });

  it('knows the names git refuses, in their disguises', () => {
    for (const s of ['.git', '.GIT', '.git.', '.git  ', '.git:stream', 'GIT~1', '.g\u200cit', '.gitmodules', '.gitmodules . ',
      'GITMOD~1', 'gi7eba~1', '.gitattributes', '.gitignore', '.mailmap', 'MABA30~1']) {
      expect(isGitReserved(s), s).toBe(true);
    }
    for (const s of ['git', 'x.git', 'agit~1', 'git~5', '_git~0123', 'gitmodules']) expect(isGitReserved(s), s).toBe(false);
    expect(isGitReserved('.github')).toBe(true); // broad on purpose: DNS names never start with a dot
  });

  it('refuses a type name that is not a plain directory name', () => {
    for (const t of ['..', '.git', 'a/b', '', 'x\0y']) expect(() => pathInCluster(t, 'ns', 'n'), t).toThrow(/cannot be a directory name/);
  });
});
