import { describe, expect, it } from 'vitest';
import { commitMessage, compareFiles, LISTED_PATHS } from '../../src/sync/result.ts';

describe('compareFiles', () => {
  it('sorts paths into added, changed, deleted and counts unchanged', () => {
    const before = new Map([['a', '1'], ['b', '2'], ['c', '3']]);
    const after = new Map([['a', '1'], ['b', '9'], ['d', '4']]);
    expect(compareFiles(before, after)).toEqual({ added: ['d'], changed: ['b'], deleted: ['c'], unchanged: 1 });
  });
});

describe('commitMessage', () => {
  it('has a countable subject, paths grouped by type and trailers', () => {
    const msg = commitMessage('prod', {
      added: ['core.v1.ConfigMap/ns/new.yaml'], changed: ['apps.v1.Deployment/ns/web.yaml'], deleted: ['core.v1.ConfigMap/ns/old.yaml'],
    }, ['batch.v1.Job']);
    expect(msg.split('\n')[0]).toBe('prod: +1 ~1 -1');
    expect(msg).toContain('apps.v1.Deployment\n  ~ ns/web.yaml');
    expect(msg).toContain('core.v1.ConfigMap\n  + ns/new.yaml\n  - ns/old.yaml');
    expect(msg).toMatch(/Kubetrail-Cluster: prod\nKubetrail-Added: 1\nKubetrail-Changed: 1\nKubetrail-Deleted: 1\nKubetrail-Failed-Types: batch.v1.Job\n$/);
  });

  it('lists at most LISTED_PATHS paths', () => {
    const added = Array.from({ length: LISTED_PATHS + 20 }, (_, i) => `core.v1.ConfigMap/ns/c${String(i).padStart(3, '0')}.yaml`);
    const msg = commitMessage('prod', { added, changed: [], deleted: [] }, []);
    expect(msg.match(/^ {2}\+ /gm)).toHaveLength(LISTED_PATHS);
    expect(msg).toContain('… and 20 more');
  });
});
