// node bench/watch.ts [--objects 50000] [--minutes 30] [--churn-rate 20] [--rate 50] [--seconds 60]
//   [--churn-objects 1000] [--commit-interval 10] [--only latency|memory] [--watch-node-flags=...]
// `kubetrail watch` as a process against the project's own kube-apiserver (issue 19):
//   latency and loss: `rate` changes/s for `seconds` across `churn-objects` ConfigMaps; every acknowledged write is
//     logged with its time, every commit with the time it appeared (the watch's stdout line), and each commit's
//     recorded values are checked against the log (watch-check.ts); after churn the watch stops and its cluster
//     subtree must be the very tree id a fresh `kubetrail sync` into another repository writes;
//   memory: RSS (/proc/PID/status) of a watch of `objects` ConfigMaps sampled every 2 s over `minutes` of churn
//     (`churn-rate`/s: updates, deletions and re-creations), then the same subtree comparison.
// Results: bench/results/watch-<day>.json and a Markdown table on stdout (bench/README.md, "Watch mode").
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readEnvFile } from '../test/env/global-setup.ts';
import { resolveAccess } from '../src/kube/access.ts';
import { createKubeClient, type KubeClient } from '../src/kube/client.ts';
import { mapLimit } from '../src/util/map-limit.ts';
import { NODE_FLAGS, shippedEnv } from './shipped.ts';
import { benchNamespace, configMap, loadConfigMaps, payload } from './load.ts';
import { checkWindows, latencies, quantile, slope, type SeenCommit, type Write } from './watch-check.ts';

const { values } = parseArgs({ options: {
  objects: { type: 'string', default: '50000' }, minutes: { type: 'string', default: '30' }, 'churn-rate': { type: 'string', default: '20' },
  rate: { type: 'string', default: '50' }, seconds: { type: 'string', default: '60' }, 'churn-objects': { type: 'string', default: '1000' },
  'commit-interval': { type: 'string', default: '10' }, only: { type: 'string', default: '' },
  // Node flags for the watch processes, e.g. `"--watch-node-flags=--cpu-prof --cpu-prof-dir /tmp/p --trace-gc"` (with
  // --trace-gc the JS heap after each full GC is recorded too).
  'watch-node-flags': { type: 'string', default: '' },
} });
const COMMIT_INTERVAL = Number(values['commit-interval']);
const root = new URL('..', import.meta.url).pathname;
const work = join(root, 'bench/work-watch');
const log = (s: string) => process.stderr.write(`bench watch: ${s}\n`);
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const CLUSTER = 'bench';

/** A seeded generator: the same churn every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface RssSample { atMs: number; rssMB: number; hwmMB: number; anonMB: number }
function readRss(pid: number): RssSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    return { atMs: now(), rssMB: kb('VmRSS'), hwmMB: kb('VmHWM'), anonMB: kb('RssAnon') };
  } catch {
    return undefined;
  }
}

/** `kubetrail watch` in its own process: the commits it reports (with when they appeared) and its RSS over time. */
function startWatch(configFile: string) {
  const extra = values['watch-node-flags'] ? values['watch-node-flags'].split(' ') : [];
  const proc: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, ...extra, join(root, 'src/cli.ts'), 'watch', '--config', configFile,
    '--commit-interval', String(COMMIT_INTERVAL), '--discovery-interval', '60'],
  { env: { ...process.env, ...shippedEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  const commits: Array<{ sha: string; atMs: number; line: string }> = [];
  const rss: RssSample[] = [];
  const heap: Array<{ atMs: number; liveMB: number; committedMB: number }> = [];
  let watchingAt: number | undefined;
  let stderr = '';
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const at = now();
    const m = new RegExp(`^${CLUSTER}: ([0-9a-f]{10}) `).exec(line);
    if (m) commits.push({ sha: m[1], atMs: at, line });
    else if (/Mark-Compact/.test(line)) {
      const g = /-> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
      if (g) heap.push({ atMs: at, liveMB: Number(g[1]), committedMB: Number(g[2]) });
    }
    else if (line.startsWith(`${CLUSTER}: watching`)) watchingAt = at;
  });
  proc.stderr!.on('data', (c) => { stderr += c; });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const sampler = setInterval(() => { const s = readRss(proc.pid!); if (s) rss.push(s); }, 2000);
  return {
    proc, commits, rss, heap, get watchingAt() { return watchingAt; }, get stderr() { return stderr; },
    async watching(timeoutMs: number) {
      const until = now() + timeoutMs;
      while (watchingAt === undefined) {
        if (proc.exitCode !== null || now() > until) throw new Error(`the watch did not start: exit ${proc.exitCode}\n${stderr}`);
        await sleep(200);
      }
    },
    /** SIGTERM: the watch commits what is pending and exits; returns its exit code. */
    async stop(): Promise<number | null> {
      const last = readRss(proc.pid!);
      if (last) rss.push(last);
      clearInterval(sampler);
      proc.kill('SIGTERM');
      return await exited;
    },
  };
}

