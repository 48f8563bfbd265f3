// The user's side of issue 21's history queries: the real `kubetrail serve` (from the checkout this file is in, with
// the shipped memory flags) over a simulated year, asked sequentially over HTTP on localhost, one row per query.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listeningPort } from '../test/helpers/listening.ts';
import { summarize, type LatencySummary } from './percentile.ts';
import { NODE_FLAGS, shippedEnv } from './shipped.ts';
import { random } from './year-objects.ts';
import type { YearManifest, YearObjectRef } from './year-history.ts';

const root = join(import.meta.dirname, '..');
const TOKEN = 'bench-history-year-token';
const headers = { Authorization: `Bearer ${TOKEN}` };
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export interface Row { name: string; target: string; url: (pick: () => number) => string }
export interface RowResult { name: string; target: string; roundTrip: LatencySummary; server?: LatencySummary; bytes: LatencySummary; statuses: Record<string, number> }
export interface ServeResult {
  /** Process start → listening, and → the first `versions` answer (the hot Deployment). */
  startMs: { listening: number; firstQuery: number };
  rows: RowResult[];
  memory: { minutes: number; requests: number; samples: { atSeconds: number; rssMB: number }[]; rssMB: number; hwmMB: number };
}

const objectUrl = (o: YearObjectRef) => `/api/v1/clusters/${o.cluster}/objects/${o.type}/${o.namespace}/${o.name}`;
const pageUrl = (o: YearObjectRef) => `/ui/clusters/${o.cluster}/objects/${o.type}/${o.namespace}/${o.name}`;
const one = <T>(xs: T[], pick: () => number) => xs[Math.floor(pick() * xs.length)];

/** The measured queries; each picks its object, cluster, time or commit with the row's own seeded sequence. */
export function yearRows(m: YearManifest, commitIds: string[]): Row[] {
  const span = m.lastTime - m.firstTime;
  return [
    { name: '`versions` of a hot object', target: 'p99 ≤ 100 ms', url: (p) => `${objectUrl(one(m.hot, p))}/versions` },
    { name: '`versions` of a cold object', target: 'p99 ≤ 100 ms', url: (p) => `${objectUrl(one(m.cold, p))}/versions` },
    { name: '`changes?cluster=&since=<1 day before the last commit>`', target: 'p99 ≤ 100 ms',
      url: (p) => `/api/v1/changes?cluster=${one(m.clusters, p)}&since=${iso(m.lastTime - 86400)}` },
    { name: '`changes?cluster=&cursor=<any commit>` (a page)', target: 'p99 ≤ 150 ms',
      url: (p) => `/api/v1/changes?cluster=${one(m.clusters, p)}&cursor=${one(commitIds, p)}` },
    { name: 'object `?at=<ISO time in the year>`', target: 'p99 ≤ 30 ms',
      url: (p) => `${objectUrl(one(p() < 0.5 ? m.hot : m.cold, p))}?at=${iso(m.firstTime + Math.floor(p() * span))}` },
    // The same answer size at every history length (a hot object's `versions` holds 21 versions at 1k commits and
    // the limit, 100, at 100k; a day is ~1 commit of a cluster at 1k and ~27 at 100k): growth with the history alone.
    { name: '`versions?limit=20` of a hot object (20 versions at both sizes)', target: 'growth ≤ 2×', url: (p) => `${objectUrl(one(m.hot, p))}/versions?limit=20` },
    { name: '`changes?cluster=&limit=20` (the newest 20 commits at both sizes)', target: 'growth ≤ 2×',
      url: (p) => `/api/v1/changes?cluster=${one(m.clusters, p)}&limit=20` },
    { name: 'page `/ui/` (overview)', target: '≤ 300 ms server', url: () => '/ui/' },
    { name: 'page `/ui/…/objects/…` (hot object)', target: '≤ 300 ms server', url: (p) => pageUrl(one(m.hot, p)) },
    { name: 'page `/ui/…/objects/…` (cold object)', target: '≤ 300 ms server', url: (p) => pageUrl(one(m.cold, p)) },
  ];
}

async function get(base: string, path: string): Promise<{ ms: number; status: number; serverMs?: number; bytes: number }> {
  const started = performance.now();
  const r = await fetch(base + path, { headers, signal: AbortSignal.timeout(300_000) });
  const bytes = (await r.arrayBuffer()).byteLength;
  const ms = performance.now() - started;
  const server = r.headers.get('server-timing')?.match(/app;dur=([\d.]+)/)?.[1];
  return { ms, status: r.status, serverMs: server === undefined ? undefined : Number(server), bytes };
}

