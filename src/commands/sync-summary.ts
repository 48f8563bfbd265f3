// What `kubetrail sync` prints without --json: one line per cluster, a table of the types that changed.
import type { SyncResult } from '../sync/result.ts';

const pad = (s: string | number, n: number) => String(s).padEnd(n);

export function printSummary(results: SyncResult[]): void {
  for (const r of results) {
    const commit = r.commit ? r.commit.slice(0, 10) : r.dryRun ? '(dry run)' : '(no change)';
    console.log(`${r.clusterId}: ${r.status}  +${r.added} ~${r.changed} -${r.deleted}  =${r.unchanged}  ${commit}  ${r.durationMs} ms`);
    if (r.error) console.log(`  error: ${r.error}`);
    for (const f of r.failedTypes) console.log(`  failed: ${f.type}: ${f.reason}`);
    const rows = Object.entries(r.types).filter(([, c]) => c.added + c.changed + c.deleted > 0);
    if (rows.length) {
      console.log(`  ${pad('TYPE', 56)} ${pad('OBJECTS', 8)} ${pad('+', 6)} ${pad('~', 6)} -`);
      for (const [type, c] of rows) console.log(`  ${pad(type, 56)} ${pad(c.objects, 8)} ${pad(c.added, 6)} ${pad(c.changed, 6)} ${c.deleted}`);
    }
    if (r.dryRun) {
      for (const [mark, list] of [['+', r.changes.added], ['~', r.changes.changed], ['-', r.changes.deleted]] as const) {
        for (const p of list) console.log(`  ${mark} ${p}`);
      }
    }
  }
}