const git = (gitDir: string, args: string[], input?: string) =>
  execFileSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, input });

/** The cluster's subtree in a fresh `kubetrail sync` into another repository against the watch's: equal tree ids, or the paths that differ. */
function compareWithFreshSync(watchRepo: string, name: string) {
  const repo = join(work, `${name}-fresh-sync`);
  const config = join(work, `${name}-fresh-sync.yaml`);
  writeConfig(config, repo);
  const started = now();
  const r = spawnSync(process.execPath, [...NODE_FLAGS, join(root, 'src/cli.ts'), 'sync', '--config', config], { encoding: 'utf8', env: { ...process.env, ...shippedEnv() } });
  if (r.status !== 0) throw new Error(`fresh sync failed: ${r.stderr}`);
  const tree = (gitDir: string) => git(gitDir, ['rev-parse', `HEAD:clusters/${CLUSTER}`]).trim();
  const files = (gitDir: string) => new Map(git(gitDir, ['ls-tree', '-r', `HEAD:clusters/${CLUSTER}`]).trim().split('\n')
    .map((l) => { const [meta, path] = l.split('\t'); return [path, meta.split(' ')[2]] as const; }));
  const watched = files(watchRepo);
  const fresh = files(repo);
  const differing = [...new Set([...watched.keys(), ...fresh.keys()])].filter((p) => watched.get(p) !== fresh.get(p));
  return { watchTree: tree(watchRepo), freshTree: tree(repo), equal: tree(watchRepo) === tree(repo), files: fresh.size, differing: differing.slice(0, 20), differingCount: differing.length, freshSyncMs: now() - started };
}

function writeConfig(file: string, repo: string) {
  writeFileSync(file, `repo: ${repo}\nbare: true\nclusters:\n  - id: ${CLUSTER}\n    kubeconfig: ${process.env.KUBECONFIG}\n`);
}

/** Each commit's recorded `rev` of every ConfigMap in `namespace` (rev: r<seq>). */
function recordedValues(gitDir: string, shas: string[], namespace: string): Array<Map<string, number | undefined>> {
  const dir = `clusters/${CLUSTER}/core.v1.ConfigMap/${namespace}/`;
  const trees = shas.map((sha) => new Map(git(gitDir, ['ls-tree', '-r', sha, dir]).trim().split('\n').filter(Boolean)
    .map((l) => { const [meta, path] = l.split('\t'); return [path.slice(dir.length).replace(/\.yaml$/, ''), meta.split(' ')[2]] as const; })));
  const blobs = [...new Set(trees.flatMap((t) => [...t.values()]))];
  const out = execFileSync('git', [`--git-dir=${gitDir}`, 'cat-file', '--batch'], { input: blobs.join('\n') + '\n', maxBuffer: 1 << 30 });
  const revOf = new Map<string, number | undefined>();
  let at = 0;
  for (const id of blobs) {
    const nl = out.indexOf(10, at);
    const size = Number(out.subarray(at, nl).toString().split(' ')[2]);
    const text = out.subarray(nl + 1, nl + 1 + size).toString('utf8');
    at = nl + 1 + size + 1;
    const m = /^\s+rev: "?r(\d+)"?$/m.exec(text);
    revOf.set(id, m ? Number(m[1]) : undefined);
  }
  return trees.map((t) => new Map([...t].map(([name, blob]) => [name, revOf.get(blob)])));
}

