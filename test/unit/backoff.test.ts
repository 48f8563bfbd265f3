import { describe, expect, it } from 'vitest';
import { startJitter } from '../../src/schedule/scheduler.ts';
import { backoffMs } from '../../src/store/remote.ts';

describe('push backoff after a lost race', () => {
  it('is a uniform pick below a cap that doubles per attempt up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffMs(n, 1))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffMs(3, 0)).toBe(0);
    expect(backoffMs(3, 0.5)).toBe(400);
  });

  it('spreads 32 writers of one tick: their waits after the first loss are not in step', () => {
    const waits = Array.from({ length: 32 }, () => backoffMs(1));
    expect(waits.every((w) => w >= 0 && w < 200)).toBe(true);
    expect(new Set(waits.map((w) => Math.floor(w / 20))).size).toBeGreaterThan(5);
  });
});

describe('start jitter', () => {
  it('waits a random share of the window and says it ran', async () => {
    const t = performance.now();
    expect(await startJitter(1, undefined, 0.2)).toBe(true);
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
    expect(performance.now() - t).toBeLessThan(900);
  });

  it('is skipped at 0 and cut short by a stop', async () => {
    expect(await startJitter(0)).toBe(true);
    const stop = new AbortController();
    const t = performance.now();
    const waiting = startJitter(60, stop.signal, 0.9);
    setTimeout(() => stop.abort(), 50);
    expect(await waiting).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
