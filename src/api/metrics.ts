// Prometheus text metrics: syncs per cluster (from sync events) and HTTP requests (from the API middleware).
import type { SyncResult } from '../sync/result.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram { buckets: number[]; sum: number; count: number }

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;

export class Metrics {
  private readonly syncs = new Map<string, { last: SyncResult; runs: number; failures: number; changes: Record<string, number> }>();
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();

  recordSync(r: SyncResult): void {
    if (r.dryRun) return;
    const s = this.syncs.get(r.clusterId) ?? { last: r, runs: 0, failures: 0, changes: { added: 0, changed: 0, deleted: 0 } };
    s.last = r;
    s.runs++;
    if (r.status === 'failed' || r.status === 'refused') s.failures++;
    if (r.commit) {
      s.changes.added += r.added;
      s.changes.changed += r.changed;
      s.changes.deleted += r.deleted;
    }
    this.syncs.set(r.clusterId, s);
  }

  recordRequest(method: string, route: string, status: number, seconds: number): void {
    const key = JSON.stringify([method, route, String(status)]);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hKey = JSON.stringify([method, route]);
    const h = this.latency.get(hKey) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => { if (seconds <= b) h.buckets[i]++; });
    h.sum += seconds;
    h.count++;
    this.latency.set(hKey, h);
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    metric('kubetrail_sync_duration_seconds', 'gauge', 'Duration of the last sync of a cluster.');
    for (const [c, s] of this.syncs) out.push(`kubetrail_sync_duration_seconds${labels({ cluster: c })} ${s.last.durationMs / 1000}`);
    metric('kubetrail_objects', 'gauge', 'Objects recorded for a cluster by the last sync.');
    for (const [c, s] of this.syncs) out.push(`kubetrail_objects${labels({ cluster: c })} ${s.last.added + s.last.changed + s.last.unchanged}`);
    metric('kubetrail_syncs_total', 'counter', 'Syncs run per cluster.');
    for (const [c, s] of this.syncs) out.push(`kubetrail_syncs_total${labels({ cluster: c })} ${s.runs}`);
    metric('kubetrail_sync_failures_total', 'counter', 'Syncs that failed or were refused.');
    for (const [c, s] of this.syncs) out.push(`kubetrail_sync_failures_total${labels({ cluster: c })} ${s.failures}`);
    metric('kubetrail_changes_total', 'counter', 'Objects changed in committed syncs.');
    for (const [c, s] of this.syncs) for (const [k, v] of Object.entries(s.changes)) out.push(`kubetrail_changes_total${labels({ cluster: c, kind: k })} ${v}`);
    metric('kubetrail_last_sync_partial', 'gauge', '1 when the last sync could not list some types.');
    for (const [c, s] of this.syncs) out.push(`kubetrail_last_sync_partial${labels({ cluster: c })} ${s.last.status === 'partial' ? 1 : 0}`);
    metric('kubetrail_http_requests_total', 'counter', 'HTTP requests by route and status.');
    for (const [k, v] of this.requests) {
      const [method, route, status] = JSON.parse(k) as string[];
      out.push(`kubetrail_http_requests_total${labels({ method, route, status })} ${v}`);
    }
    metric('kubetrail_http_request_duration_seconds', 'histogram', 'HTTP request latency.');
    for (const [k, h] of this.latency) {
      const [method, route] = JSON.parse(k) as string[];
      BUCKETS.forEach((b, i) => out.push(`kubetrail_http_request_duration_seconds_bucket${labels({ method, route, le: String(b) })} ${h.buckets[i]}`));
      out.push(`kubetrail_http_request_duration_seconds_bucket${labels({ method, route, le: '+Inf' })} ${h.count}`);
      out.push(`kubetrail_http_request_duration_seconds_sum${labels({ method, route })} ${h.sum}`);
      out.push(`kubetrail_http_request_duration_seconds_count${labels({ method, route })} ${h.count}`);
    }
    return `${out.join('\n')}\n`;
  }
}
