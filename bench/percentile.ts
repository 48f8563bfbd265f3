// Pure: latency summaries for the benches (nearest-rank percentiles, as a reader of "p99 of 200 requests" expects:
// the 198th fastest, never an interpolated value no request took).

/** The nearest-rank `p`-th percentile (0 < p ≤ 100) of `values`; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

export interface LatencySummary { n: number; p50: number; p99: number; max: number }

export function summarize(values: number[]): LatencySummary {
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : NaN };
}

/** `b / a` to two places, or '' when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a && b && Number.isFinite(a) && Number.isFinite(b) ? (b / a).toFixed(2) : '';
}
