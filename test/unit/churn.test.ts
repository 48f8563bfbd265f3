import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/history/churn.ts';

describe('parseSince', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it.each([
    ['90s', '2026-12-01T11:58:30.000Z'], ['30m', '2026-12-01T11:30:00.000Z'], ['24h', '2026-11-30T12:00:00.000Z'],
    ['7d', '2026-11-24T12:00:00.000Z'], ['2026-11-01T00:00:00Z', '2026-11-01T00:00:00.000Z'],
  ])('%s', (text, iso) => expect(parseSince(text, now)?.toISOString()).toBe(iso));
  it.each(['yesterday', '24', 'h', '1w', '12:00'])('refuses %j', (text) => expect(parseSince(text, now)).toBeUndefined());
});
