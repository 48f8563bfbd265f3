// The exit code a CronJob sees: an error wins, then a mass deletion held for review (4), then a partial sync (3).
import { describe, expect, it } from 'vitest';
import type { SyncResult } from '../../src/sync/result.ts';
import { exitCodeFor } from '../../src/sync/run.ts';

const result = (status: SyncResult['status'], o: Partial<SyncResult> = {}): SyncResult => ({
  clusterId: 'c', status, dryRun: false, added: 0, changed: 0, deleted: 0, unchanged: 0, blobsWritten: 0, failedTypes: [],
  types: {}, durationMs: 0, changes: { added: [], changed: [], deleted: [] }, ...o,
});
const held = { massDeletion: { deleted: 8, recorded: 10, maxDeletePercent: 50 } };

describe('exitCodeFor', () => {
  it('0 complete, 3 partial, 4 a held mass deletion, 1 failed / refused / push or PR error', () => {
    expect(exitCodeFor([result('complete')])).toBe(0);
    expect(exitCodeFor([result('complete'), result('partial')])).toBe(3);
    expect(exitCodeFor([result('partial'), result('complete', held)])).toBe(4);
    expect(exitCodeFor([result('refused', held)])).toBe(1); // without pull requests it is refused, as before
    expect(exitCodeFor([result('complete', held), result('failed')])).toBe(1);
    expect(exitCodeFor([result('complete', held)], 'c: pull request: forge API unreachable')).toBe(1);
  });
});
