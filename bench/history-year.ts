// Issue 21's bench: a simulated year of history (bench/year-history.ts) at 1k and 100k commits side by side, the
// history queries through the real `kubetrail serve` of this checkout, native `git log` with and without kubetrail's
// commit-graph, and the repository's size. Prints a markdown table and writes bench/results/history-year-<date>[-label].json.
// Usage: node bench/history-year.ts [--commits 100000] [--small 1000] [--minutes 10] [--requests 200] [--label before]
// [--skip-gc: use `git gc --aggressive`'s size only when cached]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ratio, type LatencySummary } from './percentile.ts';
import { ensureYearHistory, yearDir, type YearManifest } from './year-history.ts';
import { ensureCommitGraph, ensureHistoryIndex, gcAggressiveSize, nativeLog, repoSize, syncsOnTop, type AfterSyncs, type NativeLog, type RepoSize } from './year-repo.ts';
import { measureServe, type ServeResult } from './year-serve.ts';

const { values } = parseArgs({
  options: {
    commits: { type: 'string', default: '100000' }, small: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '10' }, requests: { type: 'string', default: '200' },
    'row-seconds': { type: 'string', default: '120' }, label: { type: 'string' }, 'skip-gc': { type: 'boolean', default: false },
    syncs: { type: 'string', default: '5' },
  },
});
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const sizes = [...new Set([Number(values.small), Number(values.commits)])].sort((a, b) => a - b);

interface SizeResult {
  commits: number; manifest: Omit<YearManifest, 'hot' | 'cold'> & { hot: number; cold: number }; commitGraphMs?: number; keptAtStart: string[];
  serve: ServeResult; native: NativeLog[]; size: RepoSize; gcAggressive?: RepoSize & { ms: number }; afterSyncs: AfterSyncs;
}
const results: SizeResult[] = [];
for (const commits of sizes) {
  log(`year-${commits}: history`);
  const { gitdir, manifest } = await ensureYearHistory(commits, { log });
  const commitGraphMs = await ensureCommitGraph(gitdir);
  if (commitGraphMs !== undefined) log(`year-${commits}: kubetrail's commit-graph of the whole history ${commitGraphMs} ms`);
  const historyIndexMs = await ensureHistoryIndex(gitdir);
  if (historyIndexMs !== undefined) log(`year-${commits}: kubetrail's history index of the whole history ${historyIndexMs} ms`);
  const commitIds = execFileSync('git', ['--git-dir', gitdir, 'rev-list', 'main'], { encoding: 'utf8', maxBuffer: 1 << 30 }).trim().split('\n');
  // What kubetrail keeps of its own in the repository when serve starts (an index left by an earlier run is used as a
  // persisted one would be; delete <gitdir>/kubetrail to measure a start without it).
  const own = join(gitdir, 'kubetrail');
  const kept = existsSync(own) ? readdirSync(own, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => `${join(e.parentPath, e.name).slice(own.length + 1)} ${statSync(join(e.parentPath, e.name)).size} B`) : [];
  log(`year-${commits}: <gitdir>/kubetrail at start: ${kept.join(', ') || 'none'}`);
  const serve = await measureServe(gitdir, yearDir(commits), manifest, commitIds, {
    requests: Number(values.requests), rowSeconds: Number(values['row-seconds']), minutes: Number(values.minutes), seed: 21, log,
  });
  log(`year-${commits}: native git log`);
  const native = nativeLog(gitdir, manifest, commits >= 50_000 ? 1 : 3);
  const size = repoSize(gitdir);
  const gcAggressive = gcAggressiveSize(gitdir, yearDir(commits), log, { cachedOnly: values['skip-gc'] });
  log(`year-${commits}: ${values.syncs} syncs on top`);
  const afterSyncs = await syncsOnTop(gitdir, yearDir(commits), Number(values.syncs), 10);
  const { hot, cold, ...rest } = manifest;
  results.push({ commits, manifest: { ...rest, hot: hot.length, cold: cold.length }, commitGraphMs, keptAtStart: kept, serve, native, size, gcAggressive, afterSyncs });
}

