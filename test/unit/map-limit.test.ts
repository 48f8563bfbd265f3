import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/util/map-limit.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps at most `limit` jobs in flight and the results in input order', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
      most = Math.max(most, ++running);
      await sleep(20 - i);
      running--;
      return i * 2;
    });
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(most).toBe(3);
  });

  it('starts no job after one failed, and rejects with that failure', async () => {
    const started: number[] = [];
    const run = mapLimit(Array.from({ length: 100 }, (_, i) => i), 4, async (i) => {
      started.push(i);
      await sleep(i === 1 ? 2 : 10); // the failure comes while the others are still running
      if (i === 1) throw new Error('403 from GET');
      return i;
    });
    await expect(run).rejects.toThrow('403 from GET');
    await sleep(50); // jobs in flight finish; none may start
    expect(started).toEqual([0, 1, 2, 3]);
  });
});
