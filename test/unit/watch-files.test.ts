// The pure parts of watch mode: a watch body split into events, and how a list or an event changes the files.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCOVERY } from '../../src/config/validate.ts';
import type { ResourceType } from '../../src/model/resource-type.ts';
import { dropScope, fileMap, keptPath, objectPathOf, replaceScope, scopePrefix, unchangedEntry, type WatchedFiles } from '../../src/watch/files.ts';
import { backoffMs } from '../../src/watch/scope-watch.ts';
import { LineSplitter, parseWatchEvent } from '../../src/watch/stream.ts';

const cm: ResourceType = { name: 'core.v1.ConfigMap', group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, listPath: '/api/v1/configmaps' };
const files = (entries: [string, string][]): WatchedFiles => new Map(entries.map(([p, oid]) => [p, { oid }]));

describe('LineSplitter', () => {
  it('hands over complete lines only, across chunk borders, and the rest at the end', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(s.push(Buffer.from(':2}\n\n{"c'))).toEqual(['{"b":2}']);
    expect(s.push(Buffer.from('":3}'))).toEqual([]);
    expect(s.end()).toEqual(['{"c":3}']);
    expect(s.end()).toEqual([]);
  });

  it('keeps a multi-byte character split between chunks whole', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('{"n":"é"}\n');
    expect([...s.push(bytes.subarray(0, 7)), ...s.push(bytes.subarray(7))]).toEqual(['{"n":"é"}']);
  });
});

describe('parseWatchEvent', () => {
  it('parses an event and refuses what is not one, naming the type', () => {
    expect(parseWatchEvent('{"type":"ADDED","object":{"metadata":{"name":"a"}}}', 'core.v1.ConfigMap').type).toBe('ADDED');
    expect(() => parseWatchEvent('{"type":', 'core.v1.ConfigMap')).toThrow(/watch of core.v1.ConfigMap: invalid JSON/);
    expect(() => parseWatchEvent('{"type":"ADDED"}', 'core.v1.ConfigMap')).toThrow(/without type or object/);
  });
});

describe('replaceScope (a relist)', () => {
  it('sets what is listed and deletes only the scope\'s objects that are no longer listed', () => {
    const f = files([['core.v1.ConfigMap/a/x.yaml', '1'], ['core.v1.ConfigMap/a/gone.yaml', '2'], ['core.v1.ConfigMap/b/y.yaml', '3'], ['core.v1.Secret/a/s.yaml', '4']]);
    const changed = replaceScope(f, scopePrefix(cm, 'a'), new Map([['core.v1.ConfigMap/a/x.yaml', { oid: '1' }], ['core.v1.ConfigMap/a/new.yaml', { oid: '5' }]]));
    expect(changed).toBe(2); // gone deleted, new added; x unchanged
    expect(fileMap(f)).toEqual(new Map([['core.v1.ConfigMap/a/x.yaml', '1'], ['core.v1.ConfigMap/b/y.yaml', '3'], ['core.v1.Secret/a/s.yaml', '4'], ['core.v1.ConfigMap/a/new.yaml', '5']]));
  });

  it('a list that finds the same objects changes nothing', () => {
    const f = files([['core.v1.ConfigMap/a/x.yaml', '1']]);
    expect(replaceScope(f, scopePrefix(cm, undefined), new Map([['core.v1.ConfigMap/a/x.yaml', { oid: '1', resourceVersion: '9' }]]))).toBe(0);
    expect(f.get('core.v1.ConfigMap/a/x.yaml')).toEqual({ oid: '1', resourceVersion: '9' });
  });

  it('scopes do not overlap: a type whose name starts like another\'s keeps its files', () => {
    const f = files([['core.v1.ConfigMap/a/x.yaml', '1'], ['core.v1.ConfigMapX/a/x.yaml', '2']]);
    expect(dropScope(f, scopePrefix(cm, undefined))).toBe(1);
    expect([...f.keys()]).toEqual(['core.v1.ConfigMapX/a/x.yaml']);
  });
});

describe('keptPath', () => {
  const settings = { ...DEFAULT_DISCOVERY, namespaces: ['a'] };
  it('is the sync\'s path for an object the sync records, undefined for one it leaves out', () => {
    expect(keptPath(cm, { metadata: { name: 'x', namespace: 'a' } }, settings)).toBe('core.v1.ConfigMap/a/x.yaml');
    expect(keptPath(cm, { metadata: { name: 'x', namespace: 'b' } }, settings)).toBeUndefined();
    expect(keptPath(cm, { metadata: { namespace: 'a' } }, settings)).toBeUndefined();
    expect(keptPath(cm, { metadata: { name: 'x', namespace: 'a', ownerReferences: [{ controller: true }] } } as never, settings)).toBeUndefined();
    expect(keptPath(cm, { metadata: { name: 'x', namespace: 'a' } }, settings, () => true)).toBeUndefined();
    expect(objectPathOf(cm, { metadata: { name: 'x', namespace: 'b' } })).toBe('core.v1.ConfigMap/b/x.yaml');
  });
});

describe('unchangedEntry and backoff', () => {
  it('reuses an entry only for the resourceVersion it was rendered from', () => {
    const f: WatchedFiles = new Map([['p', { oid: '1', resourceVersion: '7' }], ['q', { oid: '2' }]]);
    expect(unchangedEntry(f, 'p', '7')).toEqual({ oid: '1', resourceVersion: '7' });
    expect(unchangedEntry(f, 'p', '8')).toBeUndefined();
    expect(unchangedEntry(f, 'q', undefined)).toBeUndefined();
  });
  it('backs off from 0.5 s doubling to 30 s', () => {
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([500, 1000, 2000, 30_000]);
  });
});
