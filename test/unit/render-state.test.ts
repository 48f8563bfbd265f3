import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../src/sync/render-state.ts';

const header = { cluster: 'a', fingerprint: 'f'.repeat(64), subtree: '1'.repeat(40) };
const oid = (i: number) => i.toString(16).padStart(40, '0');
const entries: [string, string][] = [['core.v1.ConfigMap/u2/7', oid(2)], ['apps.v1.Deployment/u1/9', oid(1)], ['core.v1.ConfigMap/u1/8', oid(3)]];

describe('render state', () => {
  it('round-trips, sorted and grouped by type, the same text for the same entries in any order', () => {
    const text = encodeState(header, entries, 'k');
    expect(text).toBe(encodeState(header, [...entries].reverse(), 'k'));
    expect(text.split('\n').slice(3)).toEqual(['= apps.v1.Deployment', `u1/9 ${oid(1)}`, '= core.v1.ConfigMap', `u1/8 ${oid(3)}`, `u2/7 ${oid(2)}`, '']);
    const decoded = decodeState(text, header, 'k');
    expect('entries' in decoded && [...decoded.entries].sort()).toEqual([...entries].sort());
  });

  it('leaves out what it cannot write on one line', () => {
    const text = encodeState(header, [...entries, ['core.v1.ConfigMap/u 3/1', oid(4)], ['core.v1.ConfigMap/u4/1\n', oid(5)], ['x', oid(6)], ['T/u/1', 'not-an-oid']], 'k');
    const decoded = decodeState(text, header, 'k');
    expect('entries' in decoded && decoded.entries.size).toBe(3);
  });

  it('is ignored for another cluster, other settings, another subtree, another key, any edit', () => {
    const text = encodeState(header, entries, 'k');
    const why = (t: string, h = header, key = 'k') => {
      const d = decodeState(t, h, key);
      return 'ignored' in d ? d.ignored : 'used';
    };
    expect(why(text, { ...header, cluster: 'b' })).toMatch(/cluster "a"/);
    expect(why(text, { ...header, fingerprint: 'e'.repeat(64) })).toMatch(/settings/);
    expect(why(text, { ...header, subtree: '2'.repeat(40) })).toMatch(/another tree/);
    expect(why(text, header, 'other key')).toMatch(/digest/);
    expect(why(text.replace(`u2/7 ${oid(2)}`, `u2/8 ${oid(2)}`))).toMatch(/digest/);
    expect(why(text.replace('"entries":3', '"entries":2'))).toMatch(/digest/);
    expect(why('garbage')).toMatch(/format/);
    expect(why(text.replace('kubetrail-render-state 1', 'kubetrail-render-state 2'))).toMatch(/format/);
    expect(why(text)).toBe('used');
  });
});
