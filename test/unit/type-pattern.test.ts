import { describe, expect, it } from 'vitest';
import { compileTypePattern, parseTypeName } from '../../src/model/type-name.ts';

const names = [
  'core.v1.Event', 'events.k8s.io.v1.Event', 'apps.v1.Deployment', 'apps.example.com.v1.Widget',
  'core.v1.Secret', 'cert-manager.io.v1.Certificate', 'networking.k8s.io.v1.Ingress', 'k8s.io.v1.Odd',
];
const matched = (pattern: string) => {
  const p = compileTypePattern(pattern);
  return names.filter((n) => p.matches(parseTypeName(n)!));
};

describe('type patterns', () => {
  it('parses type names from the right, since groups contain dots', () => {
    expect(parseTypeName('cert-manager.io.v1.Certificate')).toEqual({ group: 'cert-manager.io', version: 'v1', kind: 'Certificate' });
    expect(parseTypeName('core.v1.Pod')).toEqual({ group: 'core', version: 'v1', kind: 'Pod' });
  });

  it('*.Event matches Event of every group, and nothing else', () => {
    expect(matched('*.Event')).toEqual(['core.v1.Event', 'events.k8s.io.v1.Event']);
  });

  it('apps.* matches the apps group only, not groups that merely start with "apps."', () => {
    expect(matched('apps.*')).toEqual(['apps.v1.Deployment']);
  });

  it('*.k8s.io.* matches groups ending in .k8s.io, not the bare k8s.io group', () => {
    expect(matched('*.k8s.io.*')).toEqual(['events.k8s.io.v1.Event', 'networking.k8s.io.v1.Ingress']);
  });

  it('exact names and dotted groups', () => {
    expect(matched('core.v1.Secret')).toEqual(['core.v1.Secret']);
    expect(matched('cert-manager.io.*')).toEqual(['cert-manager.io.v1.Certificate']);
    expect(matched('Secret')).toEqual(['core.v1.Secret']);
    expect(matched('*')).toEqual(names);
    expect(matched('*.v1.{Secret,Event}')).toEqual(['core.v1.Event', 'events.k8s.io.v1.Event', 'core.v1.Secret']);
  });

  it('names the core group "core", as the API calls it ""', () => {
    expect(compileTypePattern('core.v1.*').matches({ group: '', version: 'v1', kind: 'Pod' })).toBe(true);
    expect(compileTypePattern('apps.*').matches({ group: '', version: 'v1', kind: 'Pod' })).toBe(false);
  });

  it('rejects patterns that cannot be what the user meant, saying why', () => {
    expect(() => compileTypePattern('apps/v1')).toThrow(/character "\/"/);
    expect(() => compileTypePattern('apps.[v1')).toThrow(/unclosed "\["/);
    expect(() => compileTypePattern('apps..v1')).toThrow(/empty segment/);
    expect(() => compileTypePattern('')).toThrow(/invalid type pattern/);
  });
});