const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;

async function latencyAndLoss(client: KubeClient) {
  const ns = 'churn';
  const n = Number(values['churn-objects']);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  await client.request('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: ns } } });
  const body = (i: number, seq: number) => ({ metadata: { name: `churn-${i}`, namespace: ns }, data: { ...payload(i), rev: `r${seq}` } });
  await mapLimit(Array.from({ length: n }, (_, i) => i), 32, async (i) => {
    const res = await client.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: body(i, 0) });
    if (res.status !== 201) throw new Error(`create churn-${i}: ${res.status}`);
  });
  const repo = join(work, 'latency-repo');
  const config = join(work, 'latency.yaml');
  writeConfig(config, repo);
  const watch = startWatch(config);
  await watch.watching(120_000);
  log(`latency: watching; ${rate} changes/s for ${seconds} s across ${n} ConfigMaps`);

  // One write every 1/rate s, on time whatever the answers take; never two at once on one object, so the
  // order of an object's values is the order of its writes.
  const next = random(19);
  const writes: Write[] = [];
  const busy = new Set<number>();
  const pending: Promise<void>[] = [];
  let failed = 0;
  let late = 0;
  const t0 = now();
  for (let k = 0; k < rate * seconds; k++) {
    const due = t0 + (k * 1000) / rate;
    if (now() - due > 100) late++;
    await sleep(due - now());
    let i = Math.floor(next() * n);
    while (busy.has(i)) i = (i + 1) % n;
    busy.add(i);
    const seq = k + 1;
    const sentMs = now();
    pending.push(client.sendJSON('PUT', cmPath(ns, `churn-${i}`), body(i, seq))
      .then(() => { writes.push({ name: `churn-${i}`, seq, sentMs, ackMs: now() }); }, () => { failed++; })
      .finally(() => busy.delete(i)));
  }
  await Promise.all(pending);
  const driveMs = now() - t0;
  const lastAck = Math.max(...writes.map((w) => w.ackMs));
  log(`latency: ${writes.length} writes acknowledged in ${(driveMs / 1000).toFixed(1)} s (${failed} failed); waiting for the last windows`);
  while (!watch.commits.some((c) => c.atMs > lastAck)) await sleep(500);
  await sleep((COMMIT_INTERVAL + 3) * 1000); // a window that would still commit something has done so by now
  const exitCode = await watch.stop();

  const shas = watch.commits.map((c) => c.sha);
  const recorded = recordedValues(repo, shas, ns);
  const commits: SeenCommit[] = watch.commits.map((c, j) => ({ sha: c.sha, atMs: c.atMs, values: recorded[j] }));
  const initial = new Map(Array.from({ length: n }, (_, i) => [`churn-${i}`, 0]));
  const mismatches = checkWindows(initial, writes, commits);
  const lat = latencies(writes, commits);
  const fresh = compareWithFreshSync(repo, 'latency');
  const windows = commits.slice(1).map((c, j) => c.atMs - commits[j].atMs);
  return {
    churnObjects: n, rate, seconds, commitIntervalS: COMMIT_INTERVAL,
    writes: writes.length, failedWrites: failed, lateWrites: late, achievedRate: writes.length / (driveMs / 1000),
    commits: commits.length - 1, windowMs: { min: Math.min(...windows), max: Math.max(...windows) },
    windowsMs: windows.map(Math.round),
    latencyMs: { p50: quantile(lat.ms, 0.5), p99: quantile(lat.ms, 0.99), max: Math.max(...lat.ms), targetP99: (COMMIT_INTERVAL + 2) * 1000 },
    lost: lat.lost.length, mismatches: mismatches.length, mismatchExamples: mismatches.slice(0, 10),
    exitCode, freshSync: fresh, peakRssMB: Math.max(...watch.rss.map((s) => s.hwmMB)),
  };
}

