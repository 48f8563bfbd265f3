import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderCache } from '../../src/sync/render-cache.ts';

const settings = { keepStatus: [], hmac: 'x' };
const saved = (dir: string) => JSON.parse(readFileSync(join(dir, 'kubetrail', 'render-cache-c.json'), 'utf8')).entries;

describe('render cache', () => {
  it('remembers what a run saw, drops what it did not, and is not rewritten when nothing changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-cache-'));
    const first = new RenderCache(dir, 'c', settings);
    for (const [k, oid] of [['a', '1'], ['b', '2'], ['c', '3']]) first.set(RenderCache.key('T', k, '7'), oid);
    first.set(RenderCache.key('T', 'no-version', ''), '9'); // no resourceVersion: never cached
    first.close();
    expect(saved(dir)).toEqual([['T/a/7', '1'], ['T/b/7', '2'], ['T/c/7', '3']]);

    const same = new RenderCache(dir, 'c', settings);
    expect(same.get('T/b/7')).toBe('2');
    for (const [k, oid] of [['a', '1'], ['b', '2'], ['c', '3']]) same.set(`T/${k}/7`, oid);
    const before = statSync(join(dir, 'kubetrail', 'render-cache-c.json')).mtimeMs;
    same.close();
    expect(statSync(join(dir, 'kubetrail', 'render-cache-c.json')).mtimeMs).toBe(before);

    const next = new RenderCache(dir, 'c', settings);
    next.set('T/a/7', '1'); // unchanged
    next.set('T/b/8', '4'); // a new resourceVersion
    next.close(); // c was not seen: deleted
    expect(saved(dir).sort()).toEqual([['T/a/7', '1'], ['T/b/8', '4']]);

    expect(new RenderCache(dir, 'c', { ...settings, hmac: 'other' }).get('T/a/7')).toBeUndefined(); // other settings
  });
});

describe('render cache on disk', () => {
  it('saves many entries (written in chunks) as one JSON document the next run reads back whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-cache-'));
    const cache = new RenderCache(dir, 'c', settings);
    const entries = Array.from({ length: 5000 }, (_, i) => [RenderCache.key('apps.v1.Deployment', `uid-"${i}"-é`, String(1000 + i))!, `oid${i}`] as const);
    for (const [key, oid] of entries) cache.set(key, oid);
    cache.close();
    expect(saved(dir)).toEqual(entries); // valid JSON, every entry, in order
    const next = new RenderCache(dir, 'c', settings);
    expect(next.size).toBe(5000);
    expect(next.get(entries[4321][0])).toBe('oid4321');
  });
});
