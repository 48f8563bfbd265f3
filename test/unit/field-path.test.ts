import { describe, expect, it } from 'vitest';
import { parseFieldPath, REMOVE, updateAt } from '../../src/snapshot/field-path.ts';

const remove = (obj: unknown, path: string) => updateAt(obj, parseFieldPath(path), () => REMOVE);
const mark = (obj: unknown, path: string) => updateAt(obj, parseFieldPath(path), (v) => `<${JSON.stringify(v)}>`);

const pod = {
  metadata: { name: 'p', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{"holder":"a"}', 'a.b/keep': 'x', 'autoscaling.alpha.kubernetes.io/conditions': '[]' } },
  spec: {
    containers: [
      { name: 'app', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'LOG_LEVEL', value: 'info' }, { name: 'api_token', value: 't' }] },
      { name: 'sidecar', env: [{ name: 'SSH_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
    ],
  },
};

describe('parseFieldPath', () => {
  it('reads dotted names, quoted keys, *, indexes and field=GLOB filters', () => {
    expect(parseFieldPath('metadata.annotations["a.b/c"]').segments.map((s) => s.kind)).toEqual(['key', 'key', 'key']);
    expect(parseFieldPath('spec.containers[*].env[name="*PASSWORD*|*TOKEN*"].value').segments.map((s) => s.kind))
      .toEqual(['key', 'key', 'any', 'key', 'where', 'key']);
    expect(parseFieldPath('data.*').segments.map((s) => s.kind)).toEqual(['key', 'any']);
    expect(parseFieldPath('spec.containers[0].image').segments[2]).toEqual({ kind: 'index', index: 0 });
    expect(parseFieldPath('spec.containers[name=web]').segments[2]).toMatchObject({ kind: 'where', field: 'name', source: 'web' });
    expect(parseFieldPath('["weird key\\"x"]').segments[0]).toMatchObject({ kind: 'key', source: 'weird key"x' });
  });

  it.each([
    ['', /empty path/],
    ['metadata..name', /expected a field name.*at character 10/],
    ['metadata.annotations["unclosed', /expected a closing quote/],
    ['a[name=x', /expected "\]"/],
    ['a[=x]', /expected "key", \*, a number or field=GLOB/],
    ['a[name=]', /empty value for name=/],
    ['a b', /expected "\." or "\["/],
    ['metadata.annotations[x/y]', /expected "="/],
  ])('rejects %j, saying where', (path, message) => {
    expect(() => parseFieldPath(path)).toThrow(message);
  });
});

describe('updateAt', () => {
  it('removes a bracketed annotation key and leaves the rest, without changing the input', () => {
    const before = JSON.stringify(pod);
    const out = remove(pod, 'metadata.annotations["control-plane.alpha.kubernetes.io/leader"]') as typeof pod;
    expect(Object.keys(out.metadata.annotations)).toEqual(['a.b/keep', 'autoscaling.alpha.kubernetes.io/conditions']);
    expect(JSON.stringify(pod)).toBe(before);
    expect(out.spec).toBe(pod.spec); // untouched parts are shared
  });

  it('globs inside a quoted key', () => {
    const out = remove(pod, 'metadata.annotations["autoscaling.alpha.kubernetes.io/*"]') as typeof pod;
    expect(Object.keys(out.metadata.annotations)).toEqual(['control-plane.alpha.kubernetes.io/leader', 'a.b/keep']);
  });

  it('reaches list items by a field, ignoring case, with alternatives', () => {
    const out = mark(pod, 'spec.containers[*].env[name="*PASSWORD*|*TOKEN*|*_KEY"].value') as typeof pod;
    expect(out.spec.containers[0].env).toEqual([
      { name: 'DB_PASSWORD', value: '<"hunter2">' }, { name: 'LOG_LEVEL', value: 'info' }, { name: 'api_token', value: '<"t">' }]);
    expect(out.spec.containers[1]).toBe(pod.spec.containers[1]); // SSH_KEY has no value: nothing reached
  });

  it('removes list items and map entries, by name and by index', () => {
    expect((remove(pod, 'spec.containers[name=sidecar]') as typeof pod).spec.containers.map((c) => c.name)).toEqual(['app']);
    expect((remove(pod, 'spec.containers[0].env[1]') as typeof pod).spec.containers[0].env.map((e) => e.name)).toEqual(['DB_PASSWORD', 'api_token']);
    expect(remove({ data: { a: '1', b: '2' } }, 'data.*')).toEqual({ data: {} });
  });

  it('gives back the very same value when the path reaches nothing', () => {
    for (const p of ['spec.template.metadata.creationTimestamp', 'metadata.name.x', 'spec.containers.name', 'metadata[0]', 'spec.containers[7]']) {
      expect(remove(pod, p)).toBe(pod);
    }
  });

  it('replaces a whole map value (a redacted Helm values block)', () => {
    expect(mark({ spec: { values: { a: { b: 1 } } } }, 'spec.values')).toEqual({ spec: { values: '<{"a":{"b":1}}>' } });
  });

  it('keeps a key named __proto__ as a key', () => {
    const obj = JSON.parse('{"data":{"__proto__":"x","y":"1"}}');
    const out = mark(obj, 'data["__proto__"]') as { data: Record<string, unknown> };
    expect(Object.hasOwn(out.data, '__proto__')).toBe(true);
    expect(out.data.__proto__).toBe('<"x">');
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
  });
});