async function memory(client: KubeClient) {
  const n = Number(values.objects);
  const minutes = Number(values.minutes);
  const rate = Number(values['churn-rate']);
  await loadConfigMaps(client, n, 0, log);
  const repo = join(work, 'memory-repo');
  const config = join(work, 'memory.yaml');
  writeConfig(config, repo);
  const watch = startWatch(config);
  await watch.watching(600_000);
  const watched = git(repo, ['ls-tree', '-r', '--name-only', `HEAD:clusters/${CLUSTER}`]).trim().split('\n').length;
  const afterInitial = readRss(watch.proc.pid!)!;
  log(`memory: watching ${watched} objects, RSS ${afterInitial.rssMB.toFixed(0)} MB (peak ${afterInitial.hwmMB.toFixed(0)} MB); churn ${rate}/s for ${minutes} min`);

  // Updates mostly; one change in ten deletes the object, or creates it again when it is gone.
  const next = random(50);
  const gone = new Uint8Array(n);
  const busy = new Set<number>();
  const pending = new Set<Promise<void>>();
  const counts = { updated: 0, deleted: 0, created: 0, failed: 0 };
  const t0 = now();
  const total = Math.round(rate * minutes * 60);
  for (let k = 0; k < total; k++) {
    await sleep(t0 + (k * 1000) / rate - now());
    let i = Math.floor(next() * n);
    while (busy.has(i)) i = (i + 1) % n;
    busy.add(i);
    const ns = benchNamespace(i);
    const kind = gone[i] ? 'created' : next() < 0.1 ? 'deleted' : 'updated';
    const request = kind === 'created' ? client.sendJSON('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(i))
      : kind === 'deleted' ? client.sendJSON('DELETE', cmPath(ns, `config-${i}`))
        : client.sendJSON('PUT', cmPath(ns, `config-${i}`), configMap(i, { ...payload(i), rev: `r${k}` }));
    const p: Promise<void> = request.then(() => { counts[kind]++; gone[i] = kind === 'deleted' ? 1 : 0; }, () => { counts.failed++; })
      .finally(() => { busy.delete(i); pending.delete(p); });
    pending.add(p);
    if (k % (rate * 60) === 0 && k) {
      const s = watch.rss.at(-1);
      log(`memory: ${Math.round(k / rate / 60)} min, RSS ${s?.rssMB.toFixed(0)} MB, ${watch.commits.length} commits`);
    }
  }
  await Promise.all(pending);
  const churnEnd = now();
  await sleep((2 * COMMIT_INTERVAL + 3) * 1000);
  const exitCode = await watch.stop();
  const during = watch.rss.filter((s) => s.atMs >= t0 && s.atMs <= churnEnd);
  const rssOf = (xs: RssSample[]) => xs.map((s) => s.rssMB);
  const perHour = (xs: RssSample[]) => slope(xs.map((s) => ({ x: (s.atMs - t0) / 3_600_000, y: s.rssMB })));
  const secondHalf = during.filter((s) => s.atMs >= t0 + (churnEnd - t0) / 2);
  const fresh = compareWithFreshSync(repo, 'memory');
  return {
    objects: n, watched, minutes, churnRate: rate, churnSeconds: (churnEnd - t0) / 1000, achievedRate: (counts.updated + counts.deleted + counts.created) / ((churnEnd - t0) / 1000), changes: counts, commits: watch.commits.length - 1, exitCode,
    afterInitialSync: { rssMB: afterInitial.rssMB, peakMB: afterInitial.hwmMB },
    churn: {
      minMB: Math.min(...rssOf(during)), maxMB: Math.max(...rssOf(during)), lastMB: during.at(-1)?.rssMB, firstMB: during[0]?.rssMB,
      slopeMBPerHour: perHour(during), secondHalfSlopeMBPerHour: perHour(secondHalf), peakMB: Math.max(...watch.rss.map((s) => s.hwmMB)),
      anonFirstMB: during[0]?.anonMB, anonLastMB: during.at(-1)?.anonMB,
      heapAfterFullGcMB: watch.heap.filter((h) => h.atMs >= t0).map((h) => ({ s: Math.round((h.atMs - t0) / 1000), live: h.liveMB, committed: h.committedMB })),
    },
    samples: watch.rss.map((s) => ({ s: Math.round((s.atMs - t0) / 1000), rss: Math.round(s.rssMB * 10) / 10 })).filter((_, k) => k % 15 === 0),
    freshSync: fresh,
  };
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
log('starting the test apiserver');
execFileSync('bash', [join(root, 'test/env/up.sh'), join(work, 'env')], { stdio: ['ignore', 'ignore', 'inherit'] });
const env = readEnvFile(join(work, 'env/env'));
process.env.KUBECONFIG = env.KUBECONFIG;
const client = createKubeClient(CLUSTER, resolveAccess({ id: CLUSTER, kubeconfig: env.KUBECONFIG } as never, {}));
const results: Record<string, any> = { date: new Date().toISOString(), machine: `${(await import('node:os')).cpus().length} cores`, node: process.version };
try {
  if (values.only !== 'memory') results.latency = await latencyAndLoss(client);
  if (values.only !== 'latency') results.memory = await memory(client);
} finally {
  execFileSync('bash', [join(root, 'test/env/down.sh'), join(work, 'env')]);
  rmSync(work, { recursive: true, force: true });
}
writeFileSync(join(root, `bench/results/watch-${results.date.slice(0, 10)}.json`), JSON.stringify(results, null, 2) + '\n');

const rows: string[][] = [];
const L = results.latency;
if (L) {
  rows.push([`change-to-commit latency, ${L.rate} changes/s × ${L.seconds} s across ${L.churnObjects} objects`, `p50 ${(L.latencyMs.p50 / 1000).toFixed(1)} s, p99 ${(L.latencyMs.p99 / 1000).toFixed(1)} s (max ${(L.latencyMs.max / 1000).toFixed(1)} s)`,
    `p99 ≤ ${COMMIT_INTERVAL + 2} s`, `${L.writes} writes acknowledged (${L.achievedRate.toFixed(1)}/s, ${L.failedWrites} failed), ${L.commits} commits, windows ${(L.windowMs.min / 1000).toFixed(1)}-${(L.windowMs.max / 1000).toFixed(1)} s apart; peak RSS ${L.peakRssMB.toFixed(0)} MB`]);
  rows.push(['loss: commits not matching the write log', `${L.mismatches} values, ${L.lost} writes never committed`, '0', 'each commit\'s value of every object held at some instant between the previous commit and it']);
  rows.push(['loss: final commit vs a fresh `kubetrail sync`', L.freshSync.equal ? 'same subtree id' : `${L.freshSync.differingCount} files differ`, 'same id', `${L.freshSync.files} files; watch exit code ${L.exitCode}`]);
}
const M = results.memory;
if (M) {
  rows.push([`RSS watching ${M.watched} objects, ${M.minutes} min of churn at ${M.churnRate}/s`, `min ${M.churn.minMB.toFixed(0)} / max ${M.churn.maxMB.toFixed(0)} / last ${M.churn.lastMB.toFixed(0)} MB`, '≤ 220 MB, flat',
    `slope ${M.churn.slopeMBPerHour.toFixed(1)} MB/h (second half ${M.churn.secondHalfSlopeMBPerHour.toFixed(1)} MB/h); peak ${M.churn.peakMB.toFixed(0)} MB (initial sync ${M.afterInitialSync.peakMB.toFixed(0)} MB); ${M.achievedRate.toFixed(1)}/s achieved: ${M.changes.updated} updated, ${M.changes.deleted} deleted, ${M.changes.created} created, ${M.changes.failed} failed; ${M.commits} commits`]);
  rows.push(['loss at scale: final commit vs a fresh `kubetrail sync`', M.freshSync.equal ? 'same subtree id' : `${M.freshSync.differingCount} files differ`, 'same id', `${M.freshSync.files} files; watch exit code ${M.exitCode}`]);
}
console.log(`| measurement | result | target | notes |\n|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