// The table: one column pair per size, and the growth from the smallest to the largest.
const [a, b] = [results[0], results[results.length - 1]];
const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en'));
const pair = (s: LatencySummary | undefined) => (s ? `${f(s.p50)} / ${f(s.p99)}` : '');
const head = `| query | target | ${results.map((r) => `${r.commits.toLocaleString('en')} commits: p50 / p99 ms (server p50 / p99)`).join(' | ')} | p99 ${b.commits / 1000}k / ${a.commits / 1000}k |`;
const lines = [head, `|${'---|'.repeat(3 + results.length)}`];
a.serve.rows.forEach((row, i) => {
  const cells = results.map((r) => { const x = r.serve.rows[i]; return `${pair(x.roundTrip)}${x.server ? ` (${pair(x.server)})` : ''}${x.roundTrip.n < Number(values.requests) ? `, n ${x.roundTrip.n}` : ''}`; });
  lines.push(`| ${row.name} | ${row.target} | ${cells.join(' | ')} | ${ratio(row.roundTrip.p99, b.serve.rows[i].roundTrip.p99)} |`);
});
lines.push(`| serve: start → listening / first \`versions\` answered | first ≤ 2,000 ms | ${results.map((r) => `${f(r.serve.startMs.listening)} / ${f(r.serve.startMs.firstQuery)}`).join(' | ')} | ${ratio(a.serve.startMs.firstQuery, b.serve.startMs.firstQuery)} |`);
lines.push(`| serve: RSS / VmHWM after ${values.minutes} min of mixed queries (MB) | ≤ 250 MB | ${results.map((r) => `${r.serve.memory.rssMB} / ${r.serve.memory.hwmMB} (${r.serve.memory.requests} requests)`).join(' | ')} | ${ratio(a.serve.memory.rssMB, b.serve.memory.rssMB)} |`);
a.native.forEach((q, i) => {
  lines.push(`| \`${q.query.replace(/ -- .*\/([^/]+)$/, ' -- …/$1')}\`: without / with commit-graph (ms) | | ${results.map((r) => `${f(r.native[i].withoutMs)} / ${f(r.native[i].withMs)} (${r.native[i].lines} lines${r.native[i].identical ? '' : ', OUTPUT DIFFERS'})`).join(' | ')} | ${ratio(q.withMs, b.native[i].withMs)} |`);
});
const sizeCell = (s: RepoSize) => `${s.totalMB} MB: packs ${s.packMB} (${s.packs}), idx ${s.idxMB}, info ${s.infoMB}, other ${s.otherPackMB}, loose ${s.loose}`;
lines.push(`| repository (objects/) | | ${results.map((r) => sizeCell(r.size)).join(' | ')} | |`);
lines.push(`| the same after \`git gc --aggressive\` | | ${results.map((r) => (r.gcAggressive ? `${sizeCell(r.gcAggressive)}; ${f(r.gcAggressive.ms / 1000)} s` : 'not run')).join(' | ')} | |`);
lines.push(`| after ${values.syncs} syncs on top (10 changed each): packs, loose; commit / housekeeping ms (max) | packs ≤ 20 | ${results.map((r) => `${r.afterSyncs.size.packs} packs, ${r.afterSyncs.size.loose} loose; ${Math.max(...r.afterSyncs.commitMs)} / ${Math.max(...r.afterSyncs.housekeepingMs)} ms; fsck ${r.afterSyncs.fsck}`).join(' | ')} | |`);
lines.push(`| making the history: fast-import / kubetrail's commit-graph (s) | | ${results.map((r) => `${f(r.manifest.generation.fastImportMs / 1000)} / ${r.commitGraphMs === undefined ? 'cached' : f(r.commitGraphMs / 1000)}`).join(' | ')} | |`);
const table = lines.join('\n');
console.log(table);
for (const r of results) if (r.afterSyncs.size.packs > 20) console.log(`\nNOTE: ${r.commits} commits: ${r.afterSyncs.size.packs} packs after ${values.syncs} syncs on top (> 20)`);

const day = new Date().toISOString().slice(0, 10);
const file = join(import.meta.dirname, 'results', `history-year-${day}${values.label ? `-${values.label}` : ''}.json`);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
let load = '';
try { load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(); } catch { /* not Linux */ }
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), label: values.label, node: process.version, cpus: cpus().length, loadavg: load, options: values, table, results }, null, 1));
log(`written ${file}`);
