// Prometheus metrics with prom-client: syncs per cluster (from sync events), HTTP requests (from the API middleware),
// and the process itself (RSS, heap spaces, GC pauses, event-loop lag: collectDefaultMetrics; GC pauses under Node
// only, Deno reports no GC performance entries).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncResult } from '../sync/result.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// One per process: collectDefaultMetrics installs observers that live as long as the process.
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly registry = new Registry();
  private readonly process = processMetrics();
  private readonly r = { registers: [this.registry] };
  private readonly duration = new Gauge({ name: 'kubetrail_sync_duration_seconds', help: 'Duration of the last sync of a cluster.', labelNames: ['cluster'], ...this.r });
  private readonly objects = new Gauge({ name: 'kubetrail_objects', help: 'Objects recorded for a cluster by its last sync that completed (a failed or refused sync keeps the value).', labelNames: ['cluster'], ...this.r });
  private readonly lastSuccess = new Gauge({ name: 'kubetrail_last_success_timestamp_seconds', help: 'Unix time of the last sync of a cluster that completed (complete or partial).', labelNames: ['cluster'], ...this.r });
  private readonly syncs = new Counter({ name: 'kubetrail_syncs_total', help: 'Syncs run per cluster.', labelNames: ['cluster'], ...this.r });
  private readonly failures = new Counter({ name: 'kubetrail_sync_failures_total', help: 'Syncs that failed or were refused.', labelNames: ['cluster'], ...this.r });
  private readonly changes = new Counter({ name: 'kubetrail_changes_total', help: 'Objects changed in committed syncs.', labelNames: ['cluster', 'kind'], ...this.r });
  private readonly partial = new Gauge({ name: 'kubetrail_last_sync_partial', help: '1 when the last sync could not list some types.', labelNames: ['cluster'], ...this.r });
  private readonly requests = new Counter({ name: 'kubetrail_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], ...this.r });
  private readonly latency = new Histogram({ name: 'kubetrail_http_request_duration_seconds', help: 'HTTP request latency.', labelNames: ['method', 'route'], buckets: BUCKETS, ...this.r });

  recordSync(r: SyncResult, now = Date.now()): void {
    if (r.dryRun) return;
    const cluster = { cluster: r.clusterId };
    this.duration.set(cluster, r.durationMs / 1000);
    this.syncs.inc(cluster);
    const failed = r.status === 'failed' || r.status === 'refused';
    this.failures.inc(cluster, failed ? 1 : 0);
    this.partial.set(cluster, r.status === 'partial' ? 1 : 0);
    for (const kind of ['added', 'changed', 'deleted'] as const) this.changes.inc({ ...cluster, kind }, r.commit ? r[kind] : 0);
    if (failed) return; // what is recorded did not change: the last known counts and success time stay
    this.objects.set(cluster, r.added + r.changed + r.unchanged);
    this.lastSuccess.set(cluster, Math.floor(now / 1000));
  }

  recordRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  async render(): Promise<string> {
    return `${await this.registry.metrics()}\n${await this.process.metrics()}`;
  }
}
