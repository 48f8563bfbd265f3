// /metrics after a good and then a failed sync: the last known object count and success time stay; process metrics are there.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/api/metrics.ts';
import type { SyncResult } from '../../src/sync/result.ts';

const result = (status: SyncResult['status'], o: Partial<SyncResult> = {}): SyncResult => ({
  clusterId: 'prod', status, dryRun: false, added: 0, changed: 0, deleted: 0, unchanged: 0, blobsWritten: 0, failedTypes: [],
  types: {}, durationMs: 1500, changes: { added: [], changed: [], deleted: [] }, ...o,
});
const value = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1];

describe('Metrics', () => {
  it('keeps kubetrail_objects and the last success time across a failed and a refused sync', async () => {
    const m = new Metrics();
    const good = Date.UTC(2026, 11, 1, 10, 0, 0);
    m.recordSync(result('complete', { added: 40, changed: 2, unchanged: 58, commit: 'c' }), good);
    m.recordSync(result('failed', { error: 'cannot reach' }), good + 60_000);
    m.recordSync(result('refused', { deleted: 90 }), good + 120_000);
    const text = await m.render();
    expect(value(text, 'kubetrail_objects{cluster="prod"}')).toBe('100');
    expect(value(text, 'kubetrail_last_success_timestamp_seconds{cluster="prod"}')).toBe(String(good / 1000));
    expect(value(text, 'kubetrail_syncs_total{cluster="prod"}')).toBe('3');
    expect(value(text, 'kubetrail_sync_failures_total{cluster="prod"}')).toBe('2');
    expect(value(text, 'kubetrail_changes_total{cluster="prod",kind="added"}')).toBe('40');
    m.recordSync(result('partial', { unchanged: 97, failedTypes: [{ type: 'x.v1.Y', reason: '403' }] }), good + 180_000);
    const later = await m.render();
    expect(value(later, 'kubetrail_objects{cluster="prod"}')).toBe('97');
    expect(value(later, 'kubetrail_last_success_timestamp_seconds{cluster="prod"}')).toBe(String(good / 1000 + 180));
    expect(value(later, 'kubetrail_last_sync_partial{cluster="prod"}')).toBe('1');
  });

  it('dry runs are not counted', async () => {
    const m = new Metrics();
    m.recordSync(result('complete', { dryRun: true, added: 5 }));
    expect(await m.render()).not.toMatch(/^kubetrail_syncs_total\{/m);
  });

  it('exposes process memory, heap and GC metrics', async () => {
    const text = await new Metrics().render();
    expect(Number(value(text, 'process_resident_memory_bytes'))).toBeGreaterThan(1e6);
    expect(Number(value(text, 'nodejs_heap_size_used_bytes'))).toBeGreaterThan(1e6);
    expect(text).toMatch(/^nodejs_heap_space_size_used_bytes\{space="old"\} \d+/m);
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('records HTTP requests by route', async () => {
    const m = new Metrics();
    m.recordRequest('GET', '/healthz', 200, 0.002);
    const text = await m.render();
    expect(value(text, 'kubetrail_http_requests_total{method="GET",route="/healthz",status="200"}')).toBe('1');
    expect(value(text, 'kubetrail_http_request_duration_seconds_count{method="GET",route="/healthz"}')).toBe('1');
  });
});
