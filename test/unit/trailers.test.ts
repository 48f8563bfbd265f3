import { describe, expect, it } from 'vitest';
import { clusterOfCommit, formatTrailers } from '../../src/model/trailers.ts';
import { commitMessage } from '../../src/sync/result.ts';

describe('commit trailers', () => {
  it('what sync writes is what replay and history read back', () => {
    const msg = commitMessage('prod-eu', { added: ['core.v1.ConfigMap/a/x.yaml'], changed: [], deleted: [] }, []);
    expect(clusterOfCommit(msg)).toBe('prod-eu');
  });

  it("a person's commit has no cluster", () => {
    expect(clusterOfCommit('notes beside the clusters\n\nSigned-off-by: P <p@x>\n')).toBeUndefined();
  });

  it('lists failed types, or none', () => {
    expect(formatTrailers({ cluster: 'c', added: 1, changed: 2, deleted: 3, failedTypes: [] })).toBe(
      'Kubetrail-Cluster: c\nKubetrail-Added: 1\nKubetrail-Changed: 2\nKubetrail-Deleted: 3\nKubetrail-Failed-Types: none');
  });
});