function memoryOf(pid: number): { rssMB: number; hwmMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rssMB: Math.round(kb('VmRSS') / 102.4) / 10, hwmMB: Math.round(kb('VmHWM') / 102.4) / 10 };
}

function startServe(gitdir: string, clusters: string[], workDir: string): { child: ChildProcess; port: Promise<number>; stop: () => Promise<void> } {
  const configFile = join(workDir, 'serve.yaml');
  writeFileSync(configFile, `repo: ${gitdir}\nbare: true\nclusters:\n${clusters.map((id) => `  - id: ${id}\n`).join('')}`);
  // As the container image runs it (bench/shipped.ts).
  const child = spawn(process.execPath, [...NODE_FLAGS, join(root, 'src/cli.ts'), 'serve', '--config', configFile, '--port', '0'], {
    env: { ...process.env, KUBETRAIL_API_TOKEN: TOKEN, ...shippedEnv() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const { port } = listeningPort(child);
  const stop = () => new Promise<void>((r) => { if (child.exitCode !== null) r(); else { child.once('exit', () => r()); child.kill('SIGTERM'); } });
  return { child, port, stop };
}

export interface ServeOptions { requests: number; rowSeconds: number; minutes: number; seed: number; log: (s: string) => void }

/** Starts `kubetrail serve` on the repository, measures each row, then mixed queries for `minutes`, and stops it. */
export async function measureServe(gitdir: string, workDir: string, m: YearManifest, commitIds: string[], o: ServeOptions): Promise<ServeResult> {
  shippedEnv(); // fills the compile cache on its first call: not part of the server's start
  const started = performance.now();
  const serve = startServe(gitdir, m.clusters, workDir);
  try {
    const base = `http://127.0.0.1:${await serve.port}`;
    const listening = performance.now() - started;
    const first = await get(base, `${objectUrl(m.hot[0])}/versions`);
    if (first.status !== 200) throw new Error(`first query answered ${first.status}`);
    const startMs = { listening: Math.round(listening), firstQuery: Math.round(performance.now() - started) };
    o.log(`serve: listening after ${startMs.listening} ms, first versions answer after ${startMs.firstQuery} ms`);

    const rows: RowResult[] = [];
    const all = yearRows(m, commitIds);
    for (const [i, row] of all.entries()) {
      const pick = random(o.seed + i);
      const times: number[] = [];
      const server: number[] = [];
      const bytes: number[] = [];
      const statuses: Record<string, number> = {};
      const rowStart = performance.now();
      // Every row gets `requests`, unless they take longer than rowSeconds (then at least 20): a slow row's p99 is then
      // its slowest request of fewer, which the table shows as n.
      while (times.length < o.requests && (times.length < 20 || performance.now() - rowStart < o.rowSeconds * 1000)) {
        const r = await get(base, row.url(pick));
        times.push(r.ms);
        if (r.serverMs !== undefined) server.push(r.serverMs);
        bytes.push(r.bytes);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
      const result = { name: row.name, target: row.target, roundTrip: summarize(times), server: server.length ? summarize(server) : undefined, bytes: summarize(bytes), statuses };
      o.log(`${row.name}: p50 ${result.roundTrip.p50.toFixed(1)} ms, p99 ${result.roundTrip.p99.toFixed(1)} ms (n ${times.length}; ${JSON.stringify(statuses)}; body p50 ${result.bytes.p50} B, max ${result.bytes.max} B)`);
      rows.push(result);
    }

    // Mixed queries (every row in turn, new picks) for `minutes`, RSS sampled every 30 s.
    const pid = serve.child.pid!;
    const pick = random(o.seed + 100);
    const samples: { atSeconds: number; rssMB: number }[] = [];
    const mixStart = performance.now();
    let requests = 0;
    let nextSample = 0;
    while (performance.now() - mixStart < o.minutes * 60_000) {
      const at = (performance.now() - mixStart) / 1000;
      if (at >= nextSample) { samples.push({ atSeconds: Math.round(at), rssMB: memoryOf(pid).rssMB }); nextSample += 30; }
      await get(base, all[requests % all.length].url(pick));
      requests++;
    }
    const end = memoryOf(pid);
    o.log(`serve after ${o.minutes} min of mixed queries (${requests} requests): RSS ${end.rssMB} MB, VmHWM ${end.hwmMB} MB`);
    return { startMs, rows, memory: { minutes: o.minutes, requests, samples, ...end } };
  } finally {
    await serve.stop();
  }
}
