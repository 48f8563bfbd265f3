import { describe, expect, it } from 'vitest';
import { compareStates } from '../../src/drift/compare.ts';

const cm = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\ndata:\n  a: "1"\n  level: ${value}\n`;

describe('compareStates', () => {
  it('reports nothing when the texts are equal', () => {
    expect(compareStates(new Map([['core.v1.ConfigMap/ns/c.yaml', cm('info')]]), new Map([['core.v1.ConfigMap/ns/c.yaml', cm('info')]]))).toEqual([]);
  });

  it('gives a changed object as a unified diff naming the field, and the field-level diff', () => {
    const [d] = compareStates(new Map([['core.v1.ConfigMap/ns/c.yaml', cm('info')]]), new Map([['core.v1.ConfigMap/ns/c.yaml', cm('debug')]]));
    expect(d).toMatchObject({ path: 'core.v1.ConfigMap/ns/c.yaml', type: 'core.v1.ConfigMap', namespace: 'ns', name: 'c', kind: 'changed',
      diff: { added: [], removed: [], updated: [{ path: 'data.level', from: 'info', to: 'debug' }] } });
    expect(d.unified).toBe([
      'diff -u -N recorded/core.v1.ConfigMap/ns/c.yaml live/core.v1.ConfigMap/ns/c.yaml',
      '--- recorded/core.v1.ConfigMap/ns/c.yaml', '+++ live/core.v1.ConfigMap/ns/c.yaml',
      '@@ -5,4 +5,4 @@', '   namespace: ns', ' data:', '   a: "1"', '-  level: info', '+  level: debug', ''].join('\n'));
  });

  it('shows an object gone live as deleted and a new one as added, against /dev/null', () => {
    const out = compareStates(new Map([['core.v1.ConfigMap/ns/old.yaml', cm('x')]]), new Map([['core.v1.Namespace/_cluster/n.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n']]));
    expect(out.map((d) => [d.path, d.kind, d.name, d.namespace])).toEqual([
      ['core.v1.ConfigMap/ns/old.yaml', 'deleted', 'c', 'ns'], ['core.v1.Namespace/_cluster/n.yaml', 'added', 'n', undefined]]);
    expect(out[0].unified).toContain('+++ /dev/null');
    expect(out[1].unified).toContain('--- /dev/null');
    expect(out[1].diff.added.map((a) => a.path)).toEqual(['apiVersion', 'kind', 'metadata']);
  });
});
