import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, partsFor } from '../../src/sync/render-state.ts';
import { stateRefUpdate, type StateFiles } from '../../src/store/state-ref.ts';

const header = { cluster: 'a', fingerprint: 'f'.repeat(64), subtree: '1'.repeat(40) };
const oid = (i: number) => i.toString(16).padStart(40, '0');
const entries: [string, string][] = [['core.v1.ConfigMap/u2/7', oid(2)], ['apps.v1.Deployment/u1/9', oid(1)], ['core.v1.ConfigMap/u1/8', oid(3)]];
const uid = (i: number) => `${i.toString(16).padStart(8, '0')}-1111-2222-3333-444455556666`;
const many = (n: number, rv = (i: number) => i + 1): [string, string][] =>
  Array.from({ length: n }, (_, i) => [`${i % 3 ? 'core.v1.ConfigMap' : 'core.v1.Secret'}/${uid(i)}/${rv(i)}`, oid(i)]);
const entriesOf = (s: StateFiles) => {
  const d = decodeState(s, header, 'k');
  if ('ignored' in d) throw new Error(d.ignored);
  return d.entries;
};

describe('render state', () => {
  it('round-trips, sorted and grouped by type, the same files for the same entries in any order', () => {
    const state = encodeState(header, entries, 'k');
    expect(state).toEqual(encodeState(header, [...entries].reverse(), 'k'));
    expect(state.parts).toEqual(['= apps.v1.Deployment\nu1/9 ' + oid(1) + '\n= core.v1.ConfigMap\nu1/8 ' + oid(3) + '\nu2/7 ' + oid(2) + '\n']);
    expect([...entriesOf(state)].sort()).toEqual([...entries].sort());
  });

  it('spreads a large state over parts by uid: a changed resourceVersion replaces only its own part', () => {
    const before = encodeState(header, many(11_000), 'k');
    expect(before.parts).toHaveLength(partsFor(11_000));
    expect(before.parts).toHaveLength(256);
    expect(Math.max(...before.parts.map((p) => p.length))).toBeLessThan(20 * 1024); // ~85 bytes × ~43 entries
    expect(new Map(entriesOf(before))).toEqual(new Map(many(11_000)));
    const changed = new Set([5, 700, 9_999]);
    const after = encodeState(header, many(11_000, (i) => changed.has(i) ? i + 100_000 : i + 1), 'k');
    const replaced = after.parts.filter((p, i) => p !== before.parts[i]);
    expect(replaced.length).toBeGreaterThanOrEqual(1);
    expect(replaced.length).toBeLessThanOrEqual(changed.size);
    expect(after.head).not.toBe(before.head); // the digest covers the parts
    expect(entriesOf(after).get(`core.v1.ConfigMap/${uid(700)}/100700`)).toBe(oid(700));
    expect(partsFor(0)).toBe(1);
    expect(partsFor(64)).toBe(1);
    expect(partsFor(65)).toBe(2);
    expect(partsFor(1e6)).toBe(256);
  });

  it('leaves out what it cannot write on one line', () => {
    const state = encodeState(header, [...entries, ['core.v1.ConfigMap/u 3/1', oid(4)], ['core.v1.ConfigMap/u4/1\n', oid(5)], ['x', oid(6)], ['T/u/1', 'not-an-oid']], 'k');
    expect(entriesOf(state).size).toBe(3);
  });

  it('is ignored for another cluster, other settings, another subtree, another key, any edit, a missing part', () => {
    const state = encodeState(header, many(200), 'k');
    expect(state.parts).toHaveLength(4);
    const why = (s: StateFiles, h = header, key = 'k') => {
      const d = decodeState(s, h, key);
      return 'ignored' in d ? d.ignored : 'used';
    };
    const editPart = (i: number, f: (p: string) => string) => ({ ...state, parts: state.parts.map((p, j) => j === i ? f(p) : p) });
    expect(why(state, { ...header, cluster: 'b' })).toMatch(/cluster "a"/);
    expect(why(state, { ...header, fingerprint: 'e'.repeat(64) })).toMatch(/settings/);
    expect(why(state, { ...header, subtree: '2'.repeat(40) })).toMatch(/another tree/);
    expect(why(state, header, 'other key')).toMatch(/digest/);
    expect(why(editPart(2, (p) => p.replace(/ [0-9a-f]{40}\n/, ` ${oid(999)}\n`)))).toMatch(/digest/);
    expect(why(editPart(0, (p) => p + `${uid(999)}/1 ${oid(1)}\n`))).toMatch(/digest/);
    expect(why({ ...state, parts: [state.parts[1], state.parts[0], ...state.parts.slice(2)] })).toMatch(/digest/);
    expect(why({ ...state, parts: state.parts.slice(1) })).toMatch(/part count/);
    expect(why({ ...state, head: state.head.replace('"entries":200', '"entries":199') })).toMatch(/digest/);
    expect(why({ head: 'garbage', parts: [] })).toMatch(/format/);
    expect(why({ ...state, head: state.head.replace('kubetrail-render-state 2', 'kubetrail-render-state 1') })).toMatch(/format/);
    expect(why(state)).toBe('used');
  });
});

describe('state ref update', () => {
  const u = { clusterId: 'a', ref: 'refs/kubetrail/state/a', commit: 'c'.repeat(40), tree: 't'.repeat(40), last: { commit: 'b'.repeat(40), tree: 's'.repeat(40) } };
  it('sends only what differs from the last state while the remote still has it, else everything', () => {
    expect(stateRefUpdate(u, u.last.commit).commits).toEqual([{ oid: u.commit, tree: u.tree, parentTree: u.last.tree }]);
    expect(stateRefUpdate(u, 'e'.repeat(40)).commits[0].parentTree).toBeUndefined(); // replaced by someone else
    expect(stateRefUpdate(u, undefined).commits[0].parentTree).toBeUndefined(); // gone (a remote recreated empty)
    expect(stateRefUpdate({ ...u, last: undefined }, u.last.commit).commits[0].parentTree).toBeUndefined();
  });
});
