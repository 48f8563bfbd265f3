// The watch bench's verdicts (bench/watch-check.ts): a commit holding a value the object did not have in its
// window, a missing object, or a write no commit reached must be found, or "0 mismatches" means nothing.
import { describe, expect, it } from 'vitest';
import { checkWindows, latencies, quantile, slope, type SeenCommit, type Write } from '../../bench/watch-check.ts';

const initial = new Map([['a', 0], ['b', 0]]);
// a: r1 sent at 100, acknowledged 110; r3 sent 2,000, acknowledged 2,010. b: r2 sent 500, acknowledged 520.
const writes: Write[] = [
  { name: 'a', seq: 1, sentMs: 100, ackMs: 110 },
  { name: 'b', seq: 2, sentMs: 500, ackMs: 520 },
  { name: 'a', seq: 3, sentMs: 2000, ackMs: 2010 },
];
const commit = (sha: string, atMs: number, a: number | undefined, b: number | undefined): SeenCommit =>
  ({ sha, atMs, values: new Map([['a', a], ['b', b]].filter(([, v]) => v !== undefined) as Array<[string, number]>) });

describe('checkWindows', () => {
  it('accepts commits whose values were each held within their window', () => {
    const commits = [commit('c0', 0, 0, 0), commit('c1', 1000, 1, 2), commit('c2', 3000, 3, 2)];
    expect(checkWindows(initial, writes, commits)).toEqual([]);
  });

  it('accepts a value replaced within the window (the commit caught it before the next write)', () => {
    // c2's window is 1,000-3,000: a held r1 until 2,010.
    expect(checkWindows(initial, writes, [commit('c0', 0, 0, 0), commit('c1', 1000, 1, 2), commit('c2', 3000, 1, 2)])).toEqual([]);
  });

  it('finds a stale value: replaced (acknowledged) before the window began', () => {
    const found = checkWindows(initial, writes, [commit('c0', 0, 0, 0), commit('c1', 1000, 1, 2), commit('c2', 3000, 3, 2), commit('c3', 5000, 1, 2)]);
    expect(found).toEqual([{ sha: 'c3', name: 'a', recorded: 1, reason: expect.stringMatching(/^stale/) }]);
  });

  it('finds a value from the future, a value never written, a missing and an unknown object', () => {
    const extra = commit('c1', 1000, 3, 7);
    extra.values.set('z', 1);
    const lacking = commit('c2', 1500, undefined, 2);
    const found = checkWindows(initial, writes, [commit('c0', 0, 0, 0), extra, lacking]);
    expect(found.map((m) => [m.sha, m.name, m.reason])).toEqual([
      ['c1', 'a', 'written only after the commit appeared'],
      ['c1', 'b', 'a value never written'],
      ['c1', 'z', 'an object never created'],
      ['c2', 'a', 'missing'],
    ]);
  });
});

describe('latencies', () => {
  it('measures from acknowledgement to the first commit holding that value or a later one, and finds lost writes', () => {
    const commits = [commit('c0', 0, 0, 0), commit('c1', 1000, 1, 0), commit('c2', 3000, 3, 0)];
    const { ms, lost } = latencies(writes, commits);
    expect(ms).toEqual([890, 990]);
    expect(lost.map((w) => w.seq)).toEqual([2]); // b's write reached no commit
  });

  it('counts a write replaced within its window by the commit of its successor', () => {
    const { ms, lost } = latencies(writes, [commit('c0', 0, 0, 0), commit('c1', 3000, 3, 2)]);
    expect(ms).toEqual([2890, 2480, 990]);
    expect(lost).toEqual([]);
  });

  it('does not count the initial commit', () => {
    expect(latencies([writes[0]], [commit('c0', 200, 1, 0)]).lost).toHaveLength(1);
  });
});

describe('quantile and slope', () => {
  it('takes the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect([quantile(xs, 0.5), quantile(xs, 0.99), quantile(xs, 1)]).toEqual([50, 99, 100]);
  });
  it('fits a line', () => {
    expect(slope([{ x: 0, y: 150 }, { x: 1, y: 152 }, { x: 2, y: 154 }])).toBeCloseTo(2);
    expect(slope([{ x: 0, y: 150 }, { x: 1, y: 150 }])).toBe(0);
  });
});
