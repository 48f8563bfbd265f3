import { describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/history/diff.ts';

const deployment = (image: string, replicas: number, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' } },
  spec: { replicas, template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'web', image }], ...extra } } },
});

describe('diffObjects', () => {
  it('reports an image change and a scale at their paths', () => {
    expect(diffObjects(deployment('nginx:1.27', 2), deployment('nginx:1.28', 3))).toEqual({
      added: [], removed: [],
      updated: [
        { path: 'spec.replicas', from: 2, to: 3 },
        { path: 'spec.template.spec.containers[1].image', from: 'nginx:1.27', to: 'nginx:1.28' },
      ],
    });
  });

  it('matches named list items by name, so reordering is not a change', () => {
    const a = deployment('x', 1);
    const b = deployment('x', 1);
    b.spec.template.spec.containers.reverse();
    expect(diffObjects(a, b)).toEqual({ added: [], removed: [], updated: [] });
  });

  it('reports added and removed keys and list items with their values', () => {
    const a = { data: { a: '1', b: '2' }, args: ['--x'], containers: [{ name: 'a' }] };
    const b = { data: { a: '1', c: '3' }, args: ['--x', '--y'], containers: [{ name: 'b', image: 'i' }] };
    expect(diffObjects(a, b)).toEqual({
      added: [{ path: 'data.c', value: '3' }, { path: 'args[1]', value: '--y' }, { path: 'containers[0]', value: { name: 'b', image: 'i' } }],
      removed: [{ path: 'data.b', value: '2' }, { path: 'containers[0]', value: { name: 'a' } }],
      updated: [],
    });
  });

  it('quotes keys that are not identifiers', () => {
    const a = { metadata: { labels: { 'app.kubernetes.io/name': 'a' } } };
    const b = { metadata: { labels: { 'app.kubernetes.io/name': 'b' } } };
    expect(diffObjects(a, b).updated).toEqual([{ path: 'metadata.labels["app.kubernetes.io/name"]', from: 'a', to: 'b' }]);
  });

  it('shows a created or deleted object as its top-level fields added or removed', () => {
    expect(diffObjects(undefined, { a: 1, b: { c: 2 } })).toEqual({ added: [{ path: 'a', value: 1 }, { path: 'b', value: { c: 2 } }], removed: [], updated: [] });
    expect(diffObjects({ a: 1 }, undefined)).toEqual({ added: [], removed: [{ path: 'a', value: 1 }], updated: [] });
    expect(diffObjects({ a: 1 }, { a: { b: 1 } }).updated).toEqual([{ path: 'a', from: 1, to: { b: 1 } }]);
  });

  it('sees data keys named like Object.prototype members (constructor, toString, __proto__, hasOwnProperty)', () => {
    const keys = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    const withKeys = JSON.parse(`{"data": {${keys.map((k) => `"${k}": "v-${k}"`).join(', ')}}}`); // JSON.parse keeps __proto__ as a key
    const diff = diffObjects({ data: {} }, withKeys);
    expect(diff.added.map((a) => a.path).sort()).toEqual(keys.map((k) => `data.${k}`).sort());
    expect(diff.added.find((a) => a.path === 'data.__proto__')?.value).toBe('v-__proto__');
    expect(diffObjects(withKeys, { data: {} }).removed.map((r) => r.path).sort()).toEqual(keys.map((k) => `data.${k}`).sort());
    expect(diffObjects(undefined, JSON.parse('{"constructor": {"a": 1}}')).added).toEqual([{ path: 'constructor', value: { a: 1 } }]);
    const changed = JSON.parse('{"data": {"constructor": "b", "__proto__": "y"}}');
    expect(diffObjects(JSON.parse('{"data": {"constructor": "a", "__proto__": "x"}}'), changed).updated).toEqual([
      { path: 'data.constructor', from: 'a', to: 'b' }, { path: 'data.__proto__', from: 'x', to: 'y' }]);
  });
});
