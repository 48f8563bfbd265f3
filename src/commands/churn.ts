// `kubetrail churn`: the objects and field paths that changed most often, printed for a person or as JSON.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.ts';
import { churn, parseSince, type ChurnReport } from '../history/churn.ts';
import { History } from '../history/queries.ts';
import { GitReader } from '../history/reader.ts';
import { Repo } from '../store/repo.ts';

export interface ChurnOptions { clusterId?: string; since?: string; json?: boolean }

/** Throws an Error a person can act on (no repository, a bad --since); the caller turns it into an exit code. */
export async function runChurn(config: Config, o: ChurnOptions): Promise<number> {
  const since = o.since === undefined ? undefined : parseSince(o.since);
  if (o.since !== undefined && !since) throw new Error(`--since must be a duration (30m, 24h, 7d) or an ISO time, got "${o.since}"`);
  // Repo.open creates a missing repository: churn only reads, so it refuses one that is not there.
  if (!existsSync(join(config.repo, '.git', 'HEAD')) && !existsSync(join(config.repo, 'HEAD'))) {
    throw new Error(`no repository at ${config.repo} (give --repo DIR or --config FILE)`);
  }
  const repo = await Repo.open(config.repo, { bare: config.bare, branch: config.branch });
  const report = await churn(new History(new GitReader(repo)), { clusterId: o.clusterId, since, limit: o.json ? 100 : 20 });
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else print(report);
  return 0;
}

function print(r: ChurnReport): void {
  const scope = `${r.clusterId ? `cluster ${r.clusterId}` : 'all clusters'}${r.since ? ` since ${r.since}` : ''}`;
  console.log(`${r.commits} commit(s) with changes, ${scope}`);
  if (r.objects.length === 0) return;
  console.log('\nObjects changed most often (commits, then the fields that changed):');
  for (const o of r.objects) {
    console.log(`  ${String(o.changes).padStart(5)}  ${o.path}`);
    for (const f of o.fields.slice(0, 5)) console.log(`  ${''.padStart(5)}    ${String(f.changes).padStart(5)}  ${f.path}`);
  }
  console.log('\nField paths changed most often, by type (ignoreFields takes these paths):');
  for (const f of r.fields) console.log(`  ${String(f.changes).padStart(5)}  ${f.type}  ${f.path}  (${f.objects} object${f.objects === 1 ? '' : 's'})`);
}
